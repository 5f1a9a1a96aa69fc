"""The complaint pages: board, complaint, receipt, look-up, reports, the card's tab, the
dashboard panel; who may open each, and bounded queries."""

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import Complaint
from complaints.tests.factories import aware, make_complaint, service_manager, service_staff
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_sign_in(client):
    for name, args in (
        ("complaints:board", []),
        ("complaints:lookup", []),
        ("complaints:create", []),
        ("complaints:reports", []),
        ("complaints:detail", [1]),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("role", "board", "lookup", "reports"),
    [
        (roles.SERVICE_STAFF, 200, 200, 403),
        (roles.SERVICE_MANAGER, 200, 200, 200),
        (roles.GENERAL_MANAGER, 200, 403, 200),
        (roles.SALES_REP, 200, 403, 403),
        (roles.ADMIN, 403, 403, 403),
    ],
)
def test_pages_by_role(client, role, board, lookup, reports):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("complaints:board")).status_code == board
    assert client.get(reverse("complaints:lookup")).status_code == lookup
    assert client.get(reverse("complaints:reports")).status_code == reports


def test_board_columns_counts_and_queries(client, assert_queries):
    manager = service_manager()
    for n in range(4):
        make_complaint(actor=manager, received_at=aware(f"2026-01-0{n + 5} 09:00"))
    started = make_complaint(actor=manager)
    services.complaint_transition(actor=manager, complaint_id=started.pk, to="investigating")
    client.force_login(manager)
    client.get(reverse("complaints:board"))
    # The assignee picker (the users who handle complaints) is one of them.
    with assert_queries(default=9, keys=1):
        response = client.get(reverse("complaints:board"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="count-received">4<' in html and 'id="count-investigating">1<' in html
    assert "overdue" in html
    filtered = client.get(reverse("complaints:board"), {"severity": "high"}).content.decode()
    assert 'id="count-received">0<' in filtered
    # Twice the cards, of other customers and categories: the same queries.
    for n in range(5):
        make_complaint(actor=manager, category=["billing", "other"][n % 2], severity="low")
    with assert_queries(default=9, keys=1):
        response = client.get(reverse("complaints:board"))
    assert 'id="count-received">9<' in response.content.decode()


def test_board_move_button(client):
    staff = service_staff()
    complaint = make_complaint(actor=staff)
    client.force_login(staff)
    response = client.post(
        reverse("complaints:move", args=[complaint.pk]),
        {"to": "investigating"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Complaint.objects.get(pk=complaint.pk).status == "investigating"
    client.post(reverse("complaints:move", args=[complaint.pk]), {"to": "closed"})
    assert Complaint.objects.get(pk=complaint.pk).status == "investigating"


def test_complaint_page_and_actions(client):
    manager, staff = service_manager(), service_staff()
    complaint = make_complaint(actor=manager, description="客户说包装破损")
    client.force_login(manager)
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert complaint.code in page and "客户说包装破损" in page
    client.post(reverse("complaints:action", args=[complaint.pk, "assign"]), {"user": staff.pk})
    client.force_login(staff)
    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "transition"]), {"to": "closed"}
    )
    assert response.status_code == 200 and "cannot move" in response.content.decode()
    client.post(reverse("complaints:action", args=[complaint.pk, "note"]), {"note": "已回电"})
    revealed = client.post(reverse("complaints:action", args=[complaint.pk, "reveal"]))
    assert complaint.customer.phone in revealed.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).events.filter(kind="note").count() == 1


def test_a_complaint_of_someone_else_is_404(client):
    manager, staff = service_manager(), service_staff()
    complaint = make_complaint(actor=manager)
    services.complaint_assign(actor=manager, complaint_id=complaint.pk, assignee=service_staff())
    client.force_login(staff)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404
    rep = UserFactory(role=roles.SALES_REP)
    client.force_login(rep)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404


