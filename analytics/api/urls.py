"""``/api/v1/analytics/`` endpoints."""

urlpatterns: list = []
