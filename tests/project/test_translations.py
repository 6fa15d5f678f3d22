"""Every text of the interface has its Dutch translation, and Dutch is what a Dutch
browser gets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "nl" / "LC_MESSAGES" / "django.po"
SOURCES = ["custapproval", "customers", "workflow", "templates"]


@pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="needs GNU gettext (apt-get install gettext) to extract the texts",
)
def test_every_text_of_the_interface_has_a_dutch_translation(tmp_path, monkeypatch):
    """Extracts the texts from the code as `make messages` does, merges them into a copy
    of the Dutch catalogue, and fails on any text without a Dutch translation."""
    for name in SOURCES:
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "locale" / "nl" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(CATALOGUE, tmp_path / "locale" / "nl" / "LC_MESSAGES" / "django.po")
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command(
            "makemessages", locale=["nl"], symlinks=True, no_obsolete=True, verbosity=0
        )
    merged = polib.pofile(str(tmp_path / "locale" / "nl" / "LC_MESSAGES" / "django.po"))
    missing = [
        f"{entry.msgid!r} ({entry.occurrences[0][0] if entry.occurrences else '?'})"
        for entry in merged
        if not entry.obsolete and (not entry.translated() or entry.fuzzy)
    ]
    assert missing == [], (
        f"{len(missing)} texts have no Dutch translation in {CATALOGUE.relative_to(ROOT)}"
        " (run `make messages` and translate them): " + "; ".join(missing[:20])
    )
    assert len(merged) > 300


def test_the_dutch_catalogue_keeps_every_placeholder():
    """A translation that drops or renames %(name)s would crash or mislead at run time."""
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]|\{\{ ?\w+ ?\}\}|\{\w+\}")
    broken = []
    for entry in polib.pofile(str(CATALOGUE)):
        pairs = (
            [(entry.msgid, entry.msgstr)]
            if not entry.msgid_plural
            else [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        )
        for english, dutch in pairs:
            if (
                sorted(set(placeholder.findall(english)))
                != sorted(set(placeholder.findall(dutch)))
                and not entry.msgid_plural
            ):
                broken.append(english)
    assert broken == []


@pytest.mark.django_db
def test_a_dutch_browser_gets_the_dutch_interface(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "nl"
    assert "Mijn werkitems" in response.text


@pytest.mark.django_db
def test_the_user_switches_language_and_it_is_remembered_for_e_mails(client, approver):
    from workflow import selectors

    client.force_login(approver)
    response = client.post(
        reverse("set_language"),
        {"language": "nl", "next": reverse("admin:index")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Mijn werkitems" in page.text
    assert selectors.user_languages([approver.pk]) == {approver.pk: "nl"}

    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    page = client.get(reverse("admin:index"))
    assert "My work items" in page.text
    assert selectors.user_languages([approver.pk]) == {approver.pk: "en"}


def test_the_build_compiles_the_catalogues():
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "make compiles locale/*/LC_MESSAGES/*.po before tests"
    assert os.path.getmtime(compiled) >= os.path.getmtime(CATALOGUE)


@pytest.mark.django_db(transaction=True)
def test_e_mails_reach_each_approver_in_the_language_they_work_in(
    customer, clerk, approver, approver2, approvals_on, active_workflow, mailoutbox
):
    from decimal import Decimal

    from tests.conftest import submit
    from workflow import services

    services.user_language_remember(user=approver, language="nl")
    submit(customer, clerk, credit_limit=Decimal("12345"))

    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects[approver.email].startswith("Goedkeuring nodig: wijzigingen in")
    assert subjects[approver2.email].startswith("Approval needed: changes to")


@pytest.mark.django_db
def test_the_history_reads_in_the_readers_language_whoever_wrote_it(
    client, customer, clerk, approver, approver2, approvals_on, active_workflow
):
    """Field labels and values of the audit trail are shown in the reader's language
    and number format, though the rows were written in English."""
    from decimal import Decimal

    from tests.conftest import submit
    from workflow import services

    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    services.proposal_approve(proposal=proposal, actor=approver)
    client.force_login(clerk)
    url = reverse("admin:customers_customer_history", args=[customer.pk])

    dutch = client.get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Kredietlimiet" in dutch
    assert "25000,00" in dutch and "10000,00" in dutch
    # What the system wrote (in English, here) reads in Dutch too.
    step = active_workflow.steps.get()
    assert f"Verzonden naar {active_workflow}." in dutch
    assert f"Stap “{step}” toegewezen aan approver, approver2." in dutch
    assert f"Toegepast vanuit voorstel {proposal.pk}." in dutch
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Credit limit" in english and "25000.00" in english
    assert f"Sent to {active_workflow}." in english


@pytest.mark.django_db
def test_a_worker_checks_a_file_in_the_language_of_who_uploaded_it(
    clerk, customer, settings, tmp_path
):
    """The worker has no browser: import errors are written in the uploader's language."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import translation

    from customers.models import Customer
    from workflow import services
    from workflow.importing.plan import ImportOptions
    from workflow.tasks import preview_import

    settings.MEDIA_ROOT = tmp_path
    services.user_language_remember(user=clerk, language="nl")
    job = services.import_job_create(
        model=Customer,
        upload=SimpleUploadedFile("f.csv", b"account;name\n;Nameless\n"),
        options=ImportOptions(behaviour="allow"),
        actor=clerk,
    )
    with translation.override("en"):
        preview_import.call(job_id=job.pk)

    job.refresh_from_db()
    assert job.preview["errors"][0]["message"] == "De sleutelkolom is leeg."


@pytest.mark.django_db
def test_the_language_can_be_switched_before_logging_in(client):
    login = reverse("admin:login")
    dutch = client.get(login, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert 'id="language-switch"' in dutch and "Gebruikersnaam" in dutch

    client.post(reverse("set_language"), {"language": "en", "next": login})
    english = client.get(login, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Username" in english


def test_the_dutch_catalogue_defines_each_text_once():
    """Two definitions of one text make gettext's msgfmt refuse the catalogue, and only
    one of them would be used (entries added on two branches can end up doubled)."""
    from collections import Counter

    entries = Counter(
        (entry.msgctxt, entry.msgid)
        for entry in polib.pofile(str(CATALOGUE))
        if not entry.obsolete
    )
    assert [key for key, count in entries.items() if count > 1] == []
