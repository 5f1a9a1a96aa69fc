from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("events/", views.audit_event_list_view, name="event-list"),
    path("events/export.<str:file_format>", views.audit_event_export_view, name="event-export"),
    path(
        "customers/<str:code>/accesses/",
        views.customer_accesses_view,
        name="customer-accesses",
    ),
    path("incidents/", views.incident_list_view, name="incident-list"),
    path("incidents/new/", views.incident_create_view, name="incident-create"),
    path("incidents/<int:pk>/", views.incident_detail_view, name="incident-detail"),
    path(
        "incidents/<int:pk>/contacts/",
        views.incident_contacts_view,
        name="incident-contacts",
    ),
    path("evidence/", views.evidence_view, name="evidence"),
    path("evidence/report.csv", views.evidence_csv_view, name="evidence-csv"),
    path("retention/", views.retention_view, name="retention"),
    path(
        "retention/policies/<int:pk>/",
        views.retention_policy_update_view,
        name="retention-policy-update",
    ),
    path("retention/holds/<int:pk>/lift/", views.legal_hold_lift_view, name="legal-hold-lift"),
    path(
        "retention/records/<int:pk>/",
        views.destruction_record_download_view,
        name="destruction-record-download",
    ),
    path("requests/", views.request_list_view, name="request-list"),
    path("requests/<int:pk>/", views.request_detail_view, name="request-detail"),
    path(
        "requests/<int:pk>/package.<str:file_format>",
        views.request_package_view,
        name="request-package",
    ),
    path("monitoring/", views.monitoring_view, name="monitoring"),
    path(
        "monitoring/alerts/<int:pk>/acknowledge/",
        views.alert_acknowledge_view,
        name="alert-acknowledge",
    ),
]
