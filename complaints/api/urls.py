"""``/api/v1/complaints/`` endpoints: one ``path()`` each; the words before the ids."""

from django.urls import path

from complaints.api import calendar, complaints, reports

urlpatterns = [
    path("complaints/", complaints.ComplaintListCreateApi.as_view(), name="complaint-list"),
    path("complaints/lookup/", complaints.CallerLookupApi.as_view(), name="complaint-lookup"),
    path("complaints/reports/", reports.ServiceReportApi.as_view(), name="complaint-reports"),
    path(
        "complaints/calendar/due/", calendar.CalendarDueApi.as_view(), name="complaint-calendar-due"
    ),
    path(
        "complaints/calendar/days/<str:day>/",
        calendar.CalendarDayApi.as_view(),
        name="complaint-calendar-day",
    ),
    path("complaints/<int:pk>/", complaints.ComplaintDetailApi.as_view(), name="complaint-detail"),
    path(
        "complaints/<int:pk>/transition/",
        complaints.ComplaintTransitionApi.as_view(),
        name="complaint-transition",
    ),
    path(
        "complaints/<int:pk>/assign/",
        complaints.ComplaintAssignApi.as_view(),
        name="complaint-assign",
    ),
    path(
        "complaints/<int:pk>/notes/", complaints.ComplaintNoteApi.as_view(), name="complaint-notes"
    ),
    path(
        "complaints/<int:pk>/return-visit/",
        complaints.ComplaintReturnVisitApi.as_view(),
        name="complaint-return-visit",
    ),
    path("complaints/<int:pk>/link/", complaints.ComplaintLinkApi.as_view(), name="complaint-link"),
    path(
        "complaints/<int:pk>/reveal/",
        complaints.ComplaintRevealApi.as_view(),
        name="complaint-reveal",
    ),
]
