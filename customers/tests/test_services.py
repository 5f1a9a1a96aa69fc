"""Customer card services: create, duplicates, versions, reveal, consent, stages, visits."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import timezone

from audit.models import AuditEvent
from crm import roles
from crm.exceptions import ConflictError
from crm.models import SearchDigest
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, selectors, services
from customers.models import (
    Consent,
    Customer,
    IdentityDocument,
    Interaction,
    ServiceStage,
    VisitPlanEntry,
)
from customers.synthetic import resident_id
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db


def test_create_encrypts_indexes_and_audits():
    owner = rep(team=TeamFactory(name="North"))
    customer = make_customer(owner, name="张明华", phone="13812345678", email="zm@example.com")
    assert customer.code.startswith("C") and customer.team.name == "North"
    assert customer.stage.code == "inquiry" and customer.stage_owner == owner
    assert customer.reverification_due == timezone.localdate() + datetime.timedelta(days=365)
    name_tokens = SearchDigest.objects.filter(
        kind="customer.name_bigram", object_model="customers.customer", object_id=customer.pk
    )
    assert name_tokens.count() == 2 and {t.data_key_id for t in name_tokens} == {
        customer.data_key_id
    }
    event = AuditEvent.objects.get(action=events.CUSTOMER_CREATED)
    assert event.object_id == str(customer.pk) and "张明华" not in str(event.data)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT name, phone FROM customers_customer WHERE id = %s", [customer.pk])
        name, phone = cursor.fetchone()
    assert "张明华" not in name and "13812345678" not in phone


def test_duplicate_phone_refused_with_link_when_visible():
    owner = rep()
    existing = make_customer(owner, phone="13812345678")
    with pytest.raises(services.DuplicateCustomer) as error:
        make_customer(owner, phone="138 1234 5678")
    assert error.value.visible and existing.code in str(error.value.message_dict["phone"])
    assert error.value.url.endswith(f"/{existing.pk}/")


def test_duplicate_id_refused_without_leaking_when_not_visible():
    number = resident_id()
    existing = make_customer(
        rep(team=TeamFactory(name="North")),
        documents=[services.DocumentInput("resident_id", number)],
    )
    other = rep(team=TeamFactory(name="South"))
    with pytest.raises(services.DuplicateCustomer) as error:
        make_customer(other, documents=[services.DocumentInput("resident_id", number.lower())])
    message = str(error.value.message_dict)
    assert not error.value.visible and error.value.url is None
    assert "already held by another team" in message and existing.code not in message


def test_invalid_documents_and_phone_give_field_errors():
    body = "11010519491231002"
    with pytest.raises(ValidationError) as error:
        make_customer(
            phone="12812345678",
            documents=[services.DocumentInput("resident_id", body + "1")],  # check is X
        )
    errors = error.value.message_dict
    assert "phone" in errors and "documents[0].number" in errors
    assert Customer.objects.count() == 0


def test_minor_needs_guardian_and_guardian_consent():
    child_born = timezone.localdate().replace(year=timezone.localdate().year - 10)
    with pytest.raises(ValidationError) as error:
        make_customer(birth_date=child_born)
    assert {"contacts", "consents"} <= set(error.value.message_dict)
    customer = make_customer(
        birth_date=child_born,
        contacts=[services.ContactInput(name="王芳", phone="13900000001", is_guardian=True)],
        consents=[services.ConsentInput("minor", "paper", "2026-01", given_by_guardian=True)],
    )
    assert customer.is_minor
    consent = customer.consents.get()
    assert consent.guardian.is_guardian and consent.guardian.name == "王芳"


def test_stale_version_conflicts_and_changes_nothing():
    owner = rep()
    customer = make_customer(owner, name="李雷")
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=1,
        changes={"address": "北京市海淀区中关村大街1号"},
    )
    with pytest.raises(ConflictError):
        services.customer_update(
            actor=owner, customer_id=customer.pk, version=1, changes={"name": "韩梅梅"}
        )
    fresh = Customer.objects.get(pk=customer.pk)
    assert fresh.name == "李雷" and fresh.version == 2


def test_update_recomputes_search_and_audits_field_names_only():
    owner = rep()
    customer = make_customer(owner, name="李雷")
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=1,
        changes={"name": "韩梅梅", "phone": "13700000000"},
    )
    event = AuditEvent.objects.get(action=events.CUSTOMER_UPDATED)
    assert event.data["fields"] == ["name", "phone"] and "韩梅梅" not in str(event.data)
    from customers.filters import search_customers

    assert list(search_customers(Customer.objects.all(), "梅梅")) == [customer]
    assert list(search_customers(Customer.objects.all(), "13700000000")) == [customer]
    assert not search_customers(Customer.objects.all(), "李雷").exists()


def test_reveal_returns_clear_values_and_records_reason():
    owner = rep()
    number = resident_id()
    customer = make_customer(
        owner,
        name="张三",
        phone="13812345678",
        documents=[services.DocumentInput("resident_id", number)],
    )
    clear = services.customer_reveal(
        actor=owner, customer=customer, fields=["phone", "identity_documents"], reason="call back"
    )
    assert clear["phone"] == "13812345678"
    assert clear["identity_documents"][0]["number"] == number
    event = AuditEvent.objects.get(action=events.CUSTOMER_REVEALED)
    assert event.reason == "call back" and event.data == {"fields": ["identity_documents", "phone"]}
    assert number not in str(event.data)


def test_reveal_refused_without_reason_or_right():
    owner = rep()
    customer = make_customer(owner)
    with pytest.raises(ValidationError):
        services.customer_reveal(actor=owner, customer=customer, fields=["phone"], reason="")
    service = UserFactory(role=roles.SERVICE_STAFF)
    with pytest.raises(PermissionDenied):
        services.customer_reveal(
            actor=service, customer=customer, fields=["phone"], reason="curious"
        )
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_REVEALED).exists()


def test_reverify_stamps_who_and_when():
    owner = rep()
    customer = make_customer(owner)
    Customer.objects.filter(pk=customer.pk).update(
        reverification_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert list(selectors.reverification_overdue()) == [customer]
    done = services.customer_reverify(actor=owner, customer_id=customer.pk)
    assert done.reverified_by == owner and done.reverified_at is not None
    assert done.reverification_due == timezone.localdate() + datetime.timedelta(days=365)
    assert not selectors.reverification_overdue().exists()


def test_overdue_owners_get_a_digest_without_personal_data(mailoutbox):
    owner = rep(email="rep@example.com")
    customer = make_customer(owner, name="张三")
    Customer.objects.filter(pk=customer.pk).update(
        reverification_due=timezone.localdate() - datetime.timedelta(days=3)
    )
    result = services.reverification_notify_overdue()
    assert result == {"overdue": 1, "owners_notified": 1}
    assert customer.code in mailoutbox[0].body and "张三" not in mailoutbox[0].body


def test_stage_moves_are_recorded_with_responsible():
    from crm.tests.factories import TeamFactory

    team = TeamFactory()
    owner = rep(team=team)
    colleague = rep(team=team)
    customer = make_customer(owner)
    signed = ServiceStage.objects.get(code="signed")
    services.stage_move(
        actor=owner, customer_id=customer.pk, to_stage=signed, responsible=colleague
    )
    customer.refresh_from_db()
    assert customer.stage == signed and customer.stage_owner == colleague
    moves = list(customer.stage_moves.order_by("created_at"))
    assert [m.to_stage.code for m in moves] == ["inquiry", "signed"]
    assert moves[1].from_stage.code == "inquiry" and moves[1].moved_by == owner


def test_visit_plan_drops_prospect_after_five_fruitless_visits():
    owner = rep()
    customer = make_customer(owner)
    entry = services.visit_plan_add(actor=owner, customer=customer)
    for _ in range(4):
        entry, _interaction = services.visit_record(
            actor=owner, entry_id=entry.pk, outcome="no_result"
        )
        assert entry.status == VisitPlanEntry.Status.ACTIVE
    entry, _interaction = services.visit_record(
        actor=owner, entry_id=entry.pk, outcome="no_result", summary="nobody in"
    )
    assert entry.status == VisitPlanEntry.Status.REMOVED
    assert entry.fruitless_visits == 5 and "5 visits without result" in entry.removed_reason
    assert customer.interactions.filter(kind=Interaction.Kind.VISIT).count() == 5
    with pytest.raises(ValidationError):
        services.visit_record(actor=owner, entry_id=entry.pk, outcome="no_result")


def test_visit_plan_limit_is_a_setting(settings):
    settings.CUSTOMERS = {**settings.CUSTOMERS, "VISIT_PLAN_MAX_FRUITLESS": 2}
    owner = rep()
    entry = services.visit_plan_add(actor=owner, customer=make_customer(owner))
    services.visit_record(actor=owner, entry_id=entry.pk, outcome="negative")
    entry, _ = services.visit_record(actor=owner, entry_id=entry.pk, outcome="no_result")
    assert entry.status == VisitPlanEntry.Status.REMOVED


def test_positive_visit_wins_the_prospect():
    owner = rep()
    entry = services.visit_plan_add(actor=owner, customer=make_customer(owner))
    services.visit_record(actor=owner, entry_id=entry.pk, outcome="no_result")
    entry, _ = services.visit_record(actor=owner, entry_id=entry.pk, outcome="positive")
    assert entry.status == VisitPlanEntry.Status.WON


def test_consent_withdrawal_takes_effect_at_once():
    owner = rep()
    customer = make_customer(owner)
    consent = services.consent_record(
        actor=owner, customer=customer, purpose="marketing", channel="web"
    )
    assert customer.consents.filter(purpose="marketing", withdrawn_at__isnull=True).exists()
    services.consent_withdraw(actor=owner, consent=consent, reason="asked by phone")
    assert not Consent.objects.filter(purpose="marketing", withdrawn_at__isnull=True).exists()


def test_documents_added_later_are_validated_and_deduplicated():
    owner = rep()
    first, second = make_customer(owner), make_customer(owner)
    number = first.identity_documents.get().number
    with pytest.raises(services.DuplicateCustomer):
        services.identity_document_add(
            actor=owner, customer=second, doc_type="resident_id", number=number
        )
    with pytest.raises(ValidationError):
        services.identity_document_add(
            actor=owner, customer=second, doc_type="social_credit_code", number="91350100M000100Y4X"
        )
    document = services.identity_document_add(
        actor=owner, customer=second, doc_type="social_credit_code", number="91350100M000100Y43"
    )
    assert document.number == "91350100M000100Y43"
    assert IdentityDocument.objects.filter(customer=second).count() == 2


def test_other_reps_cannot_change_or_see():
    north = TeamFactory(name="North")
    owner = rep(team=north)
    customer = make_customer(owner)
    stranger = rep(team=TeamFactory(name="South"))
    from django.http import Http404

    with pytest.raises(Http404):
        services.customer_update(
            actor=stranger, customer_id=customer.pk, version=1, changes={"name": "x"}
        )
    manager = manager_of(north)
    services.customer_update(
        actor=manager, customer_id=customer.pk, version=1, changes={"address": "上海市浦东新区1号"}
    )
    assert Customer.objects.get(pk=customer.pk).version == 2


def test_overdue_command_and_periodic_task(mailoutbox, settings):
    import io

    from django.core.management import call_command

    from customers.tasks import reverification_notify_overdue_task

    owner = rep(email="owner@example.com")
    customer = make_customer(owner)
    Customer.objects.filter(pk=customer.pk).update(
        reverification_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    out = io.StringIO()
    call_command("reverification_overdue", stdout=out)
    assert "1 cards overdue; 1 owners told." in out.getvalue()
    assert reverification_notify_overdue_task.delay().get() == {"overdue": 1, "owners_notified": 1}
    assert "customers-reverification-overdue" in settings.CELERY_BEAT_SCHEDULE


def test_racing_duplicates_meet_the_database_guard(monkeypatch):
    """Two creates that both passed the friendly check: the second still gets refused."""
    from customers.services import cards

    owner = rep()
    make_customer(owner, phone="13812345678")
    monkeypatch.setattr(cards, "check_duplicates", lambda **kwargs: None)
    with pytest.raises(Exception) as error:
        make_customer(owner, phone="13812345678")
    assert "IntegrityError" in type(error.value).__name__
    assert Customer.objects.count() == 1


def test_raced_duplicate_becomes_the_friendly_message(monkeypatch):
    from customers.services import cards

    owner = rep()
    existing = make_customer(owner, phone="13812345678")
    real_check = cards.check_duplicates
    calls = []

    def late_check(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:  # only the second look (after the database refused) sees it
            real_check(**kwargs)

    monkeypatch.setattr(cards, "check_duplicates", late_check)
    with pytest.raises(services.DuplicateCustomer) as error:
        make_customer(owner, phone="13812345678", documents=[])
    assert existing.code in str(error.value.message_dict)


def test_custom_attributes_validate_and_encrypt_personal_values():
    from django.db import connections as conns

    from customers.models import BusinessType, CustomAttribute

    school = BusinessType.objects.create(code="school", name="School")
    CustomAttribute.objects.create(
        code="course",
        label="Course",
        value_type="choice",
        choices=["piano", "violin"],
        business_type=school,
    )
    CustomAttribute.objects.create(
        code="health", label="Health notes", value_type="text", sensitivity="sensitive"
    )
    owner = rep()
    customer = make_customer(owner, business_type=school)
    with pytest.raises(ValidationError) as error:
        services.attribute_values_set(actor=owner, customer=customer, values={"course": "drums"})
    assert "course" in error.value.message_dict
    services.attribute_values_set(
        actor=owner, customer=customer, values={"course": "piano", "health": "哮喘病史"}
    )
    values = {v.attribute.code: v for v in customer.attribute_values.select_related("attribute")}
    assert values["course"].value == "piano" and values["health"].value == ""
    assert values["health"].display_value == "哮喘病史"
    with conns["default"].cursor() as cursor:
        cursor.execute("SELECT secret_value FROM customers_customattributevalue")
        assert "哮喘" not in repr(cursor.fetchall())
    other = make_customer(owner)  # not a school: the course does not apply
    with pytest.raises(ValidationError):
        services.attribute_values_set(actor=owner, customer=other, values={"course": "piano"})


def test_timeline_names_related_records_and_does_not_repeat_stage_moves():
    from customers.models import Tier
    from customers.selectors import customer_timeline

    owner = rep()
    customer = make_customer(owner)
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=1,
        changes={"tier": Tier.objects.get(code="a")},
    )
    services.stage_move(
        actor=owner,
        customer_id=customer.pk,
        to_stage=ServiceStage.objects.get(code="signed"),
        responsible=owner,
    )
    timeline = customer_timeline(customer=customer, user=owner)
    changed = [e for e in timeline if e.title == "Card changed"]
    due = (timezone.localdate() + datetime.timedelta(days=180)).isoformat()
    assert sorted(c for e in changed for c in e.changes) == [
        ("re-verification due", due),
        ("tier", "Key account"),
    ]
    assert [e.title for e in timeline if e.kind == "stage"] == [
        "Stage: Signed / enrolled",
        "Stage: Inquiry",
    ]


def test_timeline_shows_choice_labels_and_staff_names_never_codes_or_logins():
    from customers.selectors import customer_timeline

    team = TeamFactory()
    owner = rep(team, first_name="军", last_name="孙")
    successor = rep(team, first_name="芳", last_name="王")
    manager = manager_of(team)
    customer = make_customer(owner)
    services.customer_update(
        actor=owner, customer_id=customer.pk, version=1, changes={"language": "zh-hans"}
    )
    services.customer_update(
        actor=manager, customer_id=customer.pk, version=2, changes={"owner": successor}
    )
    timeline = customer_timeline(customer=customer, user=manager)
    changes = [c for e in timeline if e.title == "Card changed" for c in e.changes]
    assert ("language", "Simplified Chinese") in changes
    assert ("owner", "王芳") in changes
    assert not any(value in ("zh-hans", successor.username) for _field, value in changes)


def test_timeline_never_shows_a_services_old_english_marker_as_a_reason():
    """Rows written before reasons were the user's own carry "owner: reassigned" and the
    like: the timeline shows their changes without that sentence; a user's reason shows."""
    from customers.models import Tier
    from customers.selectors import customer_timeline

    owner = rep()
    customer = make_customer(owner)
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=1,
        changes={"tier": Tier.objects.get(code="a")},
        reason="owner: reassigned",
    )
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=2,
        changes={"tier": Tier.objects.get(code="b")},
        reason="客户升级",
    )
    details = [e.detail for e in customer_timeline(customer=customer, user=owner)]
    assert "owner: reassigned" not in details
    assert "客户升级" in details


def test_an_expiring_identity_document_makes_the_card_due():
    owner = rep()
    customer = make_customer(owner)
    assert not selectors.reverification_overdue().exists()
    IdentityDocument.objects.filter(customer=customer).update(
        reverify_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert list(selectors.reverification_overdue()) == [customer]
    from customers.selectors import reverification_due_for

    assert list(reverification_due_for(owner)) == [customer]
