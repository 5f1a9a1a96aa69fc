"""Satisfaction surveys: a round invites the customers with live consent only, once; the
signed link answers once without a login; altered or expired links are refused; audited."""

import datetime
import io
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from complaints import events, selectors, services
from complaints.models import Survey, SurveyInvitation
from complaints.tests.factories import service_manager, service_staff
from crm import roles
from crm.tests.factories import UserFactory
from customers.services.records import consent_record, consent_withdraw
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


def consenting(email="kunde@example.com", purpose="service", **kwargs):
    customer = make_customer(email=email, **kwargs)
    consent_record(
        actor=customer.owner,
        customer=customer,
        purpose=purpose,
        channel="paper",
        policy_version="v1",
    )
    return customer


def make_survey(period="monthly", **kwargs):
    return services.survey_save(
        actor=service_manager(),
        name=kwargs.pop("name", "服务满意度"),
        period=period,
        question=kwargs.pop("question", "您对我们的服务满意吗？"),
        **kwargs,
    )


def token_of(message) -> str:
    path = reverse("complaints:survey", args=["TOKEN"]).split("TOKEN")[0]
    url = next(line for line in message.body.splitlines() if path in line)
    return url.split(path)[1].rstrip("/")


def test_round_invites_only_customers_with_live_consent():
    live = consenting(email="live@example.com")
    withdrawn = consenting(email="gone@example.com")
    consent_withdraw(actor=withdrawn.owner, consent=withdrawn.consents.get())
    consenting(email="marketing@example.com", purpose="marketing")  # another purpose
    make_customer(email="none@example.com")  # no consent at all
    consenting(email="")  # consent, but no address
    survey = make_survey()

    counts = services.survey_round_send(survey_id=survey.pk, today=datetime.date(2026, 11, 20))

    assert counts == {"invited": 1, "no_email": 1, "failed": 0}
    assert [m.to for m in mail.outbox] == [["live@example.com"]]
    invitation = SurveyInvitation.objects.get()
    assert (invitation.customer, invitation.round, invitation.channel) == (live, "2026-11", "email")
    assert invitation.data_key_id == live.data_key_id and invitation.responded_at is None
    event = AuditEvent.objects.get(action=events.SURVEY_ROUND_SENT)
    assert event.data == {"round": "2026-11", "invited": 1, "no_email": 1, "failed": 0}


def test_a_round_is_idempotent_and_the_next_round_invites_again():
    consenting(email="a@example.com")
    survey = make_survey(period="quarterly")
    services.survey_round_send(survey_id=survey.pk, today=datetime.date(2026, 10, 1))
    again = services.survey_round_send(survey_id=survey.pk, today=datetime.date(2026, 12, 31))
    assert again["invited"] == 0 and len(mail.outbox) == 1
    consenting(email="b@example.com")  # consented since: invited by the next run
    late = services.survey_round_send(survey_id=survey.pk, today=datetime.date(2026, 12, 31))
    assert late["invited"] == 1 and len(mail.outbox) == 2
    following = services.survey_round_send(survey_id=survey.pk, today=datetime.date(2027, 1, 2))
    assert following["invited"] == 2
    assert sorted(SurveyInvitation.objects.values_list("round", flat=True)) == [
        "2026-Q4",
        "2026-Q4",
        "2027-Q1",
        "2027-Q1",
    ]


def test_an_inactive_survey_sends_nothing():
    consenting()
    survey = make_survey(is_active=False)
    assert services.survey_round_send(survey_id=survey.pk)["invited"] == 0
    assert mail.outbox == []


def test_the_message_and_link_carry_nothing_personal():
    customer = consenting(email="private@example.com", name="王小明")
    survey = make_survey()
    services.survey_round_send(survey_id=survey.pk)
    message = mail.outbox[0]
    token = token_of(message)
    assert "王小明" not in message.body and customer.code not in message.body
    assert customer.phone not in token and "private" not in token and customer.code not in token


def test_link_answers_once_without_login(client):
    consenting()
    survey = make_survey(question="您对本月的服务满意吗？")
    services.survey_round_send(survey_id=survey.pk)
    token = token_of(mail.outbox[0])
    url = reverse("complaints:survey", args=[token])

    page = client.get(url)
    assert page.status_code == 200
    assert "您对本月的服务满意吗？" in page.content.decode()
    response = client.post(url, {"score": "4", "comment": "送货很快"})
    assert response.status_code == 200 and "Thank you for your answer" in response.content.decode()
    invitation = SurveyInvitation.objects.get()
    assert (invitation.score, invitation.comment) == (4, "送货很快")
    assert invitation.responded_at is not None
    event = AuditEvent.objects.get(action=events.SURVEY_ANSWERED)
    assert event.actor is None
    assert event.data == {
        "survey_id": survey.pk,
        "round": invitation.round,
        "fields": ["score", "comment"],
    }
    assert "送货很快" not in str(event.data)

    second = client.post(url, {"score": "1"})
    assert "already been answered" in second.content.decode()
    invitation.refresh_from_db()
    assert invitation.score == 4
    assert AuditEvent.objects.filter(action=events.SURVEY_ANSWERED).count() == 1
    with pytest.raises(services.SurveyAlreadyAnswered):
        services.survey_respond(token=token, score=2)


