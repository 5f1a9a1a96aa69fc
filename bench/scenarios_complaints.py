"""The complaint board under load: HTTP scenarios for ``bench.http`` (the lead hooks them in).

``complaint_scenarios(session, *, counts: dict | None = None) -> list[Scenario]`` takes the
signed-in session of the bench's service manager (``servicemgr``, made by
``bench.load_complaints.service_users_create``) and answers:

* ``complaint_board`` — ``GET /complaints/``: the board by status (counts and the first
  cards of each column; a fixed number of queries whatever the number of complaints);
* ``complaint_board_overdue`` — ``GET /complaints/?overdue=true`` (the filter);
* ``complaint_api_queue`` — ``GET /api/v1/complaints/?status=received&overdue=true``.

``counts`` (``{"received": N, …}``, optional) adds the board's count markers.
"""

from __future__ import annotations

from bench.http import Scenario

ROLE = "service_manager"


def complaint_scenarios(session, *, counts: dict | None = None) -> list[Scenario]:
    markers = [b'id="count-received"']
    if counts:
        markers = [f'id="count-{status}">{number}<'.encode() for status, number in counts.items()]
    return [
        Scenario("complaint_board", ROLE, session, "GET", "/complaints/", markers=markers),
        Scenario(
            "complaint_board_overdue",
            ROLE,
            session,
            "GET",
            "/complaints/?overdue=true",
            markers=[b'id="count-received"'],
        ),
        Scenario(
            "complaint_api_queue",
            ROLE,
            session,
            "GET",
            "/api/v1/complaints/?status=received&overdue=true",
        ),
    ]


def board_counts() -> dict:
    """The board's counts as the service manager sees them (every complaint)."""
    from django.db.models import Count

    from complaints.models import Complaint

    return dict(
        Complaint.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
