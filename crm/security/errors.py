"""Error handlers: JSON under ``/api/`` (every API error has a JSON body), pages elsewhere.

A page refused to someone who has not signed in sends him to the sign-in page instead of a
403 (views guarded by ``permission_required(raise_exception=True)`` alone would tell an
anonymous visitor "forbidden" where every other page asks him to sign in).
"""

from django.contrib.auth.views import redirect_to_login
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
    user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        safe_to_repeat = request.method in ("GET", "HEAD")
        return redirect_to_login(request.get_full_path() if safe_to_repeat else "/")
    return crm_views.error_403(request, exception)


def error_404(request, exception=None):
    if _api(request):
        return api_error_response(404, exception)
    return crm_views.error_404(request, exception)


def error_500(request):
    if _api(request):
        return api_error_response(500)
    return crm_views.error_500(request)
