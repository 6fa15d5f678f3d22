"""What the application remembers of a user beyond Django's own user record."""

from __future__ import annotations

from django.conf import settings

from ..models import UserLanguage


def user_language_remember(*, user, language: str) -> None:
    """Remember the language `user` works in; e-mails to them are written in it."""
    if language not in dict(settings.LANGUAGES):
        return
    UserLanguage.objects.update_or_create(user=user, defaults={"language": language})
