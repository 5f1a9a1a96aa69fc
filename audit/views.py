"""The audit console: the trail, filtered, newest first."""

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from audit.filters import AuditEventFilter
from audit.selectors import audit_event_list


@permission_required("audit.view_auditevent", raise_exception=True)
def audit_event_list_view(request):
    filterset = AuditEventFilter(request.GET, queryset=audit_event_list(user=request.user))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    template = "audit/_event_rows.html" if request.htmx else "audit/event_list.html"
    return render(request, template, {"filter": filterset, "page": page})
