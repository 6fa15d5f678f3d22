"""Paused sign-ins: a stranger typing made-up names pauses only those names, never the
office behind the same address below the address limit; the login page says what
happened; administrators see and lift pauses, and the audit trail says who did."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation

from tests.factories import UserFactory
from workflow.exceptions import NO_PERMISSION, PermissionRefused
from workflow.models import AuditAction, AuditEntry, PausedSignIn
from workflow.selectors_lockouts import (
    ADDRESS,
    USER_NAME,
    pause_end,
    sign_in_pauses,
)
from workflow.services.lockouts import SUPERUSER_PAUSE_PROTECTED, sign_in_pause_lift

LOGIN = "/admin/login/"
OFFICE = "192.0.2.10"
ELSEWHERE = "198.51.100.7"
PAGE = "/admin/workflow/pausedsignin/"
LIFT = "/admin/workflow/pausedsignin/lift/"

USER_NAME_PAUSED_EN = "Sign-in with this user name is paused for 15 minutes, until "
USER_NAME_PAUSED_EN_WHY = ", after too many wrong passwords."
ADDRESS_PAUSED_EN = "Sign-in from your network address is paused for 15 minutes, until "
ADDRESS_PAUSED_EN_WHY = (
    ", after too many wrong passwords from it, whatever the user name."
)
ASK_AN_ADMINISTRATOR_EN = "If it is urgent, ask an administrator to lift the pause."
USER_NAME_PAUSED_NL = "Aanmelden met deze gebruikersnaam is 15 minuten gepauzeerd, tot "
USER_NAME_PAUSED_NL_WHY = ", na te veel onjuiste wachtwoorden."
ADDRESS_PAUSED_NL = "Aanmelden vanaf uw netwerkadres is 15 minuten gepauzeerd, tot "
ADDRESS_PAUSED_NL_WHY = (
    ", na te veel onjuiste wachtwoorden vanaf dat adres, met welke gebruikersnaam ook."
)
ASK_AN_ADMINISTRATOR_NL = (
    "Is het dringend, vraag dan een beheerder de pauze op te heffen."
)


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    from axes.utils import reset

    reset()
    yield
    reset()


def sign_in(username, password, *, address=OFFICE, language="en", client=None):
    return (client or Client()).post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def pause_notes(response) -> list[str]:
    """The page's error notes, the time of day left out."""
    notes = re.findall(r'<p class="errornote">(.*?)</p>', response.text, re.S)
    return [re.sub(r"until .*?, ", "until …, ", note.strip()) for note in notes]


def pause(username, times=3, *, address=OFFICE):
    for _ in range(times):
        response = sign_in(username, "wrong", address=address)
    return response


# --- who is paused ---------------------------------------------------------------------


@pytest.mark.django_db
def test_made_up_names_from_one_address_do_not_pause_a_real_user_there(clerk, axes_on):
    """Seven wrong passwords from the office, under the address limit of eight: the
    made-up names are paused, the clerk at the next desk signs in."""
    assert pause("ghost").status_code == 429
    for number in range(4):
        sign_in(f"nobody{number}", "wrong")

    assert signed_in(sign_in("clerk", "pw"))


@pytest.mark.django_db
def test_the_users_own_wrong_passwords_pause_that_user_name_from_every_address(
    clerk, approver, axes_on
):
    pause("clerk")

    elsewhere = sign_in("clerk", "pw", address=ELSEWHERE)
    assert elsewhere.status_code == 429
    assert "_auth_user_id" not in elsewhere.client.session
    # Another user at the same desk is not affected.
    assert signed_in(sign_in("approver", "pw"))


@pytest.mark.django_db
def test_a_made_up_user_name_is_paused_with_the_same_words_as_a_real_one(
    clerk, axes_on
):
    real = pause("clerk")
    made_up = pause("no-such-user")

    assert (real.status_code, made_up.status_code) == (429, 429)
    assert pause_notes(real) == pause_notes(made_up)
    assert pause_notes(real)[0].startswith(USER_NAME_PAUSED_EN)


@pytest.mark.django_db
def test_the_address_limit_pauses_the_address_for_every_user_name(clerk, axes_on):
    for number in range(7):
        assert sign_in(f"guess{number}", "wrong").status_code == 200
    eighth = sign_in("guess7", "wrong")
    assert eighth.status_code == 429
    assert ADDRESS_PAUSED_EN in eighth.text
    assert ADDRESS_PAUSED_EN_WHY in eighth.text

    refused = sign_in("clerk", "pw")
    assert refused.status_code == 429
    assert ADDRESS_PAUSED_EN in refused.text
    assert USER_NAME_PAUSED_EN not in refused.text
    assert signed_in(sign_in("clerk", "pw", address=ELSEWHERE))


