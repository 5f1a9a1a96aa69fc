"""Issue 13's defects of the card, each with its test: reveal by purpose, errors under the
field, labelled clear values, pickers of users who work the card, status changes, the
project's own error pages, hermetic settings."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from crm import roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, selectors, services
from customers.forms import GrantForm, StageMoveForm
from customers.models import Customer, ServiceStage
from customers.services import workspace
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory(name="North")


@pytest.fixture
def owner(team):
    return rep(team=team)


# --- reveal by purpose ---------------------------------------------------------------------


def test_a_short_chinese_reason_is_accepted_and_the_purpose_is_audited(owner):
    customer = make_customer(owner, phone="13812345678")
    clear = services.customer_reveal(
        actor=owner, customer=customer, fields=["phone"], purpose="other", reason="审核"
    )
    assert clear == {"phone": "13812345678"}
    event = AuditEvent.objects.get(action=events.CUSTOMER_REVEALED)
    assert event.reason == "审核"
    assert event.data == {"fields": ["phone"], "purpose": "other"}


def test_a_listed_purpose_needs_no_words_and_other_needs_some(owner):
    customer = make_customer(owner)
    services.customer_reveal(actor=owner, customer=customer, fields=["phone"], purpose="call_back")
    assert AuditEvent.objects.get(action=events.CUSTOMER_REVEALED).reason == "call_back"
    with pytest.raises(ValidationError) as refused:
        services.customer_reveal(
            actor=owner, customer=customer, fields=["phone"], purpose="other", reason="  "
        )
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.customer_reveal(actor=owner, customer=customer, fields=["phone"], purpose="")
    assert "purpose" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.customer_reveal(actor=owner, customer=customer, fields=["phone"], purpose="fun")
    assert AuditEvent.objects.filter(action=events.CUSTOMER_REVEALED).count() == 1


def test_the_card_offers_the_purposes_and_the_owners_call_back(client, owner):
    customer = make_customer(owner)
    client.force_login(owner)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    for label in ("Call back", "Verify identity", "Complaint handling", "Legal request"):
        assert label in html
    assert 'data-testid="call-back"' in html
    manager = manager_of(owner.team)
    client.force_login(manager)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Verify identity" in html and 'data-testid="call-back"' not in html


def test_owners_one_click_call_back_shows_phone_and_email(client, owner):
    customer = make_customer(owner, phone="13812345678", email="li@example.com")
    client.force_login(owner)
    response = client.post(
        reverse("customers:reveal", args=[customer.pk]),
        {"fields_": ["phone", "email"], "purpose": "call_back"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "13812345678" in html and "li@example.com" in html
    event = AuditEvent.objects.get(action=events.CUSTOMER_REVEALED)
    assert event.data == {"fields": ["email", "phone"], "purpose": "call_back"}


def test_a_refused_reveal_shows_its_error_under_the_field(client, owner):
    customer = make_customer(owner, phone="13812345678")
    client.force_login(owner)
    response = client.post(
        reverse("customers:reveal", args=[customer.pk]),
        {"fields_": ["phone"], "purpose": "other", "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 400 and "13812345678" not in html
    assert 'data-testid="reveal-error">Say why you need to see the data in clear.' in html
    assert "is-invalid" in html
    # htmx swaps 400 answers in only because the workspace script tells it to.
    script = (Path(settings.BASE_DIR) / "static/js/workspace.js").read_text()
    assert '"^(400|422)$", swap: true' in script
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "js/workspace.js" in page and "onclick=" not in page


def test_revealed_values_carry_the_profiles_labels(client, owner):
    import datetime

    customer = make_customer(owner, birth_date=datetime.date(1990, 5, 4))
    client.force_login(owner)
    response = client.post(
        reverse("customers:reveal", args=[customer.pk]),
        {"fields_": ["birth_date", "identity_documents"], "purpose": "verify_identity"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert '<dt class="col-sm-4">Birth date</dt>' in html
    assert '<dt class="col-sm-4">Identity documents</dt>' in html
    assert ">birth_date<" not in html and "resident_id:" not in html
    assert "Resident identity card: " in html


# --- pickers of users who work the card --------------------------------------------------


def test_pickers_offer_only_users_who_may_act_on_the_card(owner, team):
    colleague = rep(team=team)
    manager = manager_of(team)
    other_team_rep = rep(team=TeamFactory(name="South"))
    gm = UserFactory(role=roles.GENERAL_MANAGER)
    auditor = UserFactory(role=roles.AUDITOR)
    dpo = UserFactory(role=roles.DPO)
    admin = UserFactory(role=roles.ADMIN)
    service = UserFactory(role=roles.SERVICE_STAFF)
    granted_service = UserFactory(role=roles.SERVICE_STAFF)
    customer = make_customer(owner)
    services.customer_access_grant(
        actor=owner, customer=customer, user=granted_service, reason="complaint"
    )
    responsible = set(StageMoveForm(customer=customer).fields["responsible"].queryset)
    assert responsible == {owner, colleague, manager, gm, granted_service}
    grantable = set(GrantForm(customer=customer).fields["user"].queryset)
    assert auditor not in grantable and dpo not in grantable and admin not in grantable
    assert owner not in grantable and {service, colleague, other_team_rep} <= grantable
    signed = ServiceStage.objects.get(code="signed")
    with pytest.raises(ValidationError) as refused:
        services.stage_move(
            actor=owner, customer_id=customer.pk, to_stage=signed, responsible=auditor
        )
    assert "responsible" in refused.value.message_dict
    assert selectors.card_actors(customer).filter(pk=other_team_rep.pk).exists() is False


def test_the_stage_form_refuses_an_auditor_on_the_page(client, owner):
    customer = make_customer(owner)
    auditor = UserFactory(role=roles.AUDITOR)
    client.force_login(owner)
    html = client.get(
        reverse("customers:detail", args=[customer.pk]) + "?tab=stages"
    ).content.decode()
    picker = html[html.index('name="responsible"') :]
    picker = picker[: picker.index("</select>")]
    assert f'value="{auditor.pk}"' not in picker and f'value="{owner.pk}"' in picker
    response = client.post(
        reverse("customers:stage-move", args=[customer.pk]),
        {"to_stage": ServiceStage.objects.get(code="signed").pk, "responsible": auditor.pk},
    )
    assert response.status_code == 400


# --- status changes ----------------------------------------------------------------------


def test_status_moves_prospect_active_dormant_closed_with_history_and_audit(owner, team):
    customer = make_customer(owner)
    assert customer.status == Customer.Status.PROSPECT
    workspace.customer_status_change(actor=owner, customer_id=customer.pk, to_status="active")
    workspace.customer_status_change(
        actor=owner, customer_id=customer.pk, to_status="dormant", reason="no orders"
    )
    workspace.customer_status_change(
        actor=owner, customer_id=customer.pk, to_status="closed", reason="moved away"
    )
    customer.refresh_from_db()
    assert customer.status == "closed"
    statuses = [h.status for h in customer.history.order_by("history_date")]
    assert statuses[-3:] == ["active", "dormant", "closed"]
    moves = [
        e.data
        for e in AuditEvent.objects.filter(action=events.CUSTOMER_STATUS_CHANGED).order_by("pk")
    ]
    assert moves == [
        {"from": "prospect", "to": "active"},
        {"from": "active", "to": "dormant"},
        {"from": "dormant", "to": "closed"},
    ]
    # Only a manager reopens a closed card.
    with pytest.raises(PermissionDenied):
        workspace.customer_status_change(
            actor=owner, customer_id=customer.pk, to_status="active", reason="back"
        )
    manager = manager_of(team)
    workspace.customer_status_change(
        actor=manager, customer_id=customer.pk, to_status="active", reason="new order"
    )
    assert Customer.objects.get(pk=customer.pk).status == "active"


def test_status_rules_refuse_with_field_errors(owner):
    customer = make_customer(owner)
    with pytest.raises(ValidationError) as refused:
        workspace.customer_status_change(actor=owner, customer_id=customer.pk, to_status="dormant")
    assert "to_status" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        workspace.customer_status_change(actor=owner, customer_id=customer.pk, to_status="closed")
    assert "reason" in refused.value.message_dict
    assert Customer.objects.get(pk=customer.pk).status == "prospect"
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_STATUS_CHANGED).exists()


def test_status_page_permissions(client, owner):
    customer = make_customer(owner)
    url = reverse("customers:status", args=[customer.pk])
    assert client.post(url, {"to_status": "active"}).status_code == 302  # to sign-in
    for role, expected in [
        (roles.SALES_REP, 404),
        (roles.AUDITOR, 403),
        (roles.DPO, 403),
        (roles.SERVICE_STAFF, 404),
    ]:
        client.force_login(UserFactory(role=role, team=TeamFactory()))
        assert client.post(url, {"to_status": "active"}).status_code == expected, role
    client.force_login(owner)
    response = client.post(url, {"to_status": "closed", "reason": ""})
    assert (
        response.status_code == 400 and "Say why the status changes." in response.content.decode()
    )
    response = client.post(url, {"to_status": "active"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).status == "active"
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Change status" in html and 'data-testid="status">Active<' in html


# --- error pages and logs (item 8) -------------------------------------------------------


def test_own_404_page_even_with_debug(client, owner, settings):
    settings.DEBUG = True
    client.force_login(owner)
    for url in ("/no-such-page/", reverse("customers:detail", args=[987654])):
        response = client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        assert "This page does not exist" in html and "URLconf" not in html


def test_a_403_is_logged_without_a_traceback(client, caplog):
    client.force_login(UserFactory(role=roles.ADMIN))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("customers:list"))
    assert response.status_code == 403
    from crm.error_pages import QuietClientErrors

    records = [r for r in caplog.records if r.name == "django.request"]
    assert records
    for record in records:
        QuietClientErrors().filter(record)
        assert record.exc_info is None


# --- hermetic tests (item 9) -------------------------------------------------------------


def test_the_test_settings_never_read_a_local_env_file(tmp_path):
    leaked = tmp_path / "leak.env"
    leaked.write_text("DEMO_PASSWORD=leaked\nLANGUAGE_CODE=zh-hans\nDJANGO_DEBUG=false\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DEMO_PASSWORD", "LANGUAGE_CODE")}
    env["CRM_ENV_FILE"] = str(leaked)
    code = "import tests.settings as s; print(s.DEMO_PASSWORD, s.LANGUAGE_CODE)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["demo-Passw0rd!", "en"]


# --- the author reads his own note (item 3) ----------------------------------------------


def test_an_interaction_note_is_clear_to_its_author_and_masked_to_others(client, owner, team):
    customer = make_customer(owner)
    services.interaction_log(
        actor=owner, customer=customer, kind="call", summary="客户要求下周三上午回电"
    )
    url = reverse("customers:detail", args=[customer.pk]) + "?tab=interactions"
    client.force_login(owner)
    html = client.get(url).content.decode()
    assert '<td data-testid="own-note">客户要求下周三上午回电</td>' in html
    client.force_login(manager_of(team))
    html = client.get(url).content.decode()
    assert "客户要求下周三上午回电" not in html and 'data-testid="own-note"' not in html
