import datetime
from decimal import Decimal

import pytest

from credit import services
from credit.models import RiskReport
from credit.tasks import notes_overdue_check_task
from credit.tests.factories import people, trading_customer

pytestmark = pytest.mark.django_db


def test_the_daily_task_raises_risk_reports_for_overdue_notes():
    cast = people()
    customer = trading_customer(cast)
    today = datetime.date.today()
    services.note_record(
        actor=cast["north_manager"],
        customer=customer,
        kind="bill",
        amount=Decimal("5.00"),
        received_on=today - datetime.timedelta(days=100),
        due_on=today - datetime.timedelta(days=60),
    )
    assert notes_overdue_check_task.delay().get() == 1
    assert RiskReport.objects.get().trigger == "overdue"
