"""A write a role may never do is refused (403, audited) before its body is read."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import api_client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (roles.AUDITOR, "/api/v1/credit/holds/"),
        (roles.DPO, "/api/v1/credit/accounts/"),
        (roles.SALES_REP, "/api/v1/credit/accounts/1/approve/"),
        (roles.GENERAL_MANAGER, "/api/v1/complaints/1/assign/"),
    ],
)
def test_a_role_without_the_permission_gets_403_and_an_audited_denial(role, path):
    user = UserFactory(role=role)
    before = AuditEvent.objects.filter(action="access.denied", actor=user).count()
    response = api_client_for(user).post(path, {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You are not allowed to do this."}
    assert AuditEvent.objects.filter(action="access.denied", actor=user).count() == before + 1


def test_a_role_with_the_permission_still_reaches_validation():
    rep = UserFactory(role=roles.SALES_REP)
    response = api_client_for(rep).post("/api/v1/credit/holds/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"customer", "reason"}


@pytest.mark.parametrize(
    ("role", "path"),
    [(roles.AUDITOR, "consents"), (roles.AUDITOR, "interactions"), (roles.DPO, "interactions")],
)
def test_a_card_form_refuses_a_role_that_may_never_use_it_before_reading_it(role, path, client):
    from customers.tests.factories import make_customer

    customer = make_customer()
    user = UserFactory(role=role)
    client.force_login(user)
    response = client.post(f"/customers/{customer.pk}/{path}/new/", {})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor=user).count() == 1
