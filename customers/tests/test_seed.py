"""The demo company's customers."""

import io

import pytest
from django.core.management import call_command

from customers.models import Customer, IdentityDocument
from customers.validators import is_valid_resident_id, is_valid_social_credit_code

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_believable_customers():
    call_command("seed_demo", stdout=io.StringIO())
    customers = Customer.objects.select_related("owner", "business_type")
    assert customers.count() >= 30
    assert {c.owner.username for c in customers} == {"rep1", "rep2", "rep3"}
    assert len({c.business_type.code for c in customers}) >= 6
    for document in IdentityDocument.objects.all():
        check = (
            is_valid_resident_id
            if document.doc_type == "resident_id"
            else is_valid_social_credit_code
        )
        assert check(document.number)
    sample = customers.filter(kind="individual").first()
    assert sample.consents.exists() and sample.interactions.exists()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in sample.name)
