"""The customers' part of the REST API: customers and the reference tables, by code.

Writes go through `customers.services` (the same services as the customer page and the
import); what happens to fields under approval is the data entity behaviour of the
Accounts receivable parameters, decided by the engine.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.reverse import reverse

from workflow.api import (
    ApiViewMixin,
    ProposalSerializer,
    UnprocessableEntity,
    etag_of,
    expected_version,
)
from workflow.models import Source
from workflow.selectors_status import (
    STATUS_ANNOTATION,
    RecordStatus,
    records_in_status,
    with_record_status,
)

from . import services
from .models import (
    CashDiscount,
    Customer,
    CustomerGroup,
    MethodOfPayment,
    PaymentTerms,
    SalesTaxGroup,
)

BAD_CHANGED_SINCE = _("Give a date (2026-01-31) or a date and time in ISO 8601.")


class _ByType(serializers.ModelSerializer):
    """A model serializer that only parses values by their type: what a value may be
    (unique, in range, a valid IBAN, …) is for the model's full_clean() in the
    service to decide, as on the page, so it is said once."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        kwargs.pop("validators", None)
        for limit in ("max_length", "min_value", "max_value"):
            kwargs.pop(limit, None)
        if "choices" in kwargs:
            # The model refuses a choice it does not have, in its own words.
            kwargs.pop("choices")
            field_class = serializers.CharField
            kwargs.setdefault("allow_blank", True)
        return field_class, kwargs

    def build_relational_field(self, field_name, relation_info):
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        kwargs.pop("validators", None)
        return field_class, kwargs


class CustomerSerializer(_ByType):
    url = serializers.HyperlinkedIdentityField(view_name="api:customer-detail")
    customer_group = serializers.SlugRelatedField(
        slug_field="code", queryset=CustomerGroup.objects.all()
    )
    payment_terms = serializers.SlugRelatedField(
        slug_field="code",
        queryset=PaymentTerms.objects.all(),
        required=False,
        allow_null=True,
    )
    method_of_payment = serializers.SlugRelatedField(
        slug_field="code",
        queryset=MethodOfPayment.objects.all(),
        required=False,
        allow_null=True,
    )
    cash_discount = serializers.SlugRelatedField(
        slug_field="code",
        queryset=CashDiscount.objects.all(),
        required=False,
        allow_null=True,
    )
    sales_tax_group = serializers.SlugRelatedField(
        slug_field="code",
        queryset=SalesTaxGroup.objects.all(),
        required=False,
        allow_null=True,
    )
    invoice_account = serializers.SlugRelatedField(
        slug_field="account",
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
    )
    account_manager = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model()._default_manager.all(),
        required=False,
        allow_null=True,
    )
    approval_status = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "url",
            "account",
            "name",
            "customer_group",
            "currency",
            "credit_limit",
            "mandatory_credit_limit",
            "credit_rating",
            "payment_terms",
            "method_of_payment",
            "payment_specification",
            "cash_discount",
            "cash_discount_base_days",
            "sales_tax_group",
            "tax_exempt_number",
            "bank_account",
            "invoice_account",
            "account_manager",
            "exclude_interest_charges",
            "exclude_collection_fees",
            "email",
            "phone",
            "street",
            "postal_code",
            "city",
            "country",
            "created_at",
            "updated_at",
            "approval_status",
        ]
        read_only_fields = ["id", "url", "created_at", "updated_at"]
        validators: list = []

    def get_approval_status(self, customer: Customer) -> str:
        """none, draft, pending, changes_requested or conflict (as the list's column)."""
        return getattr(customer, STATUS_ANNOTATION, None) or RecordStatus.NONE


class UpdateOutcomeSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    written = serializers.ListField(child=serializers.CharField())
    proposed = serializers.ListField(child=serializers.CharField())
    proposal = ProposalSerializer(allow_null=True)
    proposal_url = serializers.URLField(allow_null=True)


