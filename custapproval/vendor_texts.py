"""Texts of Django and of the packages we use that their Dutch catalogues lack.

Our catalogue comes before theirs (LOCALE_PATHS), so a translation here is the one a
Dutch user reads. They are listed with gettext_noop so that `make messages` keeps
them in locale/nl and the catalogue test asks for their translation; nothing imports
this module.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

TEXTS = [
    # Django 5.2's admin: the headers of the model lists that screen readers read.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop(
        "After you’ve created a user, you’ll be able to edit more user options."
    ),
    # django-import-export's export page (its Dutch is missing or wrong there).
    gettext_noop("This exporter will export the following fields: "),
    gettext_noop("Select all"),
    # The models of django-axes and django-tasks, named in the model filters and in
    # the permissions a superuser sees.
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
]
