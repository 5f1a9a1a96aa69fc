"""``/api/v1/``: the foundation's endpoints and each app's ``api/urls.py``."""

from django.urls import include, path

from crm.api import views
from crm.api.paths import format_suffixes
from crm.notifications import api as notification_api

urlpatterns = [
    path("auth/", include("crm.security.api")),
    path("users/me/", views.MeApi.as_view(), name="api-me"),
    path(
        "notifications/",
        notification_api.NotificationListApi.as_view(),
        name="notification-list",
    ),
    path(
        "notifications/read/",
        notification_api.NotificationsReadApi.as_view(),
        name="notifications-read",
    ),
    path("audit/", include("audit.api.urls")),
    path("", include("crm.exports.api")),
    path("", include("customers.api.urls")),
    path("analytics/", include("analytics.api.urls")),
    path("", include("complaints.api.urls")),
    path("credit/", include("credit.api.urls")),
    *format_suffixes(
        [
            path("teams/", views.TeamListCreateApi.as_view(), name="team-list"),
            path("teams/<int:pk>/", views.TeamDetailApi.as_view(), name="team-detail"),
        ]
    ),
]
