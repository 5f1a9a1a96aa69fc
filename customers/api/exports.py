"""``POST /api/v1/customers/export/``: the customer list as a file (DESIGN §7).

Body: ``format`` csv|xlsx, ``purpose`` internal|third_party, ``clear`` and ``reason``, and
the customer list's filters; the file is filtered like the list. ``X-Export-Count`` and
``X-Export-Left-Out`` say how many customers are in it and how many lacked third-party
consent. Filters never travel in the URL (a search term may be a phone or ID number): a
``GET`` is refused with 405. Above ``CRM_EXPORT_SYNC_MAX_ROWS`` customers the answer is 202
with a background export job (``/api/v1/exports/<id>/``, downloadable by its owner for 24
hours).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.exports.api import ExportJobOutputSerializer
from crm.models import ExportJob
from customers.api.serializers import CustomerFiltersInput
from customers.filters import filter_data
from customers.responses import export_response
from customers.services import exports


class CustomerExportApi(APIView):
    """The customer list as a CSV or XLSX file, masked unless asked for in clear with a reason.

    A ``POST`` with the format, the purpose and the list's filters in the body: filters never
    travel in a URL, so a ``GET`` is refused (405) whatever its query string.
    """

    permission_classes = [IsAuthenticated]

    # For the schema: the service checks the permission first, then the format, purpose
    # and filters (the same checks as the HTML export's).
    @extend_schema_serializer(component_name="CustomerExportInput")
    class InputSerializer(CustomerFiltersInput):
        format = serializers.ChoiceField(choices=exports.FORMATS, default="csv")
        purpose = serializers.ChoiceField(
            choices=exports.PURPOSES,
            default=exports.INTERNAL,
            help_text="third_party: only customers with a live third-party consent.",
        )
        clear = serializers.BooleanField(
            default=False,
            help_text=(
                "Export in clear (needs customers.export_clear_customer and a reason): "
                "only the customers you may reveal are in clear, the others masked."
            ),
        )
        reason = serializers.CharField(
            required=False, help_text="Why the export is needed in clear."
        )

    JobOutputSerializer = ExportJobOutputSerializer

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the file format here, not a DRF renderer.
        return super().perform_content_negotiation(request, force=True)

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise MethodNotAllowed(
            request.method,
            detail=_(
                "Export with POST and the format, purpose and filters in the body: a URL "
                "takes no filters."
            ),
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            202: JobOutputSerializer,
        },
    )
    def post(self, request):
        params = request.data if isinstance(request.data, dict) else {}
        result = exports.customer_export(
            actor=request.user,
            filter_params=filter_data(params),
            fmt=params.get("format", "csv"),
            purpose=params.get("purpose", exports.INTERNAL),
            clear=str(params.get("clear", "")).lower() in ("1", "true", "on"),
            reason=params.get("reason", ""),
        )
        if isinstance(result, ExportJob):
            data = self.JobOutputSerializer(result, context={"request": request}).data
            return Response(data, status=status.HTTP_202_ACCEPTED)
        return export_response(result)
