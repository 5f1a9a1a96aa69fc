from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crm import views

admin.site.site_header = settings.CRM["COMPANY_NAME"]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", include("audit.urls")),
    path("customers/", include("customers.urls")),
    path("complaints/", include("complaints.urls")),
    path("credit/", include("credit.urls")),
    path("exports/", include("crm.exports.views")),
    path("notifications/", include("crm.notifications.views")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("crm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler403 = "crm.views.error_403"
handler404 = "crm.views.error_404"
handler500 = "crm.views.error_500"
