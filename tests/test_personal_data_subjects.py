"""Every model with personal fields says which customer its rows are about (issue 7), so
subject access and purge reach every row (crm.personal_data ``subject_path``)."""

import pytest
from django.apps import apps

from crm import personal_data
from customers import services
from customers.models import Contact, Customer, ImportJob
from customers.tests.factories import make_customer, rep
from tests.plugin_app.models import Ticket

pytestmark = pytest.mark.django_db


def test_every_model_with_personal_fields_declares_its_subject():
    assert personal_data.missing_subjects() == []


def test_a_registered_model_without_a_subject_is_reported(monkeypatch):
    # A personal field on a model that declares no subject (Campaign declares none).
    entry = personal_data.PersonalField("customers.campaign", "name", "personal", "text")
    monkeypatch.setitem(personal_data._registry, ("customers.campaign", "name"), entry)
    assert personal_data.missing_subjects() == ["customers.campaign"]
    with pytest.raises(LookupError):
        personal_data.rows_about("customers.campaign", make_customer())


def _follow(model, path: str):
    for part in filter(None, path.split("__")):
        model = model._meta.get_field(part).related_model
    return model


def test_each_subject_leads_to_the_customer_or_says_why_not():
    for label in personal_data.registered_models():
        model = apps.get_model(label)
        subject = personal_data.subject_of(model)
        if subject.path is not None:
            assert _follow(model, subject.path) is Customer, label
        elif subject.key_field:
            assert model._meta.get_field(subject.key_field), label
        else:
            assert len(subject.none_reason) > 10, label


def test_the_declared_subjects_of_the_customers_and_audit_models():
    assert personal_data.subject_of(Customer) == personal_data.by_path("")
    assert personal_data.subject_of(Contact) == personal_data.by_path("customer")
    assert personal_data.subject_of("audit.auditevent") == personal_data.by_key("subject_key_id")
    assert not personal_data.subject_of(ImportJob).is_about_a_customer
    assert personal_data.subject_of(Ticket) == personal_data.by_path("customer")


def test_subject_access_reaches_every_row_of_the_customer_and_no_other():
    owner = rep()
    customer, other = make_customer(owner), make_customer(owner)
    services.contact_save(actor=owner, customer=customer, name="王芳", phone="13912345678")
    services.customer_reveal(actor=owner, customer=customer, fields=["name"], reason="call back")
    Ticket.objects.create(customer=customer, title="Late delivery", note="rang twice")
    Ticket.objects.create(customer=other, title="Other")

    found = {
        label: list(personal_data.rows_about(label, customer))
        for label in personal_data.registered_models()
    }
    assert found["customers.customer"] == [customer]
    assert [c.name for c in found["customers.contact"]] == ["王芳"]
    assert [t.title for t in found["plugin_app.ticket"]] == ["Late delivery"]
    reasons = [event.reason for event in found["audit.auditevent"]]
    assert "call back" in reasons
    assert found["customers.importjob"] == []
    for rows in found.values():
        assert all(getattr(row, "customer_id", customer.pk) == customer.pk for row in rows)


def test_a_subject_is_declared_one_way_only():
    with pytest.raises(ValueError):
        personal_data.Subject(path="customer", key_field="data_key_id")
    with pytest.raises(ValueError):
        personal_data.Subject()
