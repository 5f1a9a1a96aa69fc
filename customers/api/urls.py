"""``/api/v1/customers/`` endpoints."""

urlpatterns: list = []
