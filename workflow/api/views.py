"""The engine's part of the API: proposals, work items and imports of any governed model.

Views read the request, call the same services as the pages and say the outcome;
who may do what is the services' (and the decision core's) to decide.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from .. import registry, selectors, services, tasks
from ..importing import profiles
from ..importing.limits import FileRefused
from ..importing.plan import ImportOptions
from ..importing.reading import survey
from ..models import (
    ChangeProposal,
    DataEntityBehavior,
    ImportJob,
    ImportJobState,
    Source,
    WorkItem,
    WorkItemState,
)
from .base import ApiViewMixin
from .serializers import (
    CommentSerializer,
    DelegateSerializer,
    ImportJobSerializer,
    ProposalSerializer,
    SubmitSerializer,
    WorkItemSerializer,
)

VIEW_PROPOSALS = "workflow.view_changeproposal"


class NewestFirst(CursorPagination):
    ordering = ("-id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _decision(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


ACTION_SCHEMA = {"responses": {200: ProposalSerializer}}


class ProposalViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Change proposals with their changes (old → new), and what can be done to them.

    Whoever may view proposals sees all of them; anyone else those they made or
    submitted and those waiting for them."""

    serializer_class = ProposalSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[ChangeProposal]:
        if getattr(self, "swagger_fake_view", False):
            return ChangeProposal.objects.none()
        user = self.request.user
        queryset = ChangeProposal.objects.select_related(
            "content_type", "created_by", "submitted_by", "workflow", "current_step"
        ).prefetch_related("changes__proposed_by")
        if not user.has_perm(VIEW_PROPOSALS):
            queryset = queryset.filter(
                Q(created_by=user)
                | Q(submitted_by=user)
                | Q(work_items__assignee=user, work_items__state=WorkItemState.OPEN)
            ).distinct()
        params = self.request.query_params
        if params.get("state"):
            queryset = queryset.filter(state=params["state"])
        if params.get("model"):
            app_label, _dot, model = params["model"].partition(".")
            queryset = queryset.filter(
                content_type__app_label=app_label, content_type__model=model
            )
        if params.get("record_id"):
            queryset = queryset.filter(object_id=params["record_id"])
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, description="draft, pending, applied, …"),
            OpenApiParameter("model", str, description="e.g. customers.customer"),
            OpenApiParameter("record_id", int),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _done(self, proposal: ChangeProposal) -> Response:
        proposal = self.get_queryset().model.objects.get(pk=proposal.pk)
        return Response(self.get_serializer(proposal).data, status=status.HTTP_200_OK)

    def _commented(self, request, decide) -> Response:
        """Do `decide` (a service taking a comment) to the proposal as the caller."""
        data = _decision(CommentSerializer, request)
        proposal = decide(
            proposal=self.get_object(),
            actor=request.user,
            comment=data["comment"],
            source=Source.API,
        )
        return self._done(proposal)

    @extend_schema(request=SubmitSerializer, **ACTION_SCHEMA)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit a draft, or a proposal sent back, to the active workflow."""
        data = _decision(SubmitSerializer, request)
        proposal = services.proposal_submit(
            proposal=self.get_object(),
            actor=request.user,
            source=Source.API,
            justification=data["justification"],
        )
        return self._done(proposal)

    @extend_schema(request=CommentSerializer, **ACTION_SCHEMA)
    @action(detail=True, methods=["post"])
    def recall(self, request, pk=None):
        """The submitter takes a pending proposal back as a draft."""
        return self._commented(request, services.proposal_recall)

    @extend_schema(request=CommentSerializer, **ACTION_SCHEMA)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the current step as the caller (who must hold its work item)."""
        return self._commented(request, services.proposal_approve)

    @extend_schema(request=CommentSerializer, **ACTION_SCHEMA)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject, with a comment that says why."""
        return self._commented(request, services.proposal_reject)

    @extend_schema(request=CommentSerializer, **ACTION_SCHEMA)
    @action(detail=True, methods=["post"], url_path="request-change")
    def request_change(self, request, pk=None):
        """Send back to the submitter, with a comment that says what to change."""
        return self._commented(request, services.proposal_request_change)

    @extend_schema(request=DelegateSerializer, **ACTION_SCHEMA)
    @action(detail=True, methods=["post"])
    def delegate(self, request, pk=None):
        """Hand the caller's work item on this proposal to another approver."""
        data = _decision(DelegateSerializer, request)
        proposal = self.get_object()
        services.work_item_delegate(
            proposal=proposal,
            actor=request.user,
            to_user=data["to"],
            comment=data["comment"],
            source=Source.API,
        )
        return self._done(proposal)


class WorkItemViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's work items (open ones unless `state` says otherwise), with the
    proposal's changes; deciding one decides its proposal's step."""

    serializer_class = WorkItemSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[WorkItem]:
        if getattr(self, "swagger_fake_view", False):
            return WorkItem.objects.none()
        queryset = (
            WorkItem.objects.filter(assignee=self.request.user)
            .select_related(
                "step",
                "assignee",
                "proposal__content_type",
                "proposal__created_by",
                "proposal__submitted_by",
                "proposal__workflow",
                "proposal__current_step",
            )
            .prefetch_related("proposal__changes__proposed_by")
        )
        if self.action == "list":
            queryset = queryset.filter(
                state=self.request.query_params.get("state", WorkItemState.OPEN)
            )
        return queryset

    @extend_schema(
        parameters=[OpenApiParameter("state", str, description="open (default), …")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _decide(self, request, decide, serializer_class=CommentSerializer, **extra):
        data = _decision(serializer_class, request)
        item = self.get_object()
        decide(
            proposal=item.proposal,
            actor=request.user,
            comment=data["comment"],
            source=Source.API,
            **{k: data[v] for k, v in extra.items()},
        )
        item = self.get_queryset().model.objects.get(pk=item.pk)
        return Response(self.get_serializer(item).data)

    @extend_schema(request=CommentSerializer, responses={200: WorkItemSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, services.proposal_approve)

    @extend_schema(request=CommentSerializer, responses={200: WorkItemSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, services.proposal_reject)

    @extend_schema(request=CommentSerializer, responses={200: WorkItemSerializer})
    @action(detail=True, methods=["post"], url_path="request-change")
    def request_change(self, request, pk=None):
        return self._decide(request, services.proposal_request_change)

    @extend_schema(request=DelegateSerializer, responses={200: WorkItemSerializer})
    @action(detail=True, methods=["post"])
    def delegate(self, request, pk=None):
        return self._decide(
            request, services.work_item_delegate, DelegateSerializer, to_user="to"
        )


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    model = serializers.CharField(
        default="customers.customer",
        help_text=_("The governed model the file holds, e.g. customers.customer."),
    )
    behaviour = serializers.ChoiceField(
        choices=DataEntityBehavior.choices,
        required=False,
        help_text=_("The data entity behaviour; the parameters' by default."),
    )
    profile = serializers.CharField(required=False, allow_blank=True, default="")
    decimal_format = serializers.ChoiceField(
        choices=["point", "comma"], default="point"
    )
    sheet = serializers.CharField(required=False, allow_blank=True, default="")
    ignore_unknown_columns = serializers.BooleanField(default=False)
    justification = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000
    )

    def validate_model(self, value: str):
        for governed in registry.all_governed():
            if governed.model._meta.label_lower == value.lower():
                return governed.model
        raise serializers.ValidationError(_("No model under approval has this name."))

    def validate(self, data):
        if data["profile"] and data["profile"] not in {
            p.name for p in profiles.profiles_for(data["model"])
        }:
            raise serializers.ValidationError({"profile": [_("No such profile.")]})
        return data


def _dispatch(job: ImportJob, task, inline) -> None:
    """As the Import page does: small files in the request, large ones (by the work
    of reading them, IMPORT_BACKGROUND_BYTES) by the task worker."""
    try:
        work = survey(
            job.file.path, sheet=job.options.get("sheet", ""), estimate=False
        ).work_bytes
    except FileRefused:
        work = 0
    if work > settings.IMPORT_BACKGROUND_BYTES:
        task.enqueue(job_id=job.pk)
    else:
        inline(job=job)


class ImportJobViewSet(
    ApiViewMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Upload a file, poll its check and its progress, read its preview and errors,
    confirm it. Each caller sees only their own uploads."""

    serializer_class = ImportJobSerializer
    pagination_class = NewestFirst
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> QuerySet[ImportJob]:
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return ImportJob.objects.filter(created_by=self.request.user).select_related(
            "content_type", "created_by"
        )

    def retrieve(self, request, *args, **kwargs):
        # A job whose worker died is found here too, as on its page.
        job = services.import_job_recover(
            job=self.get_object(), recheck=tasks.recheck_import
        )
        return Response(self.get_serializer(job).data)

    @extend_schema(request=ImportUploadSerializer, responses={201: ImportJobSerializer})
    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        model = data["model"]
        options = ImportOptions(
            behaviour=data.get("behaviour")
            or selectors.approval_settings_for(model).data_entity_behavior,
            decimal_format=data["decimal_format"],
            ignore_unknown_columns=data["ignore_unknown_columns"],
            sheet=data["sheet"].strip(),
            profile=data["profile"],
            justification=data["justification"],
        )
        job = services.import_job_create(
            model=model, upload=data["file"], options=options, actor=request.user
        )
        _dispatch(job, tasks.preview_import, services.import_job_preview)
        job.refresh_from_db()
        return Response(
            self.get_serializer(job).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": str(self.get_serializer(job).data["url"])},
        )

    @extend_schema(request=None, responses={200: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Import exactly what the preview showed (all rows or none); a large file
        runs in the background: poll the job until it is imported or not."""
        job = services.import_job_confirm(job=self.get_object(), actor=request.user)
        _dispatch(job, tasks.run_import, services.import_job_run)
        job.refresh_from_db()
        code = (
            status.HTTP_200_OK
            if job.state in (ImportJobState.APPLIED, ImportJobState.FAILED)
            else status.HTTP_202_ACCEPTED
        )
        return Response(self.get_serializer(job).data, status=code)
