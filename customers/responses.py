"""HTTP responses shared by the pages and the API of the customers app."""

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_cache_control

from customers.services.exports import ExportResult


def export_response(result: ExportResult) -> HttpResponse:
    """An export as a download: CSV streamed as it is produced, XLSX in one piece."""
    if result.content_type.startswith("text/csv"):
        response = StreamingHttpResponse(result.chunks, content_type=result.content_type)
    else:
        response = HttpResponse(b"".join(result.chunks), content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["X-Export-Count"] = str(result.count)
    response["X-Export-Left-Out"] = str(result.left_out)
    response["X-Export-Clear-Count"] = str(result.clear_count)
    patch_cache_control(response, no_store=True, private=True)
    return response
