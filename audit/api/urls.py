from django.urls import path
from rest_framework.routers import APIRootView

from audit.api import views
from crm.api.paths import format_suffixes

# The browsable API's root of ``/api/v1/audit/``.
api_root = APIRootView.as_view(api_root_dict={"events": "audit-event-list"})

urlpatterns = format_suffixes(
    [
        path("", api_root, name="api-root"),
        path("events/", views.AuditEventListApi.as_view(), name="audit-event-list"),
        path(
            "events/<int:sequence>/",
            views.AuditEventDetailApi.as_view(),
            name="audit-event-detail",
        ),
    ]
)
