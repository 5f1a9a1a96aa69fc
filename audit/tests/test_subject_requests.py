"""Subject requests and the access package (issue 12 item 4)."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit import events, retention, subject_requests
from audit.models import AuditEvent, SubjectRequest
from audit.tests import factories as f
from crm import personal_data, privacy, roles
from crm.models import DataKey, Notification
from crm.tests.factories import TeamFactory, UserFactory
from customers import services
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo():
    return UserFactory(role=roles.DPO)


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


def _rich_customer(owner, viewer):
    customer = f.canary_customer(owner)
    services.contact_save(actor=owner, customer=customer, name="联系人甲", phone="13700001111")
    services.consent_record(actor=owner, customer=customer, purpose="marketing", channel="web")
    services.customer_view_record(actor=viewer, customer=customer)
    f.complaint(customer, owner)
    return customer


def test_a_request_is_due_after_the_configured_days(dpo, owner, settings):
    customer = make_customer(owner)
    received = timezone.localdate() - datetime.timedelta(days=2)
    request = subject_requests.subject_request_open(
        actor=dpo, customer=customer, kind="access", received_on=received, details="来电要求"
    )
    assert request.due_on == received + datetime.timedelta(days=15)
    assert request.handler == dpo and request.status == SubjectRequest.Status.OPEN
    settings.PRIVACY = {**settings.PRIVACY, "REQUEST_DUE_DAYS": 7}
    other = subject_requests.subject_request_open(actor=dpo, customer=customer, kind="correction")
    assert other.due_on == timezone.localdate() + datetime.timedelta(days=7)
    assert AuditEvent.objects.filter(action=events.SUBJECT_REQUEST_OPENED).count() == 2


def test_only_the_dpo_registers_requests(owner):
    with pytest.raises(PermissionDenied):
        subject_requests.subject_request_open(
            actor=owner, customer=make_customer(owner), kind="access"
        )


def test_the_access_package_holds_every_category_of_data_held(dpo, owner):
    customer = _rich_customer(owner, viewer=dpo)
    package = subject_requests.access_package(actor=dpo, customer=customer)
    categories = package["categories"]
    # Every model with personal data about a customer is a category of the package.
    expected = {
        label
        for label in personal_data.registered_models()
        if personal_data.subject_of(label).is_about_a_customer
        and not label.startswith(("testapp.", "plugin_app."))
    } & privacy.covered_models()
    assert expected <= set(categories)
    assert categories["customers.customer"][0]["name"] == f.CANARY_NAME
    assert categories["customers.interaction"][0]["summary"] == f.CANARY_NOTE
    assert categories["customers.identitydocument"][0]["number"] == f.CANARY_ID
    assert [c["purpose"] for c in categories["customers.consent"]] == ["marketing"]
    assert categories["customers.contact"][0]["name"] == "联系人甲"
    # Who accessed the data.
    viewers = {e["actor"] for e in categories["audit.auditevent"]}
    assert dpo.username in viewers and owner.username in viewers
    # The download is audited, with counts only.
    event = AuditEvent.objects.filter(action=events.SUBJECT_ACCESS_PACKAGE).get()
    assert event.data["rows"]["customers.customer"] == 1
    assert f.CANARY_NAME not in json.dumps(event.data, ensure_ascii=False)


def test_the_package_as_json_and_xlsx(dpo, owner):
    from openpyxl import load_workbook

    customer = _rich_customer(owner, viewer=dpo)
    package = subject_requests.access_package(actor=dpo, customer=customer)
    assert json.loads(subject_requests.package_json(package))["customer"] == customer.code
    book = load_workbook(io.BytesIO(subject_requests.package_xlsx(package)))
    assert "customers_customer" in book.sheetnames and "customers_consent" in book.sheetnames
    sheet = book["customers_customer"]
    header = [cell.value for cell in sheet[1]]
    assert sheet[2][header.index("name")].value == f.CANARY_NAME


def test_deletion_is_refused_while_a_matter_is_open_then_purges(dpo, owner, monkeypatch):
    customer = f.canary_customer(owner)
    request = subject_requests.subject_request_open(actor=dpo, customer=customer, kind="deletion")
    hold = retention.legal_hold_place(actor=dpo, customer=customer, reason="仲裁")
    with pytest.raises(ValidationError) as refused:
        subject_requests.subject_request_close(actor=dpo, request_id=request.pk, outcome="删除")
    assert "legal hold" in str(refused.value)
    retention.legal_hold_lift(actor=dpo, hold_id=hold.pk, reason="结束")
    monkeypatch.setitem(
        privacy._providers,
        "zz_test",
        privacy.Provider(app="zz_test", models=(), open_matters=lambda c: ["Receivables open."]),
    )
    with pytest.raises(ValidationError):
        subject_requests.subject_request_close(actor=dpo, request_id=request.pk, outcome="删除")
    monkeypatch.delitem(privacy._providers, "zz_test")

    closed = subject_requests.subject_request_close(
        actor=dpo, request_id=request.pk, outcome="已删除"
    )
    assert closed.status == SubjectRequest.Status.DONE
    assert closed.result["on_time"] is True
    assert closed.result["destruction_record"]
    assert closed.outcome == "已删除"  # kept under the master key
    assert not DataKey.objects.filter(id=customer.data_key_id).exists()
    assert retention.is_purged(customer.pk)


def test_a_request_can_be_refused_with_a_reason_and_not_closed_twice(dpo, owner):
    request = subject_requests.subject_request_open(
        actor=dpo, customer=make_customer(owner), kind="deletion"
    )
    with pytest.raises(ValidationError):
        subject_requests.subject_request_close(actor=dpo, request_id=request.pk, outcome=" ")
    closed = subject_requests.subject_request_close(
        actor=dpo, request_id=request.pk, outcome="身份无法核实", refused=True
    )
    assert closed.status == SubjectRequest.Status.REFUSED
    with pytest.raises(ValidationError):
        subject_requests.subject_request_close(actor=dpo, request_id=request.pk, outcome="x")


def test_overdue_requests_are_notified_once_and_shown_on_the_dpos_home(dpo, owner, client):
    customer = make_customer(owner)
    received = timezone.localdate() - datetime.timedelta(days=16)
    request = subject_requests.subject_request_open(
        actor=dpo, customer=customer, kind="access", received_on=received
    )
    assert request.is_overdue
    assert subject_requests.subject_requests_notify_overdue() == 1
    note = Notification.objects.get(code=subject_requests.OVERDUE_CODE)
    assert note.recipient == dpo and note.params == {
        "request": request.pk,
        "customer": customer.code,
    }
    client.force_login(dpo)
    response = client.get("/")
    assert response.status_code == 200
    assert f"/audit/requests/{request.pk}/" in response.content.decode()
    client.force_login(owner)
    assert f"/audit/requests/{request.pk}/" not in client.get("/").content.decode()
