from audit.api.views import AuditEventViewSet
from crm.api.routers import DefaultRouter

router = DefaultRouter()
router.register("events", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
