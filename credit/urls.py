"""HTML pages of the credit app."""

app_name = "credit"

urlpatterns: list = []
