"""Reads of the bank-detail controls: the warnings of a proposal in words, the numbers
a call-back may ring, the verified status of records, and the warnings report."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from . import registry
from .core.bank import BankWarning, FoundWarning, bank_warnings
from .models import (
    BankAccountStatus,
    CallbackVerification,
    ChangeProposal,
    ProposalState,
)
from .selectors_facts import bank_facts, callback_numbers
from .selectors_reports import ReportFilter

# The most proposals one warnings report reads (a period's bank-account changes).
REPORT_MAX_PROPOSALS = 10_000


def warning_text(found: FoundWarning) -> str:
    """One warning as the approver reads it."""
    if found.kind == BankWarning.DUPLICATE:
        return _("This IBAN is already the bank account of %(records)s.") % {
            "records": ", ".join(found.detail)
        }
    if found.kind == BankWarning.COUNTRY:
        return _(
            "The IBAN is from %(iban_country)s, but the record's country is "
            "%(country)s."
        ) % {"iban_country": found.detail[0], "country": found.detail[1]}
    if found.kind == BankWarning.REPEATED:
        return _(
            "The bank account was changed several times recently: this would be "
            "change %(count)s within %(days)s days."
        ) % {"count": found.count, "days": found.detail[0]}
    if found.kind == BankWarning.RECENT:
        return _(
            "The bank account was changed recently, within the last %(days)s days."
        ) % {"days": found.detail[0]}
    if found.kind == BankWarning.CONTACT_RECENT:
        return _(
            "%(fields)s changed shortly before this proposal (within %(days)s days) "
            "or since: a number on file may already be the fraudster's."
        ) % {"fields": ", ".join(found.detail), "days": found.days}
    return _(
        "The same proposal also changes %(fields)s: whoever changes the contact "
        "details can take the call-back themselves."
    ) % {"fields": ", ".join(found.detail)}


def proposal_bank_warnings(proposal: ChangeProposal) -> list[str]:
    """The signs of fraud in the bank account `proposal` changes, in words."""
    facts = bank_facts(proposal)
    if facts is None:
        return []
    return [warning_text(w) for w in bank_warnings(facts)]


def is_callback_step(proposal: ChangeProposal) -> bool:
    step = proposal.current_step
    return (
        proposal.state == ProposalState.PENDING
        and step is not None
        and step.kind == "callback"
    )


def callback_choices(proposal: ChangeProposal) -> tuple[str, ...]:
    """The numbers the verifier may call: those on file before the change."""
    return callback_numbers(proposal)


def proposal_callbacks(proposal: ChangeProposal) -> QuerySet[CallbackVerification]:
    return CallbackVerification.objects.filter(proposal=proposal).select_related(
        "verifier", "work_item__step"
    )


def bank_status_of(record: models.Model) -> BankAccountStatus | None:
    """The verified status of `record`'s bank account, or None if never changed."""
    governed = registry.get(record)
    if governed.bank is None:
        return None
    return BankAccountStatus.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        field_name=governed.bank.account_field,
    ).first()


def bank_statuses(model: type, ids: list[int]) -> dict[int, BankAccountStatus]:
    """The statuses of many records' bank accounts, by record id, in one query."""
    governed = registry.get(model)
    if governed.bank is None:
        return {}
    return {
        s.object_id: s
        for s in BankAccountStatus.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=ids,
            field_name=governed.bank.account_field,
        )
    }


def bank_statuses_all(model: type) -> dict[int, BankAccountStatus]:
    """The status of every record of `model` whose bank account changed, by id."""
    governed = registry.get(model)
    if governed.bank is None:
        return {}
    return {
        s.object_id: s
        for s in BankAccountStatus.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            field_name=governed.bank.account_field,
        )
    }


def verified_record_ids(model: type) -> QuerySet[BankAccountStatus, Any]:
    """The ids of the records whose bank account is verified now."""
    governed = registry.get(model)
    account_field = governed.bank.account_field if governed.bank else ""
    return BankAccountStatus.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        field_name=account_field,
        verified=True,
    ).values("object_id")


# --- The report ----------------------------------------------------------------------


@dataclass
class WarningRow:
    proposal: ChangeProposal
    record: str
    model: str
    state: str
    submitted_by: str
    submitted_at: datetime.datetime | None
    old: str
    new: str
    warnings: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)


def bank_warning_rows(flt: ReportFilter) -> list[WarningRow]:
    """Every proposal submitted in the period that changes a bank account and shows
    a sign of fraud, newest first, with its warnings and call-backs."""
    rows = []
    by_type = {
        ct.pk: g
        for ct, g in (
            (ContentType.objects.get_for_model(g.model), g)
            for g in registry.all_governed()
            if g.bank is not None
        )
    }
    if flt.content_type_id is not None:
        by_type = {k: v for k, v in by_type.items() if k == flt.content_type_id}
    proposals = (
        ChangeProposal.objects.filter(
            content_type_id__in=list(by_type),
            submitted_at__gte=flt.period.start,
            submitted_at__lt=flt.period.end,
        )
        .select_related("submitted_by", "content_type", "current_step")
        .prefetch_related("changes", "callbacks__verifier")
        .order_by("-submitted_at", "-id")
    )
    if flt.record:
        proposals = proposals.filter(object_repr__icontains=flt.record)
    for proposal in proposals[:REPORT_MAX_PROPOSALS]:
        governed = by_type[proposal.content_type_id]
        assert governed.bank is not None
        change = next(
            (
                c
                for c in proposal.changes.all()
                if c.field_name == governed.bank.account_field
            ),
            None,
        )
        if change is None:
            continue
        warnings = proposal_bank_warnings(proposal)
        if not warnings:
            continue
        model_field = registry.concrete_field(
            governed.model, governed.bank.account_field
        )
        rows.append(
            WarningRow(
                proposal=proposal,
                record=proposal.object_repr,
                model=str(governed.model._meta.verbose_name).capitalize(),
                state=proposal.get_state_display(),
                submitted_by=proposal.submitted_by.get_username()
                if proposal.submitted_by
                else "",
                submitted_at=proposal.submitted_at,
                old=registry.display_value(model_field, change.original_value),
                new=registry.display_value(model_field, change.proposed_value),
                warnings=warnings,
                callbacks=[
                    _("%(who)s called %(phone)s, reached %(person)s: %(outcome)s")
                    % {
                        "who": c.verifier.get_username(),
                        "phone": c.phone_called,
                        "person": c.person_reached,
                        "outcome": c.get_outcome_display(),
                    }
                    for c in proposal.callbacks.all()
                ],
            )
        )
    return rows