def test_lookup_then_log_a_complaint(client):
    staff = service_staff()
    customer = make_customer(phone="13500135000")
    client.force_login(staff)
    page = client.post(
        reverse("complaints:lookup"),
        {"by": "phone", "value": "13500135000", "purpose": "log_complaint"},
    ).content.decode()
    assert customer.code in page and "135****5000" in page and "13500135000" not in page
    response = client.post(
        reverse("complaints:create"),
        {
            "customer": customer.pk,
            "kind": "complaint",
            "channel": "phone",
            "category": "delivery",
            "severity": "low",
            "description": "迟到",
        },
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.customer == customer


def test_card_tab_and_timeline(client):
    complaint = make_complaint()
    owner = complaint.customer.owner
    client.force_login(owner)
    tab = client.get(reverse("customers:detail", args=[complaint.customer_id]) + "?tab=complaints")
    assert tab.status_code == 200 and complaint.code in tab.content.decode()
    timeline = client.get(
        reverse("customers:detail", args=[complaint.customer_id]) + "?tab=timeline"
    ).content.decode()
    assert f"Complaint {complaint.code}" in timeline


def test_dashboard_panel_for_service_staff(client, assert_queries):
    staff = service_staff()
    complaint = make_complaint(actor=staff)
    services.complaint_assign(actor=staff, complaint_id=complaint.pk, assignee=staff)
    client.force_login(staff)
    html = client.get(reverse("home")).content.decode()
    assert "My complaints" in html and complaint.code in html


def test_reports_page_runs_a_fixed_number_of_queries(client, assert_queries):
    manager = service_manager()
    client.force_login(manager)
    make_complaint(actor=manager)
    client.get(reverse("complaints:reports"))
    with assert_queries(keys=0) as few:
        client.get(reverse("complaints:reports"))
    for n in range(6):
        make_complaint(
            actor=manager,
            category=["delivery", "billing", "other"][n % 3],
            channel=["phone", "online"][n % 2],
            received_at=aware(f"2026-0{n + 1}-05 10:00"),
        )
    with assert_queries(default=few["default"], keys=0):
        response = client.get(reverse("complaints:reports"))
    assert response.status_code == 200 and "<td>7</td>" in response.content.decode()


def test_reports_page_and_csv(client):
    make_complaint()
    client.force_login(service_manager())
    page = client.get(reverse("complaints:reports"))
    assert page.status_code == 200 and "csat-chart" in page.content.decode()
    csv = client.get(reverse("complaints:reports"), {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and b"total,1" in csv.content


def test_board_cards_are_draggable_onto_status_columns(client):
    staff = service_staff()
    complaint = make_complaint(actor=staff)
    client.force_login(staff)
    html = client.get(reverse("complaints:board")).content.decode()
    move = reverse("complaints:move", args=[complaint.pk])
    assert f'id="complaint-{complaint.pk}" draggable="true" data-move-url="{move}"' in html
    for status in Complaint.Status.values:
        assert f'data-drop-status="{status}"' in html
    # A reader (no right to move) gets neither handles nor drop targets.
    client.force_login(UserFactory(role=roles.GENERAL_MANAGER))
    html = client.get(reverse("complaints:board")).content.decode()
    assert "draggable" not in html and "data-drop-status" not in html


def test_a_drop_posts_the_move_and_an_illegal_one_shows_the_error(client):
    staff = service_staff()
    complaint = make_complaint(actor=staff, severity="high")
    client.force_login(staff)
    move = reverse("complaints:move", args=[complaint.pk])
    # What board.js posts: the target column's status and the board's filters.
    refused = client.post(move, {"to": "closed", "severity": "high"}, HTTP_HX_REQUEST="true")
    html = refused.content.decode()
    assert refused.status_code == 200 and 'id="board-messages"' in html
    assert "cannot move to Closed" in html and "it can move to: Investigating" in html
    assert Complaint.objects.get(pk=complaint.pk).status == "received"
    moved = client.post(move, {"to": "investigating", "severity": "high"}, HTTP_HX_REQUEST="true")
    html = moved.content.decode()
    assert "board-messages" not in html
    assert 'id="count-investigating">1<' in html and 'id="count-received">0<' in html
    assert Complaint.objects.get(pk=complaint.pk).status == "investigating"
    # The filters sent with the move still apply to the columns answered.
    other = client.post(move, {"to": "resolved", "severity": "low"}, HTTP_HX_REQUEST="true")
    assert 'id="count-investigating">0<' in other.content.decode()


def test_reports_xlsx_holds_the_figures(client):
    import io

    import openpyxl

    from complaints.models import RootCause

    manager = service_manager()
    for category, channel in (("delivery", "phone"), ("delivery", "online"), ("billing", "phone")):
        make_complaint(
            actor=manager, category=category, channel=channel, received_at=aware("2026-02-03 10:00")
        )
    Complaint.objects.filter(category__code="billing").update(
        satisfaction_score=5, root_cause=RootCause.objects.get(code="staff-error")
    )
    Complaint.objects.filter(channel="online").update(satisfaction_score=2)
    client.force_login(manager)
    response = client.get(reverse("complaints:reports"), {"format": "xlsx", "start": "2026-02-01"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="service-report.xlsx"' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Measures", "By category", "By channel", "Root causes"]
    measures = dict(workbook["Measures"].iter_rows(min_row=2, values_only=True))
    assert measures["total"] == 3
    assert measures["csat_average"] == 3.5
    assert (measures["csat_2"], measures["csat_5"], measures["csat_1"]) == (1, 1, 0)
    assert measures["survey_invited"] == 0
    assert list(workbook["By category"].iter_rows(values_only=True)) == [
        ("period", "category", "count"),
        ("2026-02-01", "billing", 1),
        ("2026-02-01", "delivery", 2),
    ]
    assert list(workbook["By channel"].iter_rows(min_row=2, values_only=True)) == [
        ("2026-02-01", "online", 1),
        ("2026-02-01", "phone", 2),
    ]
    assert list(workbook["Root causes"].iter_rows(min_row=2, values_only=True)) == [
        ("staff-error", 1)
    ]
    # Who may not see the reports gets no file either.
    client.force_login(service_staff())
    assert client.get(reverse("complaints:reports"), {"format": "xlsx"}).status_code == 403
