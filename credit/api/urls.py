"""``/api/v1/credit/`` endpoints."""

urlpatterns: list = []
