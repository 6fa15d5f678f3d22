"""Make an API token for a user from the shell; prints its key, which is not stored."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow.services import tokens as token_services


class Command(BaseCommand):
    help = (
        "Make an API token with which a system calls the API as USER; prints the key "
        "once (only its digest is stored). Administrators also make and revoke tokens "
        "on the API tokens page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="The user name the API acts as.")
        parser.add_argument("name", help="Which system uses it (the audit names it).")

    def handle(self, *args, user: str, name: str, **options) -> None:
        account = get_user_model()._default_manager.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user is named {user}.")
        try:
            _token, key = token_services.api_token_create(
                user=account, name=name, actor=None
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(key)
