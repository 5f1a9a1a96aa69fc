"""``/api/v1/credit/invoices/``, ``/payments/``, ``/notes/``: list and create."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from credit import permissions as perms
from credit import services
from credit.api.common import CanViewCredit, CurrencyField, Money, RowsListMixin, customer_of
from credit.filters import InvoiceFilter, NoteFilter, PaymentFilter
from credit.models import Invoice, Note, Order, Payment
from crm.api.serializers import DateField


@extend_schema_serializer(component_name="CreditInvoiceOutput")
class InvoiceOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    amount = Money(read_only=True)
    paid_amount = Money(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "customer",
            "number",
            "issued_on",
            "due_on",
            "amount",
            "paid_amount",
            "currency",
            "order",
            "written_off_at",
        ]
        read_only_fields = fields


class InvoiceListCreateApi(RowsListMixin, GenericAPIView):
    permission_classes = [CanViewCredit]
    model = Invoice
    view_perm = perms.VIEW_INVOICE
    filterset_class = InvoiceFilter
    ordering_fields = ["issued_on", "due_on", "amount"]
    ordering = ["-issued_on", "-id"]
    serializer_class = InvoiceOutput

    @extend_schema_serializer(component_name="CreditInvoiceInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()
        number = serializers.CharField(max_length=40)
        issued_on = DateField()
        due_on = DateField()
        amount = Money()
        currency = CurrencyField()
        order = serializers.IntegerField(required=False, allow_null=True, default=None)

    OutputSerializer = InvoiceOutput

    @extend_schema(responses=InvoiceOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(InvoiceOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: InvoiceOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = customer_of(request, values.pop("customer"))
        order_id = values.pop("order")
        order = perms.access_row(request.user, Order, order_id) if order_id else None
        invoice = services.invoice_create(
            actor=request.user, customer=customer, order=order, **values
        )
        return Response(InvoiceOutput(invoice).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="CreditPaymentOutput")
class PaymentOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    amount = Money(read_only=True)
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = ["id", "customer", "received_on", "amount", "currency", "reference", "allocations"]
        read_only_fields = fields

    def get_allocations(self, payment) -> list[dict]:
        return [
            {"invoice": a.invoice_id, "amount": str(a.amount)} for a in payment.allocations.all()
        ]


class PaymentListCreateApi(RowsListMixin, GenericAPIView):
    permission_classes = [CanViewCredit]
    model = Payment
    view_perm = perms.VIEW_PAYMENT
    filterset_class = PaymentFilter
    ordering_fields = ["received_on", "amount"]
    ordering = ["-received_on", "-id"]
    serializer_class = PaymentOutput

    @extend_schema_serializer(component_name="CreditAllocationInput")
    class AllocationInput(serializers.Serializer):
        invoice = serializers.IntegerField()
        amount = Money()

    @extend_schema_serializer(component_name="CreditPaymentInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()
        received_on = DateField()
        amount = Money()
        currency = CurrencyField()
        reference = serializers.CharField(
            max_length=50, required=False, allow_blank=True, default=""
        )
        allocations = serializers.ListField(
            child=serializers.DictField(), required=False, allow_null=True, default=None
        )

    OutputSerializer = PaymentOutput

    def get_queryset(self):
        return super().get_queryset().prefetch_related("allocations")

    @extend_schema(responses=PaymentOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PaymentOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: PaymentOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = customer_of(request, values.pop("customer"))
        raw = values.pop("allocations")
        allocations = None
        if raw is not None:
            parts = self.AllocationInput(data=raw, many=True)
            parts.is_valid(raise_exception=True)
            invoices = {
                i.pk: i
                for i in Invoice.objects.filter(
                    customer=customer, pk__in=[p["invoice"] for p in parts.validated_data]
                )
            }
            allocations = []
            for part in parts.validated_data:
                if part["invoice"] not in invoices:
                    from django.core.exceptions import ValidationError

                    raise ValidationError({"allocations": ["Unknown invoice."]})
                allocations.append((invoices[part["invoice"]], part["amount"]))
        payment = services.payment_record(
            actor=request.user, customer=customer, allocations=allocations, **values
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="CreditNoteOutput")
class NoteOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    amount = Money(read_only=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "customer",
            "kind",
            "number",
            "amount",
            "currency",
            "received_on",
            "due_on",
            "status",
        ]
        read_only_fields = fields


class NoteListCreateApi(RowsListMixin, GenericAPIView):
    permission_classes = [CanViewCredit]
    model = Note
    view_perm = perms.VIEW_NOTE
    filterset_class = NoteFilter
    ordering_fields = ["due_on", "amount"]
    ordering = ["due_on", "id"]
    serializer_class = NoteOutput

    @extend_schema_serializer(component_name="CreditNoteInput")
    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField()
        kind = serializers.ChoiceField(choices=Note.Kind.choices)
        number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        amount = Money()
        currency = CurrencyField()
        received_on = DateField()
        due_on = DateField()

    OutputSerializer = NoteOutput

    @extend_schema(responses=NoteOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(NoteOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: NoteOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = customer_of(request, values.pop("customer"))
        note = services.note_record(actor=request.user, customer=customer, **values)
        return Response(NoteOutput(note).data, status=status.HTTP_201_CREATED)
