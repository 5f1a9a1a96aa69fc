from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("events/", views.audit_event_list_view, name="event-list"),
]
