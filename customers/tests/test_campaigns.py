"""Relationship campaigns (DESIGN §6.5): audience, consent at sending time, send log,
unsubscribe link, resending, visibility, permissions and query counts."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import roles
from crm.fields import change_reason_of
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, selectors, services
from customers.models import Campaign, CampaignSend, Customer, Tier
from customers.services import campaigns
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

MARKETING = [services.ConsentInput("marketing", "email", "2026-01")]
SERVICE_ONLY = [services.ConsentInput("service", "paper", "2026-01")]
LINK = re.compile(r"https?://\S+/customers/unsubscribe/\S+/")


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def north():
    """A team with a manager and a rep, and the customers of the rep."""
    team = TeamFactory(name="North")
    manager = manager_of(team)
    member = rep(team=team)
    return team, manager, member


def customer_with(owner, *, email="", consents=(), **kwargs) -> Customer:
    return make_customer(owner, email=email, consents=list(consents), **kwargs)


def new_campaign(actor, **kwargs) -> Campaign:
    values = {
        "name": "Spring news",
        "kind": Campaign.Kind.NEWSLETTER,
        "subject": "What is new this spring",
        "body": "Dear customer,\nour spring range is here.",
        "audience_filter": {},
        **kwargs,
    }
    return campaigns.campaign_create(actor=actor, **values)


def send_now(actor, campaign, capture) -> Campaign:
    with capture(execute=True):
        campaigns.campaign_queue(actor=actor, campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def results(campaign) -> dict[int, str]:
    return dict(campaign.sends.values_list("customer_id", "result"))


def withdraw_marketing(customer) -> None:
    for consent in customer.consents.filter(purpose="marketing", withdrawn_at__isnull=True):
        services.consent_withdraw(actor=customer.owner, consent=consent, reason="asked by phone")


def live_marketing(customer) -> bool:
    return customer.consents.filter(purpose="marketing", withdrawn_at__isnull=True).exists()


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- create and audience ------------------------------------------------------------------


def test_create_stores_normalised_filters_and_audits(north):
    team, manager, _member = north
    tier = Tier.objects.get(code="b")
    campaign = new_campaign(
        manager,
        audience_filter={"team": team.pk, "tier": str(tier.pk), "consent": "marketing", "kind": ""},
    )
    assert campaign.status == Campaign.Status.DRAFT and campaign.created_by == manager
    assert campaign.audience_filter == {
        "team": str(team.pk),
        "tier": str(tier.pk),
        "consent": "marketing",
    }
    event = AuditEvent.objects.get(action=events.CAMPAIGN_CREATED)
    assert event.object_id == str(campaign.pk) and event.actor_id == manager.pk
    assert campaign.history.count() == 1


@pytest.mark.parametrize(
    "audience_filter",
    [
        {"colour": "red"},  # not a customer-list filter
        {"q": "张明"},  # free-text search would keep personal data in clear
        {"ordering": "code"},
        {"team": 999999},  # no such team
        {"status": "nonsense"},
        {"tier": [1, 2]},
        ["team"],
    ],
)
def test_create_refuses_bad_filters(north, audience_filter):
    _team, manager, _member = north
    with pytest.raises(ValidationError) as error:
        new_campaign(manager, audience_filter=audience_filter)
    assert "audience_filter" in error.value.message_dict
    assert not Campaign.objects.exists()


def test_create_refuses_missing_fields_and_roles_without_permission(north):
    _team, manager, member = north
    with pytest.raises(ValidationError) as error:
        new_campaign(manager, name=" ", kind="spam", subject="", body="")
    assert {"name", "kind", "subject", "body"} <= set(error.value.message_dict)
    for user in (member, UserFactory(role=roles.AUDITOR), UserFactory(role=roles.DPO)):
        with pytest.raises(PermissionDenied):
            new_campaign(user)
    assert not Campaign.objects.exists()


def test_audience_never_includes_customers_the_creator_cannot_see(
    north, mailoutbox, django_capture_on_commit_callbacks
):
    _team, manager, member = north
    mine = customer_with(member, email="mine@example.com", consents=MARKETING)
    south_rep = rep(team=TeamFactory(name="South"))
    theirs = customer_with(south_rep, email="theirs@example.com", consents=MARKETING)
    closed = customer_with(
        member, email="closed@example.com", consents=MARKETING, status=Customer.Status.CLOSED
    )

    everyone = new_campaign(manager)
    assert list(selectors.campaign_audience(campaign=everyone, user=manager)) == [mine]
    # Naming the other team's rep in the filters does not reach their customers either.
    by_owner = new_campaign(manager, audience_filter={"owner": south_rep.pk})
    assert selectors.campaign_preview(campaign=by_owner, user=manager)["audience"] == 0

    send_now(manager, everyone, django_capture_on_commit_callbacks)
    send_now(manager, by_owner, django_capture_on_commit_callbacks)
    assert results(everyone) == {mine.pk: CampaignSend.Result.SENT}
    assert results(by_owner) == {}
    assert [m.to for m in mailoutbox] == [["mine@example.com"]]
    assert not CampaignSend.objects.filter(customer__in=[theirs, closed]).exists()


def test_preview_counts_in_one_query(north, django_assert_num_queries):
    _team, manager, member = north
    customer_with(member, email="a@example.com", consents=MARKETING)
    customer_with(member, consents=MARKETING)  # no e-mail
    customer_with(member, email="c@example.com", consents=SERVICE_ONLY)  # no marketing consent
    withdrawn = customer_with(member, email="d@example.com", consents=MARKETING)
    withdraw_marketing(withdrawn)
    campaign = new_campaign(manager)
    with django_assert_num_queries(1):
        preview = selectors.campaign_preview(campaign=campaign, user=manager)
    assert preview == {"audience": 4, "reachable": 1, "no_consent": 2, "no_email": 1}


# --- sending ------------------------------------------------------------------------------


def test_send_skips_customers_without_live_consent_or_email(
    north, mailoutbox, django_capture_on_commit_callbacks
):
    _team, manager, member = north
    reachable = customer_with(member, name="张明华", email="zmh@example.com", consents=MARKETING)
    no_email = customer_with(member, consents=MARKETING)
    never = customer_with(member, email="never@example.com", consents=SERVICE_ONLY)
    withdrawn = customer_with(member, email="gone@example.com", consents=MARKETING)
    withdraw_marketing(withdrawn)
    campaign = new_campaign(manager)

    campaign = send_now(manager, campaign, django_capture_on_commit_callbacks)

    assert campaign.status == Campaign.Status.SENT and campaign.sent_at is not None
    assert results(campaign) == {
        reachable.pk: CampaignSend.Result.SENT,
        no_email.pk: CampaignSend.Result.NO_CHANNEL,
        never.pk: CampaignSend.Result.NO_CONSENT,
        withdrawn.pk: CampaignSend.Result.NO_CONSENT,
    }
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["zmh@example.com"] and message.subject == "What is new this spring"
    assert "our spring range is here." in message.body
    link = LINK.search(message.body).group(0)
    assert link.startswith("http://127.0.0.1:8000/customers/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert link in message.alternatives[0][0]

    sent_event = AuditEvent.objects.get(action=events.CAMPAIGN_SENT, object_id=str(campaign.pk))
    assert sent_event.data == {
        "total": 4,
        "sent": 1,
        "no_consent": 2,
        "no_channel": 1,
        "failed": 0,
    }
    queued_event = AuditEvent.objects.get(action=events.CAMPAIGN_QUEUED)
    assert queued_event.actor_id == manager.pk and queued_event.data["reachable"] == 1
    trail = str(list(AuditEvent.objects.values_list("data", "reason")))
    assert "zmh@example.com" not in trail and "张明华" not in trail


def test_unsubscribe_link_uses_the_base_url_setting(
    north, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.CRM_BASE_URL = "https://crm.example.com/"
    _team, manager, member = north
    customer_with(member, email="a@example.com", consents=MARKETING)
    send_now(manager, new_campaign(manager), django_capture_on_commit_callbacks)
    assert "https://crm.example.com/customers/unsubscribe/" in mailoutbox[0].body


def test_consent_withdrawn_between_queueing_and_sending_is_not_sent(
    north, mailoutbox, django_capture_on_commit_callbacks
):
    _team, manager, member = north
    customer = customer_with(member, email="a@example.com", consents=MARKETING)
    campaign = new_campaign(manager)
    with django_capture_on_commit_callbacks() as callbacks:
        campaigns.campaign_queue(actor=manager, campaign=campaign)
    assert len(callbacks) == 1 and mailoutbox == []

    withdraw_marketing(customer)
    for callback in callbacks:
        callback()

    assert mailoutbox == []
    assert results(campaign) == {customer.pk: CampaignSend.Result.NO_CONSENT}


def test_consent_is_checked_per_customer_while_sending(
    north, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    """A withdrawal that lands while the campaign is going out stops the later messages."""
    _team, manager, member = north
    first = customer_with(member, email="first@example.com", consents=MARKETING)
    second = customer_with(member, email="second@example.com", consents=MARKETING)
    original = EmailBackend.send_messages

    def send_then_withdraw(backend, messages):
        sent = original(backend, messages)
        withdraw_marketing(second)  # the second customer unsubscribes meanwhile
        return sent

    monkeypatch.setattr(EmailBackend, "send_messages", send_then_withdraw)
    campaign = send_now(manager, new_campaign(manager), django_capture_on_commit_callbacks)

    assert [m.to for m in mailoutbox] == [["first@example.com"]]
    assert results(campaign) == {
        first.pk: CampaignSend.Result.SENT,
        second.pk: CampaignSend.Result.NO_CONSENT,
    }


def test_a_failing_message_is_logged_and_the_campaign_goes_on(
    north, mailoutbox, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    _team, manager, member = north
    bad = customer_with(member, email="bad@example.com", consents=MARKETING)
    good = customer_with(member, email="good@example.com", consents=MARKETING)
    original = EmailBackend.send_messages

    def refuse_bad(backend, messages):
        if messages[0].to == ["bad@example.com"]:
            raise OSError("mail server refused bad@example.com")
        return original(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_bad)
    campaign = send_now(manager, new_campaign(manager), django_capture_on_commit_callbacks)

    assert results(campaign) == {
        bad.pk: CampaignSend.Result.FAILED,
        good.pk: CampaignSend.Result.SENT,
    }
    assert [m.to for m in mailoutbox] == [["good@example.com"]]
    assert campaign.status == Campaign.Status.SENT
    assert "bad@example.com" not in caplog.text


def test_resending_does_not_send_twice(north, mailoutbox, django_capture_on_commit_callbacks):
    _team, manager, member = north
    first = customer_with(member, email="first@example.com", consents=MARKETING)
    second = customer_with(member, email="second@example.com", consents=MARKETING)
    campaign = new_campaign(manager)
    # A previous, interrupted run already handled the first customer.
    CampaignSend.objects.create(campaign=campaign, customer=first, result=CampaignSend.Result.SENT)

    campaign = send_now(manager, campaign, django_capture_on_commit_callbacks)
    assert [m.to for m in mailoutbox] == [["second@example.com"]]

    # Queueing again is refused; running the task again (a retry) sends nothing.
    with pytest.raises(ValidationError):
        campaigns.campaign_queue(actor=manager, campaign=campaign)
    assert campaigns.campaign_send(campaign_id=campaign.pk)["sent"] == 2
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    campaigns.campaign_send(campaign_id=campaign.pk)
    assert len(mailoutbox) == 1
    assert results(campaign) == {first.pk: "sent", second.pk: "sent"}
    assert AuditEvent.objects.filter(action=events.CAMPAIGN_SENT).count() == 2


def test_a_draft_is_not_sent_by_the_task(north, mailoutbox):
    _team, manager, member = north
    customer_with(member, email="a@example.com", consents=MARKETING)
    campaign = new_campaign(manager)
    campaigns.campaign_send(campaign_id=campaign.pk)
    assert mailoutbox == [] and not campaign.sends.exists()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_sending_to_30_customers_runs_a_bounded_number_of_queries(
    north, mailoutbox, django_assert_max_num_queries
):
    _team, manager, member = north
    for n in range(30):
        customer_with(member, email=f"c{n}@example.com", consents=MARKETING if n % 3 else ())
    campaign = new_campaign(manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    # Per customer: a savepoint, the consent check, the send row and its history row,
    # the release; plus a fixed number for the campaign.
    with django_assert_max_num_queries(5 * 30 + 15):
        counts = campaigns.campaign_send(campaign_id=campaign.pk)
    assert counts["sent"] == 20 and counts["no_consent"] == 10 and len(mailoutbox) == 20


# --- unsubscribe --------------------------------------------------------------------------


def test_unsubscribe_link_withdraws_consent_and_the_next_campaign_skips(
    north, client, mailoutbox, django_capture_on_commit_callbacks
):
    _team, manager, member = north
    customer = customer_with(member, email="a@example.com", consents=MARKETING)
    send_now(manager, new_campaign(manager), django_capture_on_commit_callbacks)
    link = LINK.search(mailoutbox[0].body).group(0)
    path = link.removeprefix("http://127.0.0.1:8000")

    page = client.get(path)  # not signed in; GET only asks to confirm
    assert page.status_code == 200 and b"<form" in page.content
    assert b"a@example.com" not in page.content
    assert live_marketing(customer)

    done = client.post(path)
    assert done.status_code == 200
    assert not live_marketing(customer)
    consent = customer.consents.get(purpose="marketing")
    assert change_reason_of(consent.history.first()) == "unsubscribe link"
    event = AuditEvent.objects.get(action=events.CONSENT_WITHDRAWN)
    assert event.reason == "unsubscribe link" and event.actor_id is None

    again = client.post(path)  # idempotent
    assert again.status_code == 200
    assert AuditEvent.objects.filter(action=events.CONSENT_WITHDRAWN).count() == 1

    second = send_now(
        manager, new_campaign(manager, name="Holiday"), django_capture_on_commit_callbacks
    )
    assert results(second) == {customer.pk: CampaignSend.Result.NO_CONSENT}
    assert len(mailoutbox) == 1


def test_unsubscribe_service_is_idempotent(north):
    _team, manager, member = north
    customer = customer_with(member, email="a@example.com", consents=MARKETING)
    campaign = new_campaign(manager)
    token = campaigns.unsubscribe_token(customer, campaign)
    assert campaigns.unsubscribe_token_read(token) == (customer.pk, campaign.pk)
    assert campaigns.unsubscribe(token).withdrawn == 1
    assert campaigns.unsubscribe(token).withdrawn == 0
    assert not live_marketing(customer)


def test_unsubscribe_from_a_merged_card_reaches_the_surviving_card(north):
    _team, manager, member = north
    survivor = customer_with(member, email="a@example.com", consents=MARKETING)
    duplicate = customer_with(member, email="a2@example.com", consents=MARKETING)
    token = campaigns.unsubscribe_token(duplicate, new_campaign(manager))
    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    assert live_marketing(survivor)

    result = campaigns.unsubscribe(token)
    assert result.customer_id == survivor.pk and result.withdrawn == 2
    assert not live_marketing(survivor)


def test_bad_unsubscribe_links_get_friendly_pages(north, client):
    _team, manager, member = north
    customer = customer_with(member, email="a@example.com", consents=MARKETING)
    token = campaigns.unsubscribe_token(customer, new_campaign(manager))

    tampered = client.post(f"/customers/unsubscribe/{token[:-2]}xx/")
    assert tampered.status_code == 400 and b"does not work" in tampered.content
    wrong_salt = signing.dumps({"customer": customer.pk, "campaign": 1})
    assert client.get(f"/customers/unsubscribe/{wrong_salt}/").status_code == 400
    gone = campaigns.unsubscribe_token(999999, 1)
    assert client.get(f"/customers/unsubscribe/{gone}/").status_code == 404
    assert client.post(f"/customers/unsubscribe/{gone}/").status_code == 404
    assert live_marketing(customer)


# --- HTML pages ---------------------------------------------------------------------------


def test_manager_creates_previews_and_sends_from_the_pages(
    north, client, mailoutbox, django_capture_on_commit_callbacks
):
    team, manager, member = north
    customer = customer_with(member, email="a@example.com", consents=MARKETING)
    customer_with(member, consents=SERVICE_ONLY)
    client.force_login(manager)

    form = client.get("/customers/campaigns/new/")
    assert form.status_code == 200 and b'name="audience-team"' in form.content
    assert b'name="audience-q"' not in form.content
    response = client.post(
        "/customers/campaigns/new/",
        {
            "name": "Mid-autumn",
            "kind": "holiday",
            "subject": "Happy Mid-Autumn Festival",
            "body": "Best wishes.",
            "audience-team": team.pk,
            "audience-kind": "",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == f"/customers/campaigns/{campaign.pk}/"
    assert campaign.audience_filter == {"team": str(team.pk)} and campaign.kind == "holiday"

    detail = client.get(response.url)
    assert detail.status_code == 200
    assert detail.context["preview"] == {
        "audience": 2,
        "reachable": 1,
        "no_consent": 1,
        "no_email": 0,
    }
    assert b"Send now" in detail.content

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/customers/campaigns/{campaign.pk}/send/")
    assert sent.status_code == 302 and len(mailoutbox) == 1
    detail = client.get(response.url)
    assert customer.code.encode() in detail.content and b"a@example.com" not in detail.content
    assert b"Send now" not in detail.content

    again = client.post(f"/customers/campaigns/{campaign.pk}/send/", follow=True)
    assert b"already been sent" in again.content and len(mailoutbox) == 1


def test_create_page_shows_errors(north, client):
    _team, manager, _member = north
    client.force_login(manager)
    response = client.post(
        "/customers/campaigns/new/",
        {"name": "", "kind": "newsletter", "subject": "s", "body": "b", "audience-team": "999999"},
    )
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert response.context["form"].errors["name"]
    assert response.context["audience_form"].errors["team"]


PAGE_ROLES = [
    (roles.SALES_REP, 403, 403, 403),
    (roles.SERVICE_STAFF, 403, 403, 403),
    (roles.ADMIN, 403, 403, 403),
    (roles.AUDITOR, 200, 403, 403),
    (roles.DPO, 200, 403, 403),
    (roles.GENERAL_MANAGER, 200, 200, 302),
]


@pytest.mark.parametrize(("role", "read", "create", "send"), PAGE_ROLES)
def test_page_permissions(north, client, mailoutbox, role, read, create, send):
    _team, manager, member = north
    customer_with(member, email="a@example.com", consents=MARKETING)
    campaign = new_campaign(manager)
    client.force_login(UserFactory(role=role))

    assert client.get("/customers/campaigns/").status_code == read
    assert client.get(f"/customers/campaigns/{campaign.pk}/").status_code == read
    assert client.get("/customers/campaigns/new/").status_code == create
    posted = client.post("/customers/campaigns/new/", {"name": "x"})
    assert posted.status_code == (200 if create == 200 else 403)
    assert Campaign.objects.count() == 1
    response = client.post(f"/customers/campaigns/{campaign.pk}/send/")
    assert response.status_code == send
    campaign.refresh_from_db()
    if send == 403:
        assert campaign.status == Campaign.Status.DRAFT and mailoutbox == []


def test_pages_for_the_creator_another_manager_and_anonymous(north, client, mailoutbox):
    _team, manager, member = north
    campaign = new_campaign(manager)
    other_manager = manager_of(TeamFactory(name="South"))
    urls = [
        "/customers/campaigns/",
        "/customers/campaigns/new/",
        f"/customers/campaigns/{campaign.pk}/",
    ]
    for url in urls:  # anonymous: to the sign-in page
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")
    assert client.post(f"/customers/campaigns/{campaign.pk}/send/").status_code == 302

    client.force_login(manager)
    for url in urls:
        assert client.get(url).status_code == 200

    client.force_login(other_manager)  # may use campaigns, but not this one
    assert campaign.name.encode() not in client.get("/customers/campaigns/").content
    assert client.get(f"/customers/campaigns/{campaign.pk}/").status_code == 404
    assert client.post(f"/customers/campaigns/{campaign.pk}/send/").status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_list_page_query_count_does_not_grow_with_campaigns(north, client):
    _team, manager, member = north
    customer_with(member, email="a@example.com", consents=MARKETING)
    client.force_login(manager)
    new_campaign(manager)
    client.get("/customers/campaigns/")  # warm caches (content types, sessions)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/customers/campaigns/").status_code == 200
        return len(context.captured_queries)

    few = count_queries()
    for n in range(10):
        campaign = new_campaign(manager, name=f"Campaign {n}")
        CampaignSend.objects.create(
            campaign=campaign, customer=Customer.objects.get(), result=CampaignSend.Result.SENT
        )
    assert count_queries() == few <= 12


def test_detail_page_query_count_does_not_grow_with_the_send_log(
    north, client, django_capture_on_commit_callbacks
):
    _team, manager, member = north
    customer_with(member, email="a@example.com", consents=MARKETING)
    first = send_now(manager, new_campaign(manager), django_capture_on_commit_callbacks)
    for n in range(10):
        customer_with(member, email=f"c{n}@example.com", consents=MARKETING)
    second = send_now(manager, new_campaign(manager), django_capture_on_commit_callbacks)
    client.force_login(manager)
    client.get(f"/customers/campaigns/{first.pk}/")

    def count_queries(campaign) -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"/customers/campaigns/{campaign.pk}/").status_code == 200
        return len(context.captured_queries)

    assert count_queries(first) == count_queries(second)


# --- API ----------------------------------------------------------------------------------

API_INPUT = {
    "name": "Spring news",
    "kind": "newsletter",
    "subject": "Spring",
    "body": "Hello",
    "audience_filter": {"consent": "marketing"},
}


def test_api_create_list_retrieve_send_and_log(
    north, mailoutbox, django_capture_on_commit_callbacks
):
    _team, manager, member = north
    customer = customer_with(member, email="a@example.com", consents=MARKETING)
    api = as_user(manager)

    created = api.post("/api/v1/campaigns/", API_INPUT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["created_by"] == manager.username
    assert body["audience_filter"] == {"consent": "marketing"}
    replay = api.post("/api/v1/campaigns/", API_INPUT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert Campaign.objects.count() == 1
    campaign_id = body["id"]

    listed = api.get("/api/v1/campaigns/")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    detail = api.get(f"/api/v1/campaigns/{campaign_id}/").json()
    assert detail["preview"] == {"audience": 1, "reachable": 1, "no_consent": 0, "no_email": 0}

    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(f"/api/v1/campaigns/{campaign_id}/send/")
    assert queued.status_code == 202 and len(mailoutbox) == 1
    assert api.post(f"/api/v1/campaigns/{campaign_id}/send/").status_code == 400
    assert len(mailoutbox) == 1

    detail = api.get(f"/api/v1/campaigns/{campaign_id}/").json()
    assert detail["status"] == "sent" and detail["results"]["sent"] == 1
    sends = api.get(f"/api/v1/campaigns/{campaign_id}/sends/")
    assert sends.status_code == 200
    assert sends.json()["results"] == [
        {
            "id": CampaignSend.objects.get().pk,
            "customer": customer.pk,
            "customer_code": customer.code,
            "result": "sent",
            "channel": "email",
            "created_at": sends.json()["results"][0]["created_at"],
        }
    ]
    assert "a@example.com" not in sends.content.decode()


def test_api_bad_input_gets_400_with_field_errors(north):
    _team, manager, _member = north
    api = as_user(manager)
    response = api.post(
        "/api/v1/campaigns/", {**API_INPUT, "audience_filter": {"q": "x"}}, format="json"
    )
    assert response.status_code == 400 and "audience_filter" in response.json()
    response = api.post("/api/v1/campaigns/", {"kind": "spam"}, format="json")
    assert response.status_code == 400
    assert {"name", "kind", "subject", "body"} <= set(response.json())
    assert not Campaign.objects.exists()


API_ROLES = [
    (roles.SALES_REP, 403, 403, 403),
    (roles.SERVICE_STAFF, 403, 403, 403),
    (roles.ADMIN, 403, 403, 403),
    (roles.AUDITOR, 200, 403, 403),
    (roles.DPO, 200, 403, 403),
    (roles.SALES_MANAGER, 200, 201, 202),
    (roles.GENERAL_MANAGER, 200, 201, 202),
]


@pytest.mark.parametrize(("role", "read", "create", "send"), API_ROLES)
def test_api_permissions(
    north, mailoutbox, django_capture_on_commit_callbacks, role, read, create, send
):
    _team, manager, member = north
    customer_with(member, email="a@example.com", consents=MARKETING)
    user = manager if role == roles.SALES_MANAGER else UserFactory(role=role)
    campaign = new_campaign(manager)
    api = as_user(user)

    assert api.get("/api/v1/campaigns/").status_code == read
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == read
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/sends/").status_code == read
    created = api.post("/api/v1/campaigns/", API_INPUT, format="json")
    assert created.status_code == create
    assert Campaign.objects.count() == (2 if create == 201 else 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/campaigns/{campaign.pk}/send/")
    assert response.status_code == send
    campaign.refresh_from_db()
    if send == 403:
        assert campaign.status == Campaign.Status.DRAFT and mailoutbox == []
    else:
        assert campaign.status == Campaign.Status.SENT and len(mailoutbox) == 1


def test_api_anonymous_gets_401_and_another_manager_404(north, mailoutbox):
    _team, manager, _member = north
    campaign = new_campaign(manager)
    anonymous = APIClient()
    for response in (
        anonymous.get("/api/v1/campaigns/"),
        anonymous.post("/api/v1/campaigns/", API_INPUT, format="json"),
        anonymous.get(f"/api/v1/campaigns/{campaign.pk}/"),
        anonymous.post(f"/api/v1/campaigns/{campaign.pk}/send/"),
        anonymous.get(f"/api/v1/campaigns/{campaign.pk}/sends/"),
    ):
        assert response.status_code == 401

    other = as_user(manager_of(TeamFactory(name="South")))
    assert other.get("/api/v1/campaigns/").json()["count"] == 0
    assert other.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
    assert other.get(f"/api/v1/campaigns/{campaign.pk}/sends/").status_code == 404
    assert other.post(f"/api/v1/campaigns/{campaign.pk}/send/").status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and mailoutbox == []
    assert Campaign.objects.count() == 1


def test_api_send_log_shows_only_customers_the_reader_may_see(
    north, django_capture_on_commit_callbacks
):
    team, manager, member = north
    general = UserFactory(role=roles.GENERAL_MANAGER)
    customer_with(member, email="a@example.com", consents=MARKETING)
    customer_with(rep(team=TeamFactory(name="South")), email="b@example.com", consents=MARKETING)
    campaign = send_now(general, new_campaign(general), django_capture_on_commit_callbacks)
    assert campaign.sends.count() == 2

    # The general manager sees both; counted for the North manager, only North's customer.
    assert as_user(general).get(f"/api/v1/campaigns/{campaign.pk}/sends/").json()["count"] == 2
    results_for_manager = selectors.campaign_results(campaign=campaign, user=manager)
    assert results_for_manager["total"] == 1 and results_for_manager["sent"] == 1


def test_api_list_query_count_does_not_grow(north):
    _team, manager, _member = north
    api = as_user(manager)
    new_campaign(manager)
    api.get("/api/v1/campaigns/")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/campaigns/")
    for n in range(10):
        new_campaign(manager, name=f"Campaign {n}")
    with CaptureQueriesContext(connection) as many:
        assert api.get("/api/v1/campaigns/").json()["count"] == 11
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_refused_queue_queues_nothing(north, django_capture_on_commit_callbacks):
    _team, manager, _member = north
    campaign = new_campaign(manager)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SENT, sent_at=timezone.now()
    )
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError):
        campaigns.campaign_queue(actor=manager, campaign=campaign)
    assert callbacks == [] and mail.outbox == []
    assert not AuditEvent.objects.filter(action=events.CAMPAIGN_QUEUED).exists()
