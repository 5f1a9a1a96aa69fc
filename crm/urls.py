from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm import views
from crm.api.permissions import SchemaAccess

admin.site.site_header = settings.CRM["COMPANY_NAME"]
# In production the schema and its docs are for signed-in users only (issue 14 item 5).
_SCHEMA_ACCESS = [SchemaAccess]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", include("audit.urls")),
    path("customers/", include("customers.urls")),
    path("analytics/", include("analytics.urls")),
    path("complaints/", include("complaints.urls")),
    path("credit/", include("credit.urls")),
    path("exports/", include("crm.exports.views")),
    path("notifications/", include("crm.notifications.views")),
    path("security/", include("crm.security.urls")),
    path("users/", include("crm.users.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("crm.api.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=_SCHEMA_ACCESS),
        name="api-schema",
    ),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", permission_classes=_SCHEMA_ACCESS
        ),
        name="api-docs",
    ),
]

# JSON under /api/, the friendly pages elsewhere (security.errors).
handler400 = "crm.security.errors.error_400"
handler403 = "crm.security.errors.error_403"
handler404 = "crm.security.errors.error_404"
handler500 = "crm.security.errors.error_500"
