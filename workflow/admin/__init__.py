"""Admin pieces of the engine that a governed model's admin builds on.

A governed model's ModelAdmin inherits `GovernedModelAdmin` and names its services;
its parameters and workflow pages are proxies of `ApprovalSettings` and `Workflow`
registered with `ApprovalSettingsAdmin` and `WorkflowAdmin`. Pages only read the
request, call a service and report the outcome: the rules live in services.
"""

from __future__ import annotations

from .access import GroupAccessAdmin, UserAccessAdmin
from .audit_chain import AuditVerificationAdmin
from .definitions import WorkflowAdmin
from .exports import LabelledExportMixin
from .governed import GovernedModelAdmin
from .lockouts import PausedSignInAdmin
from .outbox import OutboxMessageAdmin
from .parameters import ApprovalSettingsAdmin
from .reports import AuditReportAdmin
from .tokens import ApiTokenAdmin
from .work_items import AuditEntryAdmin, ChangeProposalAdmin, WorkItemAdmin

__all__ = [
    "ApiTokenAdmin",
    "ApprovalSettingsAdmin",
    "AuditEntryAdmin",
    "AuditReportAdmin",
    "AuditVerificationAdmin",
    "ChangeProposalAdmin",
    "GovernedModelAdmin",
    "GroupAccessAdmin",
    "LabelledExportMixin",
    "OutboxMessageAdmin",
    "PausedSignInAdmin",
    "UserAccessAdmin",
    "WorkItemAdmin",
    "WorkflowAdmin",
]
