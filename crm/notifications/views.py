"""The bell: the badge in the header, the list of one's notifications, marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from crm import notifications

app_name = "notifications"

PAGE_SIZE = 25


@login_required
@require_GET
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    rows = notifications.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"row": row, "text": notifications.text_of(row)} for row in page.object_list]
    return render(
        request,
        "crm/notifications/list.html",
        {"page_obj": page, "items": items, "unread_only": unread_only},
    )


@login_required
@require_GET
@never_cache
def notification_badge(request):
    """The bell's count, loaded by htmx after the page so no page pays a query for it
    (rendered without the request's context processors: a fragment needs no menu)."""
    return HttpResponse(
        render_to_string(
            "crm/notifications/_badge.html", {"unread": notifications.unread_count(request.user)}
        )
    )


@login_required
@require_POST
def notification_open(request, notification_id: int):
    row = notifications.notification_open(user=request.user, notification_id=notification_id)
    if row is None:
        raise Http404
    if row.link and url_has_allowed_host_and_scheme(row.link, allowed_hosts=None):
        return redirect(row.link)
    return redirect("notifications:list")


@login_required
@require_POST
def notifications_read(request):
    notifications.notifications_mark_read(user=request.user)
    return redirect("notifications:list")


urlpatterns = [
    path("", notification_list, name="list"),
    path("badge/", notification_badge, name="badge"),
    path("read/", notifications_read, name="read-all"),
    path("<int:notification_id>/open/", notification_open, name="open"),
]
