"""Error handlers: JSON under ``/api/`` (every API error has a JSON body), pages elsewhere."""

from django.shortcuts import render

from crm import views as crm_views
from crm.api.exceptions import api_error_response


def _api(request) -> bool:
    return request.path.startswith("/api/")


def error_400(request, exception=None):
    if _api(request):
        return api_error_response(400, exception)
    return render(request, "400.html", status=400)


def error_403(request, exception=None):
    if _api(request):
        return api_error_response(403, exception)
    return crm_views.error_403(request, exception)


def error_404(request, exception=None):
    if _api(request):
        return api_error_response(404, exception)
    return crm_views.error_404(request, exception)


def error_500(request):
    if _api(request):
        return api_error_response(500)
    return crm_views.error_500(request)
