from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("events/", views.audit_event_list_view, name="event-list"),
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
