"""``/api/v1/``: the foundation's endpoints and each app's ``api/urls.py``."""

from django.urls import include, path

from crm.api import users, views
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
            path("users/", users.UserListCreateApi.as_view(), name="user-list"),
            path("users/<int:pk>/", users.UserDetailApi.as_view(), name="user-detail"),
            path(
                "users/<int:pk>/deactivate/",
                users.UserDeactivateApi.as_view(),
                name="user-deactivate",
            ),
            path(
                "users/<int:pk>/reactivate/",
                users.UserReactivateApi.as_view(),
                name="user-reactivate",
            ),
            path(
                "users/<int:pk>/password-reset/",
                users.UserPasswordResetApi.as_view(),
                name="user-password-reset",
            ),
        ]
    ),
]
