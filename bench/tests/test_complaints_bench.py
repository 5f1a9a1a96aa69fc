"""The complaints bench loader and board scenarios on a tiny data set (hermetic)."""

import pytest

from bench import load_complaints, scenarios_complaints
from complaints.models import Complaint
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


def test_loader_and_scenarios(client):
    owner = rep()
    for _ in range(4):
        make_customer(owner)
    counts = load_complaints.load_complaints(count=25, batch=10, password="x-Passw0rd!")
    assert counts["complaints"] == 25 and counts["complaints_total"] == 25
    assert load_complaints.load_complaints(count=25, batch=10)["complaints"] == 0
    complaint = Complaint.objects.filter(status="closed").first()
    assert complaint.description and complaint.history.count() == 1
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Complaint.Status.values)
    board = scenarios_complaints.board_counts()
    scenarios = scenarios_complaints.complaint_scenarios(None, counts=board)
    assert [s.name for s in scenarios] == [
        "complaint_board",
        "complaint_board_overdue",
        "complaint_api_queue",
    ]
    from crm.models import User

    client.force_login(User.objects.get(username="servicemgr"))
    html = client.get(scenarios[0].path)
    assert all(marker in html.content for marker in scenarios[0].markers)
    assert client.get(scenarios[2].path).status_code == 200
