from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Accounts receivable")

    def ready(self) -> None:
        from workflow import registry

        from .models import Customer

        registry.register(
            Customer,
            labels=registry.GovernedModelLabels(
                parameters=_("Accounts receivable parameters"),
                approval_section=_("Customer approval"),
                enable_approvals=_("Enable customer approvals"),
                workflows=_("Accounts receivable workflows"),
                workflow_type=_("Proposed customer change workflow"),
                approval_step=_("Workflow approval for proposed customer change"),
            ),
            business_key="account",
            import_required_columns=("account", "name"),
        )
