"""``/api/v1/credit/investigations/{id}/attachments/``: list an investigation's attachments
and upload one (multipart, field ``file``). The download is the permission-checked page
``/credit/attachments/{id}/`` (``download_url``)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from credit import selectors, services
from credit.models import InvestigationAttachment


@extend_schema_serializer(component_name="CreditAttachmentOutput")
class AttachmentOutput(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    investigation = serializers.IntegerField(source="investigation_id", read_only=True)
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = InvestigationAttachment
        # The file's name may name a person: it stays on the page, out of the API's answer.
        fields = [
            "id",
            "customer",
            "investigation",
            "content_type",
            "size",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        if not attachment.stored_file:
            return ""
        return reverse("credit:attachment-download", args=[attachment.pk])


class InvestigationAttachmentListCreateApi(GenericAPIView):
    """Any signed-in user; an investigation whose customer he may not see, or without the
    credit permission to read it (service staff), is 404 (audited)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []
    pagination_class = None
    serializer_class = AttachmentOutput

    @extend_schema_serializer(component_name="CreditAttachmentInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()

    OutputSerializer = AttachmentOutput

    @extend_schema(responses=AttachmentOutput(many=True))
    def get(self, request, pk):
        investigation = selectors.investigation_get(request.user, pk)
        rows = selectors.attachments_of(investigation)
        return Response(AttachmentOutput(rows, many=True).data)

    @extend_schema(
        request={"multipart/form-data": InputSerializer}, responses={201: AttachmentOutput}
    )
    def post(self, request, pk):
        investigation = selectors.investigation_get(request.user, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            actor=request.user, investigation=investigation, upload=data.validated_data["file"]
        )
        return Response(AttachmentOutput(attachment).data, status=status.HTTP_201_CREATED)
