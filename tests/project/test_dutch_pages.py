"""A Dutch user reads Dutch on every page they open, as each role.

The catalogue test (test_translations.py) only sees texts that go through gettext.
Texts of Django, django-import-export and other packages, labels made from field
names, permission names stored in English, audit rows written in another language
and hard-coded attributes escape it. This test opens every page the demo's clerk,
approver, finance manager and approval administrator reach by following links from
the home page (and the pages a form post or an upload leads to), in Dutch, and fails
on English words it knows. Data (customer names, descriptions, workflow and step
names, user names, comments people typed) is taken out first: it is in the language
it was typed in.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.urls import Resolver404, resolve, reverse

from customers.models import Customer
from tests.pages import PageText
from workflow.models import AuditEntry, ChangeProposal, ProposedChange

# English words that are no Dutch words, matched whole and without regard to case.
# Left out because Dutch uses them too: account, bank, data, import, item(s), link,
# manager, model, object, of, parameters, record, type, was, workflow(s).
ENGLISH_WORDS = frozenset(
    """
    about accounts action actions add added after all allow already and another any
    approval approvals approve approved approver approvers are assigned back base before
    behavior by can cancel cash change changed changes charges choose city collection
    condition created credit currency customer customers date days decide decided
    decides decreases delete delegate description discount does due each edit email
    enable enabled entity entries entry exclude exempt fees field fields file following
    for forbidden from group groups has have history increases interest invoice list
    mandatory method name need needs new nobody none not number only options others
    payment pending permission please postal proposal proposals proposed rating reassign
    receivable recall recalled reject rejected request requested sales save search
    select selected sent should specification step steps street submit submitted tax
    terms that the their there these this those time until user users value view waiting
    were when which who will with within without work you your
    """.split()
)
# Capitalised, these are labels of an English page; in small letters they are Dutch
# words too ("de export", "het formaat").
ENGLISH_LABELS = frozenset({"Export", "Format", "Source", "Id"})

ROLES = ["clerk", "approver", "manager", "admin"]
# Every page shape reached from the home page is opened this often per role: enough to
# see a record with and without proposals, without opening all fifty customers.
PAGES_PER_SHAPE = 2

# The pages a role must have reached, so that the crawl cannot shrink unnoticed.
MUST_REACH = {
    "clerk": {
        "admin:index",
        "admin:customers_customer_changelist",
        "admin:customers_customer_add",
        "admin:customers_customer_change",
        "admin:customers_customer_history",
        "admin:customers_customer_proposed_changes",
        "admin:customers_customer_export",
        "admin:customers_customer_import",
        "admin:customers_customer_import_job",
        "admin:customers_paymentterms_change",
        "admin:customers_cashdiscount_change",
        "admin:workflow_changeproposal_changelist",
        "admin:workflow_changeproposal_change",
        "admin:workflow_workitem_changelist",
    },
    "approver": {
        "admin:index",
        "admin:workflow_workitem_changelist",
        "admin:customers_customer_workflow",
        "admin:customers_customer_proposed_changes",
        "admin:workflow_changeproposal_change",
        "admin:workflow_auditentry_changelist",
        "admin:workflow_auditentry_change",
    },
    "manager": {
        "admin:index",
        "admin:workflow_workitem_changelist",
        "admin:customers_customer_workflow",
    },
    "admin": {
        "admin:index",
        "admin:customers_accountsreceivableparameters_change",
        "admin:customers_termsofpaymentparameters_change",
        "admin:customers_cashdiscountparameters_change",
        "admin:customers_accountsreceivableworkflow_changelist",
        "admin:customers_accountsreceivableworkflow_change",
        "admin:customers_accountsreceivableworkflow_add",
        "admin:customers_termsofpaymentworkflow_change",
        "admin:customers_cashdiscountworkflow_changelist",
        "admin:workflow_changeproposal_export",
        "admin:auth_user_changelist",
        "admin:auth_user_change",
        "admin:auth_user_add",
        "admin:auth_group_change",
        "admin:workflow_auditentry_changelist",
        "admin:workflow_auditreport_changelist",
        "admin:workflow_auditreport_changes",
        "admin:workflow_auditreport_reconciliation",
        "admin:workflow_auditreport_duties",
        "admin:workflow_auditreport_access",
        "admin:workflow_outboxmessage_changelist",
        "admin:workflow_outboxmessage_change",
    },
}


def data_strings() -> list[str]:
    """What people and the demo typed: names, descriptions, codes, comments. Longest
    first, so that a name is taken out before a part of it."""
    found: set[str] = set()
    skipped = {"contenttypes", "sessions", "admin", "axes", "django_tasks_database"}
    for model in apps.get_models():
        if model._meta.app_label in skipped or model._meta.proxy:
            continue
        if model in (AuditEntry, ProposedChange) or model.__name__ == "Permission":
            continue
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
            and not f.choices
            and not f.name.startswith("password")
        ]
        if names:
            for row in model._default_manager.values_list(*names):
                found.update(value for value in row if value)
    # Comments people typed (the system's own are kept in every language).
    found.update(
        AuditEntry.objects.filter(comment_translations__isnull=True)
        .exclude(comment="")
        .values_list("comment", flat=True)
    )
    for change in ProposedChange.objects.all():
        for value in (change.original_value, change.proposed_value):
            if isinstance(value, str) and value:
                found.add(value)
    return sorted(found, key=len, reverse=True)


def without_data(text: str, data: list[str]) -> str:
    for value in data:
        if value in text:
            text = re.sub(
                rf"(?<!\w){re.escape(value)}(?!\w)", " \N{CURRENCY SIGN} ", text
            )
    return text


def english_words(text: str) -> list[str]:
    found = []
    for match in re.finditer(r"[^\W_]+(?:[’'][^\W\d_]+)*", text):
        word = match.group()
        if any(c.isdigit() for c in word):
            continue
        # Part of an identifier (credit_limit, a file's column): what the file says.
        if (
            text[match.start() - 1 : match.start()] == "_"
            or text[match.end() : match.end() + 1] == "_"
        ):
            continue
        if word.lower() in ENGLISH_WORDS or word in ENGLISH_LABELS:
            found.append(word)
    return found


def context(text: str, word: str) -> str:
    at = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
    start = max(0, at.start() - 50) if at else 0
    return text[start : start + 100 + len(word)]


def url_name(url: str) -> str | None:
    try:
        match = resolve(url.split("?")[0])
    except Resolver404:
        return None
    return f"admin:{match.url_name}" if match.url_name else None


class Crawl:
    """Opens pages in Dutch and keeps what it found on them."""

    def __init__(self, client, data: list[str]) -> None:
        self.client = client
        self.data = data
        self.problems: dict[str, list[str]] = defaultdict(list)
        self.reached: dict[str, set[str]] = defaultdict(set)

    def read(self, role: str, response, url: str) -> PageText:
        page = PageText()
        if "html" in response.headers.get("Content-Type", ""):
            page.feed(response.content.decode())
        where = f"{role} {response.status_code} {url}"
        text = without_data(page.text, self.data)
        for word in english_words(text):
            self.problems[where].append(f"{word!r} in “…{context(text, word)}…”")
        for heading in [page.title, *page.headings]:
            words = without_data(" ".join(heading.split()), self.data).split()
            first = next((w for w in words if w[0].isalpha()), "")
            if first and first[0].islower():
                self.problems[where].append(f"title in small letters: {heading!r}")
        name = url_name(url)
        if name and response.status_code == 200:
            self.reached[role].add(name)
        return page

    def get(self, role: str, url: str) -> PageText:
        response = self.client.get(url, HTTP_ACCEPT_LANGUAGE="nl", follow=True)
        final = response.redirect_chain[-1][0] if response.redirect_chain else url
        return self.read(role, response, final)

    def post(self, role: str, url: str, data: dict) -> PageText:
        response = self.client.post(url, data, HTTP_ACCEPT_LANGUAGE="nl", follow=True)
        final = response.redirect_chain[-1][0] if response.redirect_chain else url
        return self.read(role, response, final)

    def follow_links(self, role: str, start: list[str]) -> None:
        queue = list(start)
        seen: set[str] = set()
        shapes: Counter[str] = Counter()
        while queue:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            shape = re.sub(r"\d+", "N", url)
            shapes[shape] += 1
            if shapes[shape] > PAGES_PER_SHAPE:
                continue
            page = self.get(role, url)
            for link in page.links:
                link = link.split("#")[0].split("?")[0]
                if link.startswith("/admin/") and "logout" not in link:
                    queue.append(link)


def proposal_pages(role: str) -> list[str]:
    """Each proposal of the demo (one in every state) and its record's pages."""
    urls = []
    for proposal in ChangeProposal.objects.select_related("content_type"):
        urls.append(reverse("admin:workflow_changeproposal_change", args=[proposal.pk]))
        opts = proposal.content_type.model_class()._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{prefix}_proposed_changes", args=[proposal.object_id]))
        urls.append(reverse(f"{prefix}_history", args=[proposal.object_id]))
        if role in ("approver", "manager"):
            for action in ("approve", "reject", "request_change", "delegate"):
                urls.append(
                    reverse(f"{prefix}_workflow", args=[proposal.object_id, action])
                )
    return urls


