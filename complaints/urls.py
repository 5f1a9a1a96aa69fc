"""HTML pages of the complaints app."""

from django.urls import path

from complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.board_view, name="board"),
    path("new/", views.create_view, name="create"),
    path("lookup/", views.lookup_view, name="lookup"),
    path("reports/", views.reports_view, name="reports"),
    path("surveys/", views.surveys_view, name="surveys"),
    path("surveys/<int:pk>/send/", views.survey_send_view, name="survey-send"),
    path("survey/<str:token>/", views.survey_answer_view, name="survey"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/move/", views.board_move_view, name="move"),
    path(
        "<int:pk>/<slug:action>/",
        views.action_view,
        name="action",
    ),
]