def test_the_answer_page_shows_no_personal_data(client):
    customer = consenting(email="seen@example.com", name="赵六")
    survey = make_survey()
    services.survey_round_send(survey_id=survey.pk)
    html = client.get(reverse("complaints:survey", args=[token_of(mail.outbox[0])])).content
    html = html.decode()
    for value in ("赵六", customer.code, customer.phone, "seen@example.com"):
        assert value not in html


def test_a_bad_score_is_refused_and_nothing_saved(client):
    consenting()
    survey = make_survey()
    services.survey_round_send(survey_id=survey.pk)
    url = reverse("complaints:survey", args=[token_of(mail.outbox[0])])
    response = client.post(url, {"score": "6"})
    assert response.status_code == 400 and "from 1 to 5" in response.content.decode()
    assert SurveyInvitation.objects.get().responded_at is None


def test_an_altered_link_is_refused(client):
    consenting()
    survey = make_survey()
    services.survey_round_send(survey_id=survey.pk)
    token = token_of(mail.outbox[0])
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (altered, "not-a-token", services.survey_token(SurveyInvitation(pk=999999))):
        response = client.post(reverse("complaints:survey", args=[bad]), {"score": "5"})
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert SurveyInvitation.objects.get().responded_at is None


def _signed_days_ago(days: float):
    """Links signed ``days`` ago: the signer's clock set back while the round is sent."""
    moment = int(time.time() - days * 24 * 3600)
    return mock.patch.object(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(moment)
    )


def test_an_expired_link_is_refused(client):
    old, recent = consenting(email="old@example.com"), consenting(email="recent@example.com")
    survey = make_survey()
    with _signed_days_ago(services.SURVEY_LINK_DAYS + 0.01):
        services.survey_round_send(survey_id=survey.pk)
    tokens = {m.to[0]: token_of(m) for m in mail.outbox}
    response = client.post(reverse("complaints:survey", args=[tokens[old.email]]), {"score": "5"})
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert SurveyInvitation.objects.filter(responded_at__isnull=False).count() == 0
    # Signed a day short of the limit: still answers.
    invitation = SurveyInvitation.objects.get(customer=recent)
    with _signed_days_ago(services.SURVEY_LINK_DAYS - 1):
        token = services.survey_token(invitation)
    assert services.survey_respond(token=token, score=5).score == 5


def test_the_command_and_the_task_send_the_due_rounds():
    from complaints import tasks

    consenting(email="one@example.com")
    make_survey(name="A")
    make_survey(name="B", period="yearly")
    out = io.StringIO()
    call_command("send_surveys", stdout=out)
    assert out.getvalue().strip() == "2 invited, 0 without e-mail, 0 failed"
    assert tasks.surveys_send_due() == {"invited": 0, "no_email": 0, "failed": 0}
    assert SurveyInvitation.objects.count() == 2


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (roles.SERVICE_MANAGER, True),
        (roles.SERVICE_STAFF, False),
        (roles.SALES_MANAGER, False),
        (roles.GENERAL_MANAGER, False),
        (roles.ADMIN, False),
    ],
)
def test_who_runs_surveys(client, role, allowed):
    user = UserFactory(role=role)
    if allowed:
        services.survey_save(actor=user, name="季度调查", period="quarterly", question="?")
        assert AuditEvent.objects.filter(action=events.SURVEY_SAVED, actor=user).count() == 1
    else:
        with pytest.raises(PermissionDenied):
            services.survey_save(actor=user, name="季度调查", period="quarterly", question="?")
        assert not Survey.objects.exists()
    client.force_login(user)
    assert client.get(reverse("complaints:surveys")).status_code == (200 if allowed else 403)


def test_surveys_page_creates_and_queues_a_round(client, django_capture_on_commit_callbacks):
    consenting(email="page@example.com")
    manager = service_manager()
    client.force_login(manager)
    response = client.post(
        reverse("complaints:surveys"),
        {"name": "月度调查", "period": "monthly", "question": "满意吗？"},
    )
    assert response.status_code == 302
    survey = Survey.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("complaints:survey-send", args=[survey.pk]))
    assert SurveyInvitation.objects.filter(survey=survey).count() == 1
    page = client.get(reverse("complaints:surveys")).content.decode()
    assert "月度调查" in page and timezone.localdate().strftime("%Y-%m") in page
    client.force_login(service_staff())
    assert client.post(reverse("complaints:survey-send", args=[survey.pk])).status_code == 403


def test_survey_report_against_a_hand_computed_set(assert_queries):
    customers = [consenting(email=f"r{n}@example.com") for n in range(5)]
    survey = make_survey()
    services.survey_round_send(survey_id=survey.pk, today=datetime.date(2026, 11, 2))
    tokens = {m.to[0]: token_of(m) for m in mail.outbox}
    for n, score in ((0, 5), (1, 4), (2, 4)):
        services.survey_respond(token=tokens[customers[n].email], score=score)

    with assert_queries(default=2, keys=0):
        report = selectors.survey_report()
    assert report == {
        "invited": 5,
        "answered": 3,
        "response_rate": Decimal("60.0"),
        "csat_average": Decimal("4.33"),
        "csat_distribution": {1: 0, 2: 0, 3: 0, 4: 2, 5: 1},
    }
    later = selectors.survey_report(start=timezone.localdate() + datetime.timedelta(days=1))
    assert later["invited"] == 0 and later["csat_average"] is None
