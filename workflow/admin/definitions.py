"""Workflow definitions: New, steps, automatic approval rules, versions, copy, Activate."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import registry, selectors, services
from ..exceptions import WorkflowError
from ..models import AutoApprovalRule, StepKindChoices, Workflow, WorkflowStep

NO_ASSIGNEE = gettext_lazy(
    "Assign this step to a group, to at least one user, or to a user field of the record."
)
DUPLICATE_SEQUENCE = gettext_lazy(
    "Two steps have the same sequence number; give each step its own."
)
# Warnings, not refusals: who may decide changes with group memberships and
# permissions after the workflow is saved, and a submission that reaches a step nobody
# may decide is refused then (NO_ELIGIBLE_APPROVER).
STEP_USER_MAY_NOT_DECIDE = gettext_lazy(
    "%(user)s may not approve or reject work items, so no work item of step "
    "“%(step)s” will go to them. Give them that permission, or choose someone else."
)
STEP_USER_INACTIVE = gettext_lazy(
    "%(user)s is inactive, so no work item of step “%(step)s” will go to them."
)
STEP_WITHOUT_DECIDER = gettext_lazy(
    "Nobody step “%(step)s” is assigned to may approve or reject work items: no "
    "active member of its group and none of its users has that permission. Changes "
    "that reach this step are refused until someone may decide it."
)


class GovernedFieldChoicesMixin:
    """Model fields holding a field name of the governed model become drop-downs."""

    governed: registry.GovernedModel
    field_name_choices: dict[str, str] = {}

    def setup_choices(self) -> None:
        blank = [("", "---------")]
        for form_field, kind in self.field_name_choices.items():
            if form_field not in self.fields:
                continue
            choices = (
                self.governed.assignee_field_choices()
                if kind == "user"
                else self.governed.field_choices()
            )
            required = self.fields[form_field].required
            self.fields[form_field] = forms.ChoiceField(
                label=self.fields[form_field].label,
                help_text=self.fields[form_field].help_text,
                choices=choices if required else blank + choices,
                required=required,
            )


class WorkflowStepForm(GovernedFieldChoicesMixin, forms.ModelForm):
    field_name_choices = {"condition_field": "field", "assignee_field": "user"}

    class Meta:
        model = WorkflowStep
        fields = [
            "sequence",
            "name",
            "kind",
            "assigned_group",
            "assigned_users",
            "assignee_field",
            "completion_policy",
            "approval_percentage",
            "condition_kind",
            "condition_field",
            "condition_value",
            "time_limit_value",
            "time_limit_unit",
            "escalation_action",
            "escalate_to_user",
            "escalate_to_group",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_choices()
        # A step sent without its kind (a form of an older page) is an approval.
        self.fields["kind"].required = False

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or StepKindChoices.APPROVAL


class AutoApprovalRuleForm(GovernedFieldChoicesMixin, forms.ModelForm):
    field_name_choices = {"field_name": "field"}

    class Meta:
        model = AutoApprovalRule
        fields = ["field_name", "kind", "value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_choices()


class WorkflowPartFormSet(BaseInlineFormSet):
    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        # Parts validate against the governed model, also before the workflow is saved.
        form.instance.workflow = self.instance


class WorkflowStepFormSet(WorkflowPartFormSet):
    def clean(self) -> None:
        super().clean()
        live = [
            f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        for form in live:
            data = form.cleaned_data
            if not (
                data.get("assigned_group")
                or data.get("assigned_users")
                or data.get("assignee_field")
            ):
                form.add_error("assigned_group", NO_ASSIGNEE)
        sequences = [f.cleaned_data.get("sequence") for f in live]
        if len(sequences) != len(set(sequences)):
            raise ValidationError(DUPLICATE_SEQUENCE)


class WorkflowPartInline(admin.StackedInline):
    """Steps and rules are part of their workflow: whoever edits it edits them."""

    extra = 0
    governed_model: type

    def _perm(self, request, action: str) -> bool:
        opts = self.parent_model._meta
        return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._perm(request, "view") or self._may_edit(request, obj)

    def _may_edit(self, request, obj) -> bool:
        if obj is not None and selectors.workflow_in_use(obj):
            return False
        return self._perm(request, "change") or self._perm(request, "add")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.governed = registry.get(self.governed_model)
        return formset

    # Read-only, a field that holds a field name of the governed model shows its label.
    LABELLED = {
        "condition_field": "condition_field_label",
        "assignee_field": "assignee_field_label",
        "field_name": "field_name_label",
    }

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self._may_edit(request, obj):
            return fieldsets

        def labelled(fields):
            return [
                tuple(self.LABELLED.get(f, f) for f in field)
                if isinstance(field, tuple | list)
                else self.LABELLED.get(field, field)
                for field in fields
            ]

        return [
            (name, {**options, "fields": labelled(options["fields"])})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._may_edit(request, obj):
            return readonly
        return [*readonly, *self.LABELLED.values()]

    def _label_of(self, name: str) -> str:
        if not name:
            return self.get_empty_value_display()
        return registry.get(self.governed_model).field_label(name)

    @admin.display(
        description=WorkflowStep._meta.get_field("condition_field").verbose_name
    )
    def condition_field_label(self, part) -> str:
        return self._label_of(part.condition_field)

    @admin.display(
        description=WorkflowStep._meta.get_field("assignee_field").verbose_name
    )
    def assignee_field_label(self, part) -> str:
        return self._label_of(part.assignee_field)

    @admin.display(
        description=AutoApprovalRule._meta.get_field("field_name").verbose_name
    )
    def field_name_label(self, part) -> str:
        return self._label_of(part.field_name)


class WorkflowStepInline(WorkflowPartInline):
    model = WorkflowStep
    form = WorkflowStepForm
    formset = WorkflowStepFormSet
    min_num = 1
    filter_horizontal = ["assigned_users"]
    fieldsets = [
        (None, {"fields": ["sequence", "name", "kind"]}),
        (
            gettext_lazy("Assignment"),
            {"fields": ["assigned_group", "assigned_users", "assignee_field"]},
        ),
        (
            gettext_lazy("Completion and condition"),
            {
                "fields": [
                    ("completion_policy", "approval_percentage"),
                    ("condition_kind", "condition_field", "condition_value"),
                ]
            },
        ),
        (
            gettext_lazy("Time limit and escalation"),
            {
                "fields": [
                    ("time_limit_value", "time_limit_unit"),
                    "escalation_action",
                    ("escalate_to_user", "escalate_to_group"),
                ]
            },
        ),
    ]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["name"].initial = registry.get(
            self.governed_model
        ).labels.approval_step
        return formset


class AutoApprovalRuleInline(WorkflowPartInline):
    model = AutoApprovalRule
    form = AutoApprovalRuleForm
    formset = WorkflowPartFormSet
    fields = [("field_name", "kind", "value")]
    verbose_name_plural = gettext_lazy(
        "Automatic approval (a proposal whose every change matches a rule needs no approval)"
    )


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = ["name", "justification_required"]


class WorkflowAdmin(admin.ModelAdmin):
    """Admin of a proxy of Workflow for one governed model.

    A workflow that is active or has proposals is shown read-only: to change it, an
    administrator makes a new version, edits that and activates it.
    """

    governed_model: type
    form = WorkflowForm
    list_display = [
        "name",
        "version",
        "is_active",
        "step_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["name"]
    list_select_related = ["created_by"]
    fields = ["workflow_type", "name", "justification_required", "version", "is_active"]
    readonly_fields = ["workflow_type", "version", "is_active"]
    actions = None
    change_form_template = "admin/workflow/workflow_change_form.html"
    change_list_template = "admin/workflow/workflow_change_list.html"

    def get_inlines(self, request, obj):
        attrs = {"governed_model": self.governed_model}
        return [
            type("GovernedWorkflowStepInline", (WorkflowStepInline,), attrs),
            type("GovernedAutoApprovalRuleInline", (AutoApprovalRuleInline,), attrs),
        ]

    @admin.display(description=gettext_lazy("Type"))
    def workflow_type(self, obj) -> str:
        return str(registry.get(self.governed_model).labels.workflow_type)

    @admin.display(description=gettext_lazy("Steps"))
    def step_count(self, obj) -> int:
        return obj.steps.count()

    def get_queryset(self, request):
        content_type = ContentType.objects.get_for_model(self.governed_model)
        return super().get_queryset(request).filter(content_type=content_type)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        content_type = ContentType.objects.get_for_model(self.governed_model)

        class BoundToModel(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                # Steps validate their fields against the governed model from the start.
                if self.instance.content_type_id is None:
                    self.instance.content_type = content_type

        return BoundToModel

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and selectors.workflow_in_use(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """New: first choose the workflow type, as in Dynamics 365."""
        if request.method == "GET" and "type" not in request.GET:
            if not self.has_add_permission(request):
                raise PermissionDenied
            governed = registry.get(self.governed_model)
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("New workflow"),
                "workflow_types": [(governed.label, governed.labels.workflow_type)],
            }
            return TemplateResponse(
                request, "admin/workflow/choose_workflow_type.html", context
            )
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "in_use": obj is not None and selectors.workflow_in_use(obj),
            "may_manage": self._may_manage(request),
            "versions": selectors.workflow_versions(obj) if obj else [],
            "step_summaries": selectors.workflow_step_summaries(obj) if obj else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _may_manage(self, request) -> bool:
        opts = self.model._meta
        return request.user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        ) and request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def save_model(self, request, obj, form, change) -> None:
        services.workflow_save(workflow=obj, actor=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        parts = formset.save(commit=False)
        if formset.model is WorkflowStep:
            services.workflow_steps_save(
                workflow=form.instance,
                steps=parts,
                deleted=list(formset.deleted_objects),
                actor=request.user,
            )
        else:
            for rule in formset.deleted_objects:
                services.auto_approval_rule_delete(rule=rule, actor=request.user)
            for rule in parts:
                services.auto_approval_rule_save(rule=rule, actor=request.user)
        formset.save_m2m()
        if formset.model is WorkflowStep:
            self._warn_about_deciders(request, form.instance)

    def _warn_about_deciders(self, request, workflow: Workflow) -> None:
        """Tell the administrator about steps whose work items nobody, or not everyone
        named, may decide."""
        for step in workflow.steps.order_by("sequence"):
            for user in selectors.step_named_users_who_may_not_decide(step):
                message = (
                    STEP_USER_MAY_NOT_DECIDE if user.is_active else STEP_USER_INACTIVE
                )
                self.message_user(
                    request,
                    message % {"user": user.get_username(), "step": step.name},
                    messages.WARNING,
                )
        for step in selectors.steps_without_decider(workflow):
            self.message_user(
                request, STEP_WITHOUT_DECIDER % {"step": step.name}, messages.WARNING
            )

    def _change_url(self, workflow) -> str:
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[workflow.pk]
        )

    def response_add(self, request, obj, post_url_continue=None):
        return redirect(self._change_url(obj))

    def get_urls(self):
        opts = self.model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        return [
            re_path(
                r"^(?P<object_id>.+)/(?P<operation>activate|new-version|copy)/$",
                self.admin_site.admin_view(require_POST(self.operation_view)),
                name=f"{prefix}_operation",
            ),
            *super().get_urls(),
        ]

    def operation_view(self, request, object_id, operation):
        """Activate, New version, Copy: each a POST that calls one service."""
        if operation not in {"activate", "new-version", "copy"}:
            raise Http404
        workflow = self.get_object(request, unquote(object_id))
        if workflow is None:
            raise Http404
        if not self._may_manage(request):
            raise PermissionDenied
        try:
            if operation == "activate":
                services.workflow_activate(workflow=workflow, actor=request.user)
                self.message_user(
                    request,
                    _("“%(name)s” is now the active workflow.") % {"name": workflow},
                    messages.SUCCESS,
                )
                for step in selectors.steps_without_decider(workflow):
                    self.message_user(
                        request,
                        STEP_WITHOUT_DECIDER % {"step": step.name},
                        messages.WARNING,
                    )
                return redirect(self._change_url(workflow))
            copy = services.workflow_copy(
                workflow=workflow,
                actor=request.user,
                as_new_version=operation == "new-version",
            )
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(self._change_url(workflow))
        self.message_user(
            request,
            _("“%(name)s” was created. Change it, then activate it.") % {"name": copy},
            messages.SUCCESS,
        )
        return redirect(self._change_url(copy))
