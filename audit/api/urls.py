from django.urls import path
from rest_framework.routers import APIRootView

from audit.api import privacy, views
from crm.api.paths import format_suffixes

# The browsable API's root of ``/api/v1/audit/``.
api_root = APIRootView.as_view(
    api_root_dict={
        "events": "audit-event-list",
        "requests": "audit-request-list",
        "legal-holds": "audit-legal-hold-list",
        "destruction-records": "audit-destruction-record-list",
        "alerts": "audit-alert-list",
        "incidents": "audit-incident-list",
    }
)

urlpatterns = format_suffixes(
    [
        path("", api_root, name="api-root"),
        path("events/", views.AuditEventListApi.as_view(), name="audit-event-list"),
        path(
            "events/<int:sequence>/",
            views.AuditEventDetailApi.as_view(),
            name="audit-event-detail",
        ),
        path("requests/", privacy.SubjectRequestListApi.as_view(), name="audit-request-list"),
        path(
            "requests/<int:pk>/",
            privacy.SubjectRequestDetailApi.as_view(),
            name="audit-request-detail",
        ),
        path(
            "requests/<int:pk>/close/",
            privacy.SubjectRequestCloseApi.as_view(),
            name="audit-request-close",
        ),
        path(
            "requests/<int:pk>/package/",
            privacy.SubjectRequestPackageApi.as_view(),
            name="audit-request-package",
        ),
        path("legal-holds/", privacy.LegalHoldListApi.as_view(), name="audit-legal-hold-list"),
        path(
            "legal-holds/<int:pk>/lift/",
            privacy.LegalHoldLiftApi.as_view(),
            name="audit-legal-hold-lift",
        ),
        path(
            "destruction-records/",
            privacy.DestructionRecordListApi.as_view(),
            name="audit-destruction-record-list",
        ),
        path(
            "destruction-records/<int:pk>/",
            privacy.DestructionRecordDetailApi.as_view(),
            name="audit-destruction-record-detail",
        ),
        path("alerts/", privacy.AccessAlertListApi.as_view(), name="audit-alert-list"),
        path("incidents/", privacy.IncidentListApi.as_view(), name="audit-incident-list"),
        path(
            "incidents/<int:pk>/",
            privacy.IncidentDetailApi.as_view(),
            name="audit-incident-detail",
        ),
        path(
            "incidents/<int:pk>/contacts/",
            privacy.IncidentContactsApi.as_view(),
            name="audit-incident-contacts",
        ),
    ]
)
