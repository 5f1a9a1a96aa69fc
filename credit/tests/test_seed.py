"""``seed_demo`` gives every credit page something real."""

import io

import pytest
from django.core.management import call_command

from credit import selectors
from credit.models import CreditAccount, CreditLimit, Hold, Order
from crm.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_credit_data():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "credit:" in out.getvalue()
    assert CreditAccount.objects.filter(status="open").count() >= 4
    assert CreditAccount.objects.filter(grade__in=["A", "B"]).count() >= 2
    assert Order.objects.filter(status="blocked").exists()
    assert Hold.objects.filter(status="active").exists()
    manager1 = User.objects.get(username="manager1")
    gm = User.objects.get(username="gm")
    assert selectors.limit_inbox(manager1).exists()
    assert selectors.limit_inbox(gm).filter(needs_general_manager=True).exists()
    assert CreditLimit.objects.filter(status="active").count() >= 3
