"""The Import page of a governed model: upload, preview, confirm, and the job's progress."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import selectors, services, tasks
from ..exceptions import WorkflowError
from ..importing import profiles
from ..importing.limits import count
from ..importing.plan import ImportOptions
from ..importing.reading import FileRefused, survey
from ..models import DataEntityBehavior, ImportJob, ImportJobState
from ..text import COMMENT_MAX_LENGTH

IMPORT_NOT_PERMITTED = gettext_lazy(
    "Importing %(models)s needs the permissions to add and to change %(models)s; "
    "you do not have them."
)

# A large file's preview checks its first rows only (IMPORT_FULL_PREVIEW_ROWS).
SAMPLE_PREVIEW = gettext_lazy(
    "This preview checked the first %(checked)s of about %(total)s rows of the file."
)
SAMPLE_PREVIEW_REST = gettext_lazy(
    "The other rows are checked while the file is imported: if any row has an error, "
    "nothing is imported and the errors are listed with their line, column and value."
)


class ImportForm(forms.Form):
    field_order = ["file", "profile"]

    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (UTF-8 or Windows-1252, separated by , or ;) or an Excel workbook "
            "(.xlsx, .xlsm)."
        ),
    )
    sheet = forms.CharField(
        label=gettext_lazy("Sheet"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "For a workbook with several sheets: the name of the sheet to read. "
            "Empty reads the first sheet with data."
        ),
    )
    behaviour = forms.ChoiceField(
        label=gettext_lazy("Data entity behavior"),
        choices=DataEntityBehavior.choices,
        help_text=gettext_lazy(
            "What the import does with a change to a field that needs approval."
        ),
    )
    decimal_format = forms.ChoiceField(
        label=gettext_lazy("Numbers are written as"),
        choices=[("point", "1234.56"), ("comma", "1234,56")],
        initial="point",
    )
    encoding = forms.ChoiceField(
        label=gettext_lazy("Encoding"),
        choices=[
            ("auto", gettext_lazy("Detect (UTF-8, else Windows-1252)")),
            ("utf-8", "UTF-8"),
            ("windows-1252", "Windows-1252"),
        ],
        initial="auto",
    )
    delimiter = forms.ChoiceField(
        label=gettext_lazy("Separator"),
        choices=[("auto", gettext_lazy("Detect")), (",", ","), (";", ";")],
        initial="auto",
    )
    ignore_unknown_columns = forms.BooleanField(
        label=gettext_lazy("Ignore unknown columns"), required=False
    )
    justification = forms.CharField(
        label=gettext_lazy("Justification"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text=gettext_lazy(
            "Why the changes are needed, for every proposal the import makes; "
            "the approvers read it. Required when the workflow asks for one."
        ),
    )
    profile = forms.ChoiceField(
        label=gettext_lazy("Columns"),
        choices=[("", gettext_lazy("Field names, as an export writes them"))],
        required=False,
        help_text=gettext_lazy(
            "An import profile reads another system's file as it is: which column "
            "fills which field, and how its values are written."
        ),
    )


def _decimal_format() -> str:
    """Numbers as the reader writes them, as an export in their language writes them
    too (a Dutch export has 1234,56): such a file imports back as it is."""
    return "comma" if get_format("DECIMAL_SEPARATOR") == "," else "point"


class GovernedImportMixin:
    """Adds Import to a governed model's admin; the work is done by the import services."""

    import_change_list_template = "admin/workflow/governed_change_list.html"

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def _import_refusal(self) -> str:
        return str(
            IMPORT_NOT_PERMITTED % {"models": self.model._meta.verbose_name_plural}
        )

    def get_import_urls(self):
        opts = self.model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=f"{prefix}_import"),
            path(
                "import/<int:job_id>/",
                wrap(self.import_job_view),
                name=f"{prefix}_import_job",
            ),
            path(
                "import/<int:job_id>/confirm/",
                wrap(require_POST(self.import_confirm_view)),
                name=f"{prefix}_import_confirm",
            ),
        ]

    def _job_url(self, job: ImportJob) -> str:
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_import_job", args=[job.pk]
        )

    def _import_context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import %(models)s")
            % {"models": self.model._meta.verbose_name_plural},
            **extra,
        }

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied(self._import_refusal())
        behaviour = selectors.approval_settings_for(self.model).data_entity_behavior
        form = ImportForm(
            request.POST or None,
            request.FILES or None,
            initial={"behaviour": behaviour, "decimal_format": _decimal_format()},
        )
        form.fields["behaviour"].choices = [
            (value, label)
            for value, label in DataEntityBehavior.choices
            if selectors.import_behaviour_permitted(self.model, value)
        ]
        form.fields["profile"].choices = [
            *form.fields["profile"].choices[:1],
            *((p.name, p.label) for p in profiles.profiles_for(self.model)),
        ]
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            options = ImportOptions(
                behaviour=data["behaviour"],
                encoding=data["encoding"],
                delimiter=data["delimiter"],
                decimal_format=data["decimal_format"],
                ignore_unknown_columns=data["ignore_unknown_columns"],
                sheet=data["sheet"].strip(),
                profile=data["profile"],
                justification=data["justification"],
            )
            try:
                job = services.import_job_create(
                    model=self.model,
                    upload=data["file"],
                    options=options,
                    actor=request.user,
                )
            except (FileRefused, WorkflowError) as error:
                form.add_error("file", error.message)
            else:
                self._dispatch(job, tasks.preview_import, services.import_job_preview)
                return redirect(self._job_url(job))
        return TemplateResponse(
            request,
            "admin/workflow/import.html",
            self._import_context(request, form=form),
        )

    @staticmethod
    def _dispatch(job: ImportJob, task, inline) -> None:
        """Small files are handled in the request; large ones by the task worker. Large
        by the work of reading them (IMPORT_BACKGROUND_BYTES), which is known without
        reading them through: a request never counts rows."""
        try:
            work = survey(
                job.file.path, sheet=job.options.get("sheet", ""), estimate=False
            ).work_bytes
        except FileRefused:
            work = 0  # Refused at once when read, in the request as well.
        if work > settings.IMPORT_BACKGROUND_BYTES:
            task.enqueue(job_id=job.pk)
        else:
            inline(job=job)

    def _own_job(self, request, job_id: int) -> ImportJob:
        job = selectors.import_job_of(job_id, request.user, self.model)
        if job is None:
            raise Http404
        return job

    def import_job_view(self, request, job_id: int):
        if not self.has_import_permission(request):
            raise PermissionDenied(self._import_refusal())
        # A job whose worker died is found here too, not only by process_import_jobs.
        job = services.import_job_recover(
            job=self._own_job(request, job_id), recheck=tasks.recheck_import
        )
        report = (
            job.result
            if job.state in (ImportJobState.APPLIED, ImportJobState.FAILED)
            else job.preview
        )
        running = job.state in (
            ImportJobState.PREVIEWING,
            ImportJobState.QUEUED,
            ImportJobState.APPLYING,
        )
        # What the progress bar runs to: a large file's check reads its first rows.
        progress_total = job.estimated_rows
        if job.state == ImportJobState.PREVIEWING:
            progress_total = (
                services.import_job_preview_rows(job=job) or job.estimated_rows
            )
        sample = []
        checked = job.preview.get("sample_rows", 0)
        if checked and job.state in (ImportJobState.PREVIEWED, ImportJobState.INVALID):
            sample.append(
                str(SAMPLE_PREVIEW)
                % {
                    "checked": count(checked),
                    # The estimate is of the whole file, which has more rows than
                    # the preview checked.
                    "total": count(max(job.estimated_rows, checked + 1)),
                }
            )
            if job.state == ImportJobState.PREVIEWED:
                sample.append(str(SAMPLE_PREVIEW_REST))
        context = self._import_context(
            request,
            job=job,
            report=report,
            running=running,
            progress_total=progress_total,
            sample=sample,
            changelist_url=reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist"
            ),
            import_url=reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_import"
            ),
            confirm_url=reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_import_confirm",
                args=[job.pk],
            ),
        )
        return TemplateResponse(request, "admin/workflow/import_job.html", context)

    def import_confirm_view(self, request, job_id: int):
        if not self.has_import_permission(request):
            raise PermissionDenied(self._import_refusal())
        job = self._own_job(request, job_id)
        try:
            job = services.import_job_confirm(job=job, actor=request.user)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(self._job_url(job))
        self._dispatch(job, tasks.run_import, services.import_job_run)
        job.refresh_from_db()
        if job.state == ImportJobState.APPLIED:
            self.message_user(request, _("The file was imported."), messages.SUCCESS)
        return redirect(self._job_url(job))
