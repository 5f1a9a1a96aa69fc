"""``/api/v1/``: the foundation's endpoints and each app's ``api/urls.py``."""

from django.urls import include, path

from crm.api import views
from crm.api.routers import DefaultRouter

router = DefaultRouter()
router.register("teams", views.TeamViewSet, basename="team")

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-token"),
    path("users/me/", views.MeApi.as_view(), name="api-me"),
    path("audit/", include("audit.api.urls")),
    path("", include("crm.exports.api")),
    path("", include("customers.api.urls")),
    path("", include(router.urls)),
]
