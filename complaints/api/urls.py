"""``/api/v1/complaints/`` endpoints."""

urlpatterns: list = []
