"""HTML pages of the analytics app."""

from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.report_page, name="reports"),
    path("estimates/", views.estimate_list, name="estimates"),
    path(
        "estimates/<int:estimate_id>/history/",
        views.estimate_history,
        name="estimate-history",
    ),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="run-retry"),
    path("runs/<int:run_id>/download/", views.run_download, name="run-download"),
]