@pytest.mark.django_db
def test_a_sign_in_does_not_reset_the_count_of_its_address(approver, axes_on):
    """Someone with an account cannot sign in between guesses to start the address's
    count again: a sign-in forgets only its own user name's wrong passwords."""
    for number in range(7):
        sign_in(f"guess{number}", "wrong")
    assert signed_in(sign_in("approver", "pw"))

    assert sign_in("guess7", "wrong").status_code == 429


@pytest.mark.django_db
def test_tries_during_the_pause_neither_count_nor_prolong_it(clerk, axes_on):
    """The page's "until" holds however often the user tries again meanwhile."""
    pause("clerk")
    (before,) = sign_in_pauses()

    assert sign_in("clerk", "wrong").status_code == 429
    assert sign_in("clerk", "pw").status_code == 429

    (after,) = sign_in_pauses()
    assert (after.failures, after.until) == (3, before.until)
    assert before.until == before.since + datetime.timedelta(minutes=15)


@pytest.mark.django_db
def test_the_pause_ends_after_the_cool_off(clerk, axes_on):
    pause("clerk")
    PausedSignIn.objects.update(
        attempt_time=timezone.now() - datetime.timedelta(minutes=15, seconds=1)
    )

    assert signed_in(sign_in("clerk", "pw"))


def test_a_pause_counted_from_several_rows_ends_when_the_oldest_stop_counting():
    ten = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC)
    minute = datetime.timedelta(minutes=1)
    cool_off = datetime.timedelta(minutes=15)
    rows = [(ten + 5 * minute, 1), (ten, 2), (ten + 2 * minute, 2)]

    # 5 wrong passwords, limit 4: the two at 10:00 stop counting at 10:15, leaving 3.
    assert pause_end(rows, limit=4, cool_off=cool_off) == ten + cool_off
    # Limit 2: 10:00's two leave 3, 10:02's two leave 1 at 10:17.
    assert pause_end(rows, limit=2, cool_off=cool_off) == ten + 17 * minute
    assert pause_end(rows, limit=6, cool_off=cool_off) is None


# --- what the login page says ----------------------------------------------------------


def until_of_the_pause(language: str) -> str:
    """The end of the only pause as the page writes it: 2:05 p.m. or 14:05."""
    (pause,) = sign_in_pauses()
    assert pause.until - pause.since == datetime.timedelta(minutes=15)
    with translation.override(language):
        return formats.time_format(timezone.localtime(pause.until))


@pytest.mark.django_db
def test_the_login_page_says_in_english_why_and_until_when(clerk, axes_on):
    response = pause("clerk")

    assert response.status_code == 429
    assert (
        USER_NAME_PAUSED_EN + until_of_the_pause("en") + USER_NAME_PAUSED_EN_WHY
        in response.text
    )
    assert ASK_AN_ADMINISTRATOR_EN in response.text
    # The admin's styled login page, with the form for another user name.
    assert "<title>Log in | Customer approvals</title>" in response.text
    assert 'id="login-form"' in response.text
    assert 'value="clerk"' in response.text
    assert "Please enter the correct username" not in response.text


@pytest.mark.django_db
def test_the_login_page_says_it_in_dutch(clerk, axes_on):
    for _ in range(3):
        response = sign_in("clerk", "wrong", language="nl")

    assert response.status_code == 429
    assert (
        USER_NAME_PAUSED_NL + until_of_the_pause("nl") + USER_NAME_PAUSED_NL_WHY
        in response.text
    )
    assert ASK_AN_ADMINISTRATOR_NL in response.text
    assert 'id="login-form"' in response.text
    assert "Sign-in" not in response.text


@pytest.mark.django_db
def test_the_address_pause_is_said_in_dutch(axes_on):
    for number in range(8):
        response = sign_in(f"guess{number}", "wrong", language="nl")

    assert response.status_code == 429
    assert ADDRESS_PAUSED_NL in response.text
    assert ADDRESS_PAUSED_NL_WHY in response.text
    assert ASK_AN_ADMINISTRATOR_NL in response.text


# --- the administrators' page ----------------------------------------------------------


@pytest.fixture
def as_admin(approval_admin):
    client = Client()
    client.force_login(approval_admin)
    return client


@pytest.mark.django_db
def test_the_page_lists_paused_user_names_and_addresses(clerk, as_admin, axes_on):
    pause("clerk", address=ELSEWHERE)
    for number in range(8):
        sign_in(f"guess{number}", "wrong")

    page = as_admin.get(PAGE)

    assert page.status_code == 200
    assert [(p.kind, p.key, p.failures) for p in page.context["pauses"]] == [
        (ADDRESS, OFFICE, 8),
        (USER_NAME, "clerk", 3),
    ]
    assert "<td>clerk</td>" in page.text
    assert f"<td>{ELSEWHERE}</td>" in page.text
    assert "Any user name (8 tried)" in page.text
    # Made-up names paused one wrong password each are below the user-name limit.
    assert "guess0" not in page.text
    assert page.text.count('name="kind"') == 2


