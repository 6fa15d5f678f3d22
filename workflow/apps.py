from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Approval workflow")

    def ready(self) -> None:
        from . import enforcement

        # The database guards of governed tables follow every migration; the rules
        # they enforce stay in the decision core.
        post_migrate.connect(
            enforcement.install_after_migrate,
            sender=self,
            dispatch_uid="workflow.install_database_guards",
        )
