"""Every write of the approval engine. Callers use `from workflow import services`."""

from __future__ import annotations

from .bulk import BulkApproval, proposals_approve_bulk
from .decisions import (
    proposal_approve,
    proposal_callback,
    proposal_recall,
    proposal_reject,
    proposal_request_change,
    proposal_submit,
    work_item_delegate,
    work_item_reassign,
    work_items_escalate_overdue,
)
from .definitions import (
    approval_settings_ensure,
    approval_settings_update,
    auto_approval_rule_delete,
    auto_approval_rule_save,
    workflow_activate,
    workflow_copy,
    workflow_save,
    workflow_step_delete,
    workflow_step_save,
    workflow_steps_save,
)
from .entity import governed_record_update_as_entity
from .import_jobs import (
    import_files_clean_up,
    import_job_recover,
    import_jobs_recover,
)
from .imports import (
    governed_records_import,
    import_job_confirm,
    import_job_create,
    import_job_preview,
    import_job_preview_rows,
    import_job_run,
)
from .outbox import OutboxDelivery, outbox_deliver, outbox_messages_send_again
from .preferences import user_language_remember
from .records import (
    RecordChangeOutcome,
    governed_record_create,
    governed_record_delete,
    governed_record_update,
    proposal_discard,
    proposal_discard_field,
)
from .tallies import dashboard_tallies_compact, dashboard_tallies_recount

__all__ = [
    "user_language_remember",
    "BulkApproval",
    "OutboxDelivery",
    "RecordChangeOutcome",
    "approval_settings_ensure",
    "approval_settings_update",
    "auto_approval_rule_delete",
    "auto_approval_rule_save",
    "governed_record_create",
    "governed_record_delete",
    "governed_record_update",
    "governed_record_update_as_entity",
    "governed_records_import",
    "import_files_clean_up",
    "import_job_confirm",
    "import_job_create",
    "import_job_preview",
    "import_job_preview_rows",
    "import_job_recover",
    "import_job_run",
    "import_jobs_recover",
    "outbox_deliver",
    "outbox_messages_send_again",
    "proposal_approve",
    "proposal_callback",
    "proposals_approve_bulk",
    "proposal_discard",
    "proposal_discard_field",
    "proposal_recall",
    "proposal_reject",
    "proposal_request_change",
    "proposal_submit",
    "work_item_delegate",
    "work_item_reassign",
    "work_items_escalate_overdue",
    "dashboard_tallies_compact",
    "dashboard_tallies_recount",
    "workflow_activate",
    "workflow_copy",
    "workflow_save",
    "workflow_step_delete",
    "workflow_step_save",
    "workflow_steps_save",
]
