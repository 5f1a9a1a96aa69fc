"""Pages of the foundation: home, health, and the friendly error pages."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm import dashboard, health, navigation

logger = logging.getLogger(__name__)


@login_required
def home(request):
    """What the signed-in user may open, and (as apps land) their work for today."""
    return render(
        request,
        "crm/home.html",
        {
            "entries": navigation.entries_for(request.user),
            "dashboard_panels": dashboard.panels_for(request.user),
        },
    )


@require_GET
@never_cache
def healthz(request):
    state = health.health()
    healthy = all(value == "ok" for value in state.values())
    if not healthy:
        logger.warning("health check failed: %s", state)
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **state}, status=200 if healthy else 503
    )


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