@pytest.mark.django_db
def test_every_page_a_user_opens_reads_in_dutch(client):
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    crawl = Crawl(client, data_strings())
    users = get_user_model().objects

    crawl.get("anonymous", reverse("admin:login"))
    for role in ROLES:
        client.force_login(users.get(username=role))
        crawl.follow_links(role, [reverse("admin:index"), *proposal_pages(role)])

    # What forms say back: validation messages, an import's preview and its errors.
    client.force_login(users.get(username="clerk"))
    crawl.post(
        "clerk",
        reverse("admin:customers_customer_add"),
        {
            "account": "N1",
            "bank_account": "NL91ABNA0417164301",
            "country": "XX",
            "currency": "EUX",
            "credit_limit": "veel",
            "email": "geen adres",
        },
    )
    customer = Customer.objects.get(account="C00001")
    crawl.post(
        "clerk",
        reverse("admin:customers_customer_import"),
        {
            "file": SimpleUploadedFile(
                "klanten.csv",
                (
                    "account;name;credit_limit;bank_account;country\n"
                    f"{customer.account};{customer.name};99;NL91ABNA0417164301;NL\n"
                    f"{customer.account};;12;;XX\n"
                    "N2;Nieuwe klant;abc;;NL\n"
                ).encode(),
            ),
            "behaviour": "propose",
            "decimal_format": "point",
            "encoding": "auto",
            "delimiter": "auto",
        },
    )
    # A page the role may not open says why, on the admin's own page.
    client.force_login(users.get(username="admin"))
    crawl.get("admin", reverse("admin:customers_customer_import"))

    missing = {
        role: sorted(names - crawl.reached[role])
        for role, names in MUST_REACH.items()
        if names - crawl.reached[role]
    }
    assert missing == {}, "the crawl no longer reaches these pages"
    pages_of: dict[str, list[str]] = defaultdict(list)
    for page, problems in sorted(crawl.problems.items()):
        for problem in dict.fromkeys(problems):
            pages_of[problem].append(page)
    report = [
        f"{problem} — on {len(pages)} page(s), such as {pages[0]}"
        for problem, pages in pages_of.items()
    ]
    assert report == [], f"{len(report)} English texts on Dutch pages:\n" + "\n".join(
        report
    )
