from __future__ import annotations

import pytest

from tests.conftest import let_decreases_pass, make_workflow
from tests.factories import UserFactory

HEADER = "account;name;customer_group;credit_limit;bank_account;payment_terms;phone\n"


@pytest.fixture
def importer(roles):
    user = UserFactory(username="importer")
    user.groups.add(roles["Clerks"])
    return user


@pytest.fixture
def write_file(tmp_path):
    def write(text: str, name: str = "customers.csv", encoding: str = "utf-8") -> str:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return str(path)

    return write


@pytest.fixture
def uploads(settings, tmp_path):
    """Where the Import page keeps uploads in this test; `left()` lists what is left."""
    settings.MEDIA_ROOT = tmp_path / "media"

    class Uploads:
        root = settings.MEDIA_ROOT

        @staticmethod
        def left() -> list[str]:
            if not settings.MEDIA_ROOT.exists():
                return []
            return sorted(
                str(p.relative_to(settings.MEDIA_ROOT))
                for p in settings.MEDIA_ROOT.rglob("*")
                if p.is_file()
            )

    return Uploads


@pytest.fixture
def upload_bytes(client):
    """Posts a file to the customers' Import page as it is, named as given."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    def post(data: bytes, name: str = "customers.xlsx", **fields):
        return client.post(
            reverse("admin:customers_customer_import"),
            {
                "file": SimpleUploadedFile(name, data),
                "behaviour": "allow",
                "decimal_format": "point",
                "encoding": "auto",
                "delimiter": "auto",
                **fields,
            },
        )

    return post


@pytest.fixture
def import_file(tmp_path, importer):
    """governed_records_import of these bytes (a dry run unless told), as the importer."""
    from customers.models import Customer
    from workflow.importing.plan import ImportOptions
    from workflow.services import governed_records_import

    def run(data: bytes, name: str = "customers.xlsx", dry_run=True, **options):
        path = tmp_path / name
        path.write_bytes(data)
        return governed_records_import(
            model=Customer,
            path=path,
            file_name=name,
            options=ImportOptions(behaviour="allow", **options),
            actor=importer,
            dry_run=dry_run,
        )

    return run


@pytest.fixture
def command(tmp_path, importer):
    """import_customers on these bytes; returns its output or raises its CommandError."""
    from io import StringIO

    from django.core.management import call_command

    def run(data: bytes, name: str = "customers.xlsx", *args, **options) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        out = StringIO()
        call_command(
            "import_customers", str(path), *args, user="importer", stdout=out, **options
        )
        return out.getvalue()

    return run


# --- Import jobs in the background ---------------------------------------------------

NEW_CUSTOMERS = "account;name;customer_group;credit_limit\n" + "".join(
    f"J{n:05d};Job customer {n};10;{n}\n" for n in range(3)
)


class WorkerKilled(BaseException):
    """Stands for SIGKILL: no `except Exception` of the worker sees it."""


@pytest.fixture
def job_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def previewed_job(clerk, customer, job_media):
    """A job checked and ready to import, as the Import page leaves it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.models import Customer
    from workflow import services
    from workflow.importing.plan import ImportOptions

    def make(text: str = NEW_CUSTOMERS):
        job = services.import_job_create(
            model=Customer,
            upload=SimpleUploadedFile("customers.csv", text.encode()),
            options=ImportOptions(behaviour="allow"),
            actor=clerk,
        )
        return services.import_job_preview(job=job)

    return make


@pytest.fixture
def killed_worker():
    """`with killed_worker():` the worker dies right after its first batch."""
    from contextlib import contextmanager

    from workflow.services.import_jobs import JobLease

    progress = JobLease.progress

    def die(self, report):
        progress(self, report)
        raise WorkerKilled

    @contextmanager
    def dying():
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(JobLease, "progress", die)
            with pytest.raises(WorkerKilled):
                yield

    return dying


@pytest.fixture
def lease_expired(settings):
    """The moment after the lease of a job whose worker was last seen now ran out."""
    from datetime import timedelta

    from django.utils import timezone

    return lambda: timezone.now() + timedelta(seconds=settings.IMPORT_LEASE_SECONDS + 1)


@pytest.fixture
def decreases_pass(approver, approvals_on, approval_admin):
    """One step for the approver; a credit limit decrease needs no approval."""
    workflow = make_workflow(approval_admin, {"users": [approver]})
    return let_decreases_pass(workflow, approval_admin)


@pytest.fixture
def confirmed_on_page(client, importer, uploads):
    """`path` (new customers) previewed on the Import page by `importer`, then confirmed
    with `trigger` armed for the import only (its preview must not set it off): the
    job as it ended, and its page."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from workflow.models import ImportJob, ImportJobState

    def run(path, trigger) -> tuple[ImportJob, str]:
        client.force_login(importer)
        trigger.armed = False
        client.post(
            reverse("admin:customers_customer_import"),
            {
                "file": SimpleUploadedFile(path.name, path.read_bytes(), "text/csv"),
                "behaviour": "allow",
                "decimal_format": "point",
                "encoding": "auto",
                "delimiter": "auto",
            },
        )
        job = ImportJob.objects.get()
        assert job.state == ImportJobState.PREVIEWED
        trigger.armed = True
        client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
        job.refresh_from_db()
        page = client.get(reverse("admin:customers_customer_import_job", args=[job.pk]))
        return job, page.content.decode()

    return run


def new_customers_csv(tmp_path, *, prefix: str, group: str):
    """A CSV of ten new customers, accounts {prefix}00001 to {prefix}00010 in `group`,
    on terms Net30, each with an IBAN of its own."""
    from schwifty import IBAN

    rows = "".join(
        f"{prefix}{n:05d};New {n};{group};{1000 + n};Net30;"
        f"{IBAN.generate('NL', bank_code='ABNA', account_code=f'{n:010d}')}\n"
        for n in range(1, 11)
    )
    path = tmp_path / "new.csv"
    path.write_text(
        "account;name;customer_group;credit_limit;payment_terms;bank_account\n" + rows
    )
    return path


@pytest.fixture
def meanwhile(monkeypatch):
    """`meanwhile(action, holding="")`: once, when a batch (of 4 rows) has been read and
    before it is planned (with `holding`, the batch that holds that key), `action` runs
    on another user's connection. Returns the trigger: `.armed = False` disarms it (for
    a preview that must not set it off)."""
    import threading

    from django.db import close_old_connections, connection

    from workflow.importing import plan

    monkeypatch.setattr(plan, "BATCH_SIZE", 4)
    original = plan.ImportPlanner.plan_read

    def arm(action, holding: str = ""):
        class Trigger:
            armed = True

        def elsewhere():
            close_old_connections()
            try:
                action()
            finally:
                connection.close()

        def act_then_plan(planner, read):
            if Trigger.armed and (
                not holding or any(row.key == holding for row, _values in read.parsed)
            ):
                Trigger.armed = False
                other = threading.Thread(target=elsewhere)
                other.start()
                other.join(timeout=30)
                assert not other.is_alive()
            return original(planner, read)

        monkeypatch.setattr(plan.ImportPlanner, "plan_read", act_then_plan)
        return Trigger

    return arm
