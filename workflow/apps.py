from __future__ import annotations

from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

SITE_URL_MISSING = (
    "Set SITE_URL to the address people open the site at, such as "
    "https://approvals.example.com: the links in e-mails are built from it."
)


def check_site_url(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """E-mails link to SITE_URL; without a real one every link in them is broken."""
    url = urlsplit(settings.SITE_URL)
    if url.scheme in ("http", "https") and url.netloc:
        return []
    return [checks.Warning(SITE_URL_MISSING, id="workflow.W001")]


def create_cache_table(using: str = "default", **kwargs) -> None:
    """A database cache (CACHE_URL=db://…, production's default) gets its table with
    every `migrate`, run as the owner like the migrations; other caches need none."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Approval workflow")

    def ready(self) -> None:
        from django_tasks.signals import task_finished

        from . import enforcement, logs

        checks.register(check_site_url, deploy=True)

        # The database guards of governed tables follow every migration; the rules
        # they enforce stay in the decision core.
        post_migrate.connect(
            enforcement.install_after_migrate,
            sender=self,
            dispatch_uid="workflow.install_database_guards",
        )
        post_migrate.connect(
            create_cache_table, sender=self, dispatch_uid="workflow.create_cache_table"
        )
        task_finished.connect(logs.log_task_finished, dispatch_uid="workflow.log_task")
