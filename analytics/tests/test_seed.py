"""Demo sales data: three full years with a season, idempotent."""

import io

import pytest

from analytics import reports
from analytics.models import SalesLine, StockSnapshot
from analytics.seed import seed_sales
from crm import roles
from crm.tests.factories import UserFactory
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db


def test_seed_sales_shows_a_season_and_runs_twice():
    owner = rep()
    make_customer(owner), make_customer(owner)
    seed_sales(stdout=io.StringIO(), password="x")
    lines = SalesLine.objects.count()
    assert lines > 0 and StockSnapshot.objects.exists()
    seed_sales(stdout=io.StringIO(), password="x")
    assert SalesLine.objects.count() == lines
    gm = UserFactory(role=roles.GENERAL_MANAGER)
    scope = reports.Scope(
        user=gm, date_from=reports.datetime.date(2020, 1, 1), date_to=reports.datetime.date.today()
    )
    index = reports.seasonal(scope, years=reports.default_years())["index"]
    assert index is not None and index[11] > index[1]  # December above February
