"""``/api/v1/customers/…`` and the other customers-app endpoints."""

from django.urls import include, path

from crm.api.routers import DefaultRouter
from customers.api import campaigns, imports
from customers.api import customers as customer_api

router = DefaultRouter()
router.register("customers", customer_api.CustomerViewSet, basename="customer")
router.register("visit-plan", customer_api.VisitPlanViewSet, basename="visit-plan")
router.register(
    "reference/business-types", customer_api.BusinessTypeViewSet, basename="business-type"
)
router.register("reference/tiers", customer_api.TierViewSet, basename="tier")
router.register("reference/stages", customer_api.ServiceStageViewSet, basename="stage")

urlpatterns = [
    *imports.urlpatterns,
    *campaigns.urlpatterns,
    path("customers/merge/", customer_api.CustomerMergeApi.as_view(), name="customer-merge"),
    path("", include(router.urls)),
]
