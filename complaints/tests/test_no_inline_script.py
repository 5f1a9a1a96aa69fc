"""Under the strict CSP (``script-src 'self'``) an inline script or an ``on…=`` handler would
not run: the complaint pages load static files only."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from complaints import services
from complaints.tests.factories import make_complaint, service_manager
from customers.services.records import consent_record
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def inline_scripts(html: str) -> list[str]:
    return [attrs for attrs in SCRIPT_TAG.findall(html) if "src=" not in attrs]


def test_the_checks_find_what_they_look_for():
    assert inline_scripts('<script>alert(1)</script><script src="/s.js"></script>') == [""]
    assert inline_scripts('<script type="application/json" id="x">{}</script>') != []
    assert HANDLER.search('<button onclick="go()">') and HANDLER.search("<a onmouseover = 'x'>")
    assert not HANDLER.search('<a class="once" data-on="1" href="/on">')


def test_complaint_pages_have_no_inline_script_and_no_handler(client):
    manager = service_manager()
    complaint = make_complaint(actor=manager)
    customer = make_customer(email="page@example.com")
    consent_record(
        actor=customer.owner,
        customer=customer,
        purpose="service",
        channel="paper",
        policy_version="v1",
    )
    survey = services.survey_save(actor=manager, name="调查", period="monthly", question="满意吗？")
    services.survey_round_send(survey_id=survey.pk)
    token = mail.outbox[0].body.split("/complaints/survey/")[1].split("/")[0]
    client.force_login(manager)
    pages = {
        "board": reverse("complaints:board"),
        "detail": reverse("complaints:detail", args=[complaint.pk]),
        "reports": reverse("complaints:reports"),
        "lookup": reverse("complaints:lookup"),
        "form": reverse("complaints:create"),
        "surveys": reverse("complaints:surveys"),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert inline_scripts(html) == [], name
        assert HANDLER.search(html) is None, name
        assert "<script" in html  # the static files are there
    board = client.get(pages["board"]).content.decode()
    assert "complaints/board.js" in board and "complaints/forms.js" in board
    assert "complaints/reports.js" in client.get(pages["reports"]).content.decode()
    # The public survey page, without a login.
    client.logout()
    html = client.get(reverse("complaints:survey", args=[token])).content.decode()
    assert inline_scripts(html) == [] and HANDLER.search(html) is None


def test_the_static_files_exist():
    from django.contrib.staticfiles import finders

    for path in ("complaints/board.js", "complaints/forms.js", "complaints/reports.js"):
        assert finders.find(path), path
