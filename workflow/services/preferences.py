"""What the application remembers of a user beyond Django's own user record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from ..models import UserLanguage

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User


def user_language_remember(*, user: User, language: str) -> None:
    """Remember the language `user` works in; e-mails to them are written in it."""
    if language not in dict(settings.LANGUAGES):
        return
    UserLanguage.objects.update_or_create(user=user, defaults={"language": language})