class ByAccount(CursorPagination):
    """Pages by account (its unique index): the millionth customer's page is read as
    fast as the first, with no count."""

    ordering = ("account",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def _changed_since(text: str):
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise UnprocessableEntity({"changed_since": [str(BAD_CHANGED_SINCE)]})
        from datetime import datetime, time

        moment = datetime.combine(day, time.min)
    return make_aware(moment) if is_naive(moment) else moment


CUSTOMER_FILTERS = [
    OpenApiParameter("account", str, description="The account (any case)."),
    OpenApiParameter("group", str, description="The customer group's code."),
    OpenApiParameter(
        "status", str, enum=list(RecordStatus.values), description="Approval status."
    ),
    OpenApiParameter(
        "changed_since", str, description="Changed at or after this ISO 8601 moment."
    ),
]

JUSTIFICATION = OpenApiParameter(
    "justification",
    str,
    description="Why: goes with a proposal the update submits (or send it in the body "
    "as `_justification`).",
)


@extend_schema(tags=["customers"])
class CustomerViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers. An update follows the data entity behaviour of the Accounts receivable
    parameters for fields under approval: written (allow), refused with 422 and
    nothing written (reject), or proposed and submitted on the caller's behalf while
    the other fields are written (propose: 202 with the proposal)."""

    serializer_class = CustomerSerializer
    pagination_class = ByAccount

    def get_queryset(self) -> models.QuerySet[Customer]:
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        queryset = with_record_status(
            Customer.objects.select_related(
                "customer_group",
                "payment_terms",
                "method_of_payment",
                "cash_discount",
                "sales_tax_group",
                "invoice_account",
                "account_manager",
            )
        )
        params = self.request.query_params
        if self.action == "list":
            if params.get("account"):
                queryset = queryset.filter(account__iexact=params["account"])
            if params.get("group"):
                queryset = queryset.filter(customer_group__code=params["group"])
            if params.get("status"):
                queryset = records_in_status(queryset, status=params["status"])
            if params.get("changed_since"):
                queryset = queryset.filter(
                    updated_at__gte=_changed_since(params["changed_since"])
                )
        return queryset

    def check_permissions(self, request):
        super().check_permissions(request)
        if not request.user.has_perm("customers.view_customer"):
            self.permission_denied(request)

    @extend_schema(parameters=CUSTOMER_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        customer = self.get_object()
        return Response(
            self.get_serializer(customer).data, headers={"ETag": etag_of(customer)}
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(
            values=dict(serializer.validated_data),
            actor=request.user,
            source=Source.API,
        )
        customer = self.get_queryset().get(pk=customer.pk)
        data = self.get_serializer(customer).data
        return Response(
            data,
            status=status.HTTP_201_CREATED,
            headers={"Location": str(data["url"]), "ETag": etag_of(customer)},
        )

    @extend_schema(
        parameters=[
            JUSTIFICATION,
            OpenApiParameter("If-Match", str, OpenApiParameter.HEADER),
        ],
        responses={
            200: UpdateOutcomeSerializer,
            202: OpenApiResponse(
                UpdateOutcomeSerializer,
                description="Fields under approval were proposed and submitted.",
            ),
        },
    )
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        customer = self.get_object()
        version = expected_version(request, customer)
        serializer = self.get_serializer(customer, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        justification = request.query_params.get("justification") or str(
            request.data.get("_justification", "")
            if hasattr(request.data, "get")
            else ""
        )
        outcome = services.customer_update_as_entity(
            customer_id=customer.pk,
            values=dict(serializer.validated_data),
            actor=request.user,
            source=Source.API,
            expected_version=version,
            justification=justification,
        )
        customer = self.get_queryset().get(pk=customer.pk)
        proposal = outcome.proposal if outcome.proposed_fields else None
        proposal_url = (
            reverse("api:proposal-detail", args=[proposal.pk], request=request)
            if proposal is not None
            else None
        )
        body = {
            "customer": self.get_serializer(customer).data,
            "written": outcome.saved_fields,
            "proposed": outcome.proposed_fields,
            "proposal": ProposalSerializer(proposal, context={"request": request}).data
            if proposal is not None
            else None,
            "proposal_url": proposal_url,
        }
        headers = {"ETag": etag_of(customer)}
        if proposal_url:
            headers["Location"] = str(proposal_url)
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED if proposal else status.HTTP_200_OK,
            headers=headers,
        )

    @extend_schema(
        parameters=[
            JUSTIFICATION,
            OpenApiParameter("If-Match", str, OpenApiParameter.HEADER),
        ],
        responses={200: UpdateOutcomeSerializer, 202: UpdateOutcomeSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


class ReferenceSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class PaymentTermsSerializer(ReferenceSerializer):
    days = serializers.IntegerField()


class CashDiscountSerializer(ReferenceSerializer):
    days = serializers.IntegerField()
    percentage = serializers.DecimalField(max_digits=5, decimal_places=2)


def _reference_viewset(model, serializer, tag: str):
    class ReferenceViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
        __doc__ = f"The {model._meta.verbose_name_plural}, by code (read only)."
        queryset = model.objects.order_by("code")
        serializer_class = serializer
        lookup_field = "code"
        lookup_value_regex = "[^/]+"
        pagination_class = None

    ReferenceViewSet.__name__ = f"{model.__name__}ViewSet"
    return extend_schema(tags=[tag])(ReferenceViewSet)


REFERENCE_ROUTES = [
    ("customer-groups", CustomerGroup, ReferenceSerializer),
    ("terms-of-payment", PaymentTerms, PaymentTermsSerializer),
    ("methods-of-payment", MethodOfPayment, ReferenceSerializer),
    ("cash-discounts", CashDiscount, CashDiscountSerializer),
    ("sales-tax-groups", SalesTaxGroup, ReferenceSerializer),
]


def register(router) -> None:
    """Put the customers' endpoints on the API's router."""
    router.register("customers", CustomerViewSet, basename="customer")
    for prefix, model, serializer in REFERENCE_ROUTES:
        router.register(
            prefix,
            _reference_viewset(model, serializer, "reference data"),
            basename=prefix.rstrip("s"),
        )