@pytest.mark.django_db
def test_an_administrator_lifts_a_user_names_pause_and_the_user_signs_in(
    clerk, approval_admin, as_admin, axes_on
):
    pause("clerk")

    response = as_admin.post(LIFT, {"kind": USER_NAME, "key": "clerk"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Sign-in with the user name “clerk” works again."
    ]
    assert response.context["pauses"] == []
    assert signed_in(sign_in("clerk", "pw"))
    entry = AuditEntry.objects.get(action=AuditAction.SIGN_IN_PAUSE_LIFTED)
    assert (entry.actor, entry.object_repr, entry.field_name, entry.old_display) == (
        approval_admin,
        "clerk",
        "username",
        "3 wrong passwords",
    )
    assert entry.old_value == {"failures": 3, "addresses": [OFFICE]}
    assert entry.comment_translations == {
        "en": "The pause of sign-in with the user name “clerk” was lifted: its 3 "
        "wrong passwords no longer count.",
        "nl": "De pauze van het aanmelden met de gebruikersnaam “clerk” is "
        "opgeheven: de 3 onjuiste wachtwoorden tellen niet meer mee.",
    }


@pytest.mark.django_db
def test_an_administrator_lifts_an_addresses_pause(
    clerk, approval_admin, as_admin, axes_on
):
    for number in range(8):
        sign_in(f"guess{number}", "wrong")

    as_admin.post(LIFT, {"kind": ADDRESS, "key": OFFICE})

    assert signed_in(sign_in("clerk", "pw"))
    entry = AuditEntry.objects.get(action=AuditAction.SIGN_IN_PAUSE_LIFTED)
    assert (entry.actor, entry.object_repr, entry.field_name, entry.old_value) == (
        approval_admin,
        OFFICE,
        "ip_address",
        {"failures": 8, "user_names": 8},
    )


@pytest.mark.django_db
def test_lifting_a_pause_that_ended_meanwhile_writes_nothing(as_admin, axes_on):
    response = as_admin.post(LIFT, {"kind": USER_NAME, "key": "clerk"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "“clerk” was no longer paused."
    ]
    assert not AuditEntry.objects.filter(
        action=AuditAction.SIGN_IN_PAUSE_LIFTED
    ).exists()


@pytest.mark.django_db
def test_a_clerk_neither_sees_nor_lifts_pauses(clerk, approver, axes_on):
    pause("approver")
    client = Client()
    client.force_login(clerk)

    assert client.get(PAGE).status_code == 403
    assert client.post(LIFT, {"kind": USER_NAME, "key": "approver"}).status_code == 403
    assert sign_in("approver", "pw").status_code == 429
    assert not AuditEntry.objects.filter(
        action=AuditAction.SIGN_IN_PAUSE_LIFTED
    ).exists()
    assert "pausedsignin" not in client.get(reverse("admin:index")).text


@pytest.mark.django_db
def test_the_lift_needs_a_post_with_the_csrf_token(clerk, approval_admin, axes_on):
    pause("clerk")
    client = Client(enforce_csrf_checks=True)
    client.force_login(approval_admin)

    assert client.get(LIFT, {"kind": USER_NAME, "key": "clerk"}).status_code == 405
    assert client.post(LIFT, {"kind": USER_NAME, "key": "clerk"}).status_code == 403
    assert sign_in("clerk", "pw").status_code == 429


@pytest.mark.django_db
def test_only_a_superuser_lifts_a_superusers_pause(approval_admin, axes_on):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    pause("root")

    with pytest.raises(PermissionRefused) as refused:
        sign_in_pause_lift(actor=approval_admin, kind=USER_NAME, key="root")

    assert refused.value.message == SUPERUSER_PAUSE_PROTECTED % {"user": "root"}
    assert sign_in("root", "pw").status_code == 429
    superuser = UserFactory(username="boss", is_superuser=True, is_staff=True)
    assert sign_in_pause_lift(actor=superuser, kind=USER_NAME, key="root") == 3
    assert signed_in(sign_in("root", "pw"))


@pytest.mark.django_db
def test_the_service_refuses_whoever_lacks_the_permission(clerk, approver, axes_on):
    pause("approver")

    with pytest.raises(PermissionRefused) as refused:
        sign_in_pause_lift(actor=clerk, kind=USER_NAME, key="approver")

    assert refused.value.message == str(NO_PERMISSION)
    assert sign_in("approver", "pw").status_code == 429


@pytest.mark.django_db
def test_django_axes_own_pages_with_the_raw_attempts_are_gone(admin_client):
    with pytest.raises(NoReverseMatch):
        reverse("admin:axes_accessattempt_changelist")
    assert admin_client.get("/admin/axes/accessattempt/").status_code == 404
    assert admin_client.get(PAGE).status_code == 200
    index = admin_client.get(reverse("admin:index")).text
    assert 'href="/admin/workflow/pausedsignin/"' in index
    assert "Paused sign-ins" in index
