"""Request hooks of the engine."""

from __future__ import annotations

from .services import user_language_remember

SESSION_KEY = "workflow_language_remembered"


class RememberLanguageMiddleware:
    """Keeps each user's language (from the browser, or as they switched it) on record,
    once per session and change, so that e-mails sent later use it. Runs after
    LocaleMiddleware and AuthenticationMiddleware. Requests with an API token are a
    system's, not a person's choice of language, and keep no session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        language = getattr(request, "LANGUAGE_CODE", "")
        if (
            user is not None
            and user.is_authenticated
            # A system calling the API with a token has no session to keep it in.
            and getattr(request, "api_token", None) is None
            and language
            and request.session.get(SESSION_KEY) != language
        ):
            user_language_remember(user=user, language=language)
            request.session[SESSION_KEY] = language
        return response
