"""How proposals, work items and import jobs read in the API. Reading only: every write
goes through a service, never through a serializer's save()."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import registry
from ..models import ChangeProposal, ImportJob, WorkItem


def model_label(content_type) -> str:
    return f"{content_type.app_label}.{content_type.model}"


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    old_display = serializers.CharField()
    new_display = serializers.CharField()
    proposed_by = serializers.CharField(allow_null=True)


def change_rows(proposal: ChangeProposal) -> list[dict[str, object]]:
    """Each proposed change, old → new, as stored and as a person reads it."""
    governed = registry.governed_of(proposal.content_type)
    rows = []
    for change in proposal.changes.all():
        model_field = registry.concrete_field(governed.model, change.field_name)
        rows.append(
            {
                "field": change.field_name,
                "label": str(governed.field_label(change.field_name)),
                "old": change.original_value,
                "new": change.proposed_value,
                "old_display": registry.display_value(
                    model_field, change.original_value
                ),
                "new_display": registry.display_value(
                    model_field, change.proposed_value
                ),
                "proposed_by": change.proposed_by.get_username()
                if change.proposed_by
                else None,
            }
        )
    return rows


class ProposalSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:proposal-detail")
    model = serializers.SerializerMethodField()
    record = serializers.CharField(source="object_repr")
    record_id = serializers.IntegerField(source="object_id")
    state_display = serializers.CharField(source="get_state_display")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    workflow = serializers.StringRelatedField()
    current_step = serializers.StringRelatedField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = ChangeProposal
        fields = [
            "id",
            "url",
            "model",
            "record_id",
            "record",
            "state",
            "state_display",
            "source",
            "created_by",
            "created_at",
            "submitted_by",
            "submitted_at",
            "justification",
            "workflow",
            "current_step",
            "submission_round",
            "closed_at",
            "changes",
        ]
        read_only_fields = fields

    def get_model(self, proposal: ChangeProposal) -> str:
        return model_label(proposal.content_type)

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, proposal: ChangeProposal) -> list[dict[str, object]]:
        return change_rows(proposal)


class WorkItemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:work-item-detail")
    proposal = ProposalSerializer(read_only=True)
    step = serializers.StringRelatedField()
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    state_display = serializers.CharField(source="get_state_display")

    class Meta:
        model = WorkItem
        fields = [
            "id",
            "url",
            "step",
            "assignee",
            "state",
            "state_display",
            "created_at",
            "due_at",
            "decided_at",
            "comment",
            "proposal",
        ]
        read_only_fields = fields


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000
    )


class SubmitSerializer(serializers.Serializer):
    justification = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, max_length=4000
    )


class DelegateSerializer(CommentSerializer):
    to = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model()._default_manager.filter(is_active=True),
        help_text=_("The user name of whom to hand the work item to."),
    )


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:import-detail")
    model = serializers.SerializerMethodField()
    state_display = serializers.CharField(source="get_state_display")
    file_name = serializers.CharField(source="original_name")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    report = serializers.SerializerMethodField()
    confirm_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "model",
            "file_name",
            "state",
            "state_display",
            "created_by",
            "created_at",
            "estimated_rows",
            "processed_rows",
            "message",
            "finished_at",
            "options",
            "report",
            "confirm_url",
        ]
        read_only_fields = fields

    def get_model(self, job: ImportJob) -> str:
        return model_label(job.content_type)

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_report(self, job: ImportJob) -> object:
        """The preview (rows, changes, errors) until imported; then the import's result."""
        if job.state in ("applied", "failed"):
            return job.result
        return job.preview

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_confirm_url(self, job: ImportJob) -> str | None:
        if job.state != "previewed":
            return None
        request = self.context.get("request")
        from rest_framework.reverse import reverse

        return reverse("api:import-confirm", args=[job.pk], request=request)
