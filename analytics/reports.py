"""The reports of DESIGN §6.7, computed in the database.

Every report aggregates sales lines (and stock snapshots) in SQL: ``GROUP BY`` and window
functions (``SUM(...) OVER (ORDER BY ...)``) through the ORM, on PostgreSQL and SQLite
alike. Python only shapes the few aggregated rows a report returns (one per customer,
business type, product or month) and rounds them for display; it never reads a sales line.

Scope: every report takes a ``Scope`` — a date range and the customers the user may see
(``customers.selectors.customer_list`` as a subquery), narrowed to a business type, a rep,
a team or one customer. The caller checks a given customer is visible (``access_customer``)
before it builds the scope.

Arithmetic: amounts are ``Decimal`` on both backends once fetched; comparisons that decide
a class (ABC) are made in SQL on the cross-multiplied sums (``100 × before < 75 × total``),
so no division decides them; percentages and ratios are rounded half-up to two places.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils.translation import gettext_lazy as _

from analytics.models import Product, PurchaseEstimate, SalesLine, StockSnapshot
from customers.selectors import customer_list

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
MONEY_FIELD = DecimalField(max_digits=20, decimal_places=2)
RATIO_FIELD = DecimalField(max_digits=30, decimal_places=10)
NOT_ENOUGH_DATA = _("not enough data")


def money(value) -> Decimal:
    return (Decimal(value) if value is not None else ZERO).quantize(CENT, ROUND_HALF_UP)


def two_places(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def percent(part, whole) -> Decimal | None:
    """``part ÷ whole × 100`` to two places, ``None`` for a zero whole."""
    if not whole:
        return None
    return two_places(Decimal(part) * HUNDRED / Decimal(whole))


@dataclass(frozen=True)
class Scope:
    """What a report covers: a period and the customers, all of them visible to ``user``."""

    user: object
    date_from: datetime.date
    date_to: datetime.date
    business_type: int | None = None
    rep: int | None = None
    team: int | None = None
    customer: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def customers(self) -> QuerySet:
        """The visible customers of the scope, as a subquery of ids (never run alone)."""
        if self.user is None:  # the scheduler's company-wide runs
            from customers.models import Customer

            queryset = Customer.objects.exclude(status=Customer.Status.MERGED)
        else:
            queryset = customer_list(user=self.user)
        if self.business_type:
            queryset = queryset.filter(business_type_id=self.business_type)
        if self.rep:
            queryset = queryset.filter(owner_id=self.rep)
        if self.team:
            queryset = queryset.filter(owner__team_id=self.team)
        if self.customer:
            queryset = queryset.filter(pk=self.customer)
        return queryset.order_by().values("pk")

    def lines(self) -> QuerySet:
        return SalesLine.objects.filter(
            date__gte=self.date_from, date__lte=self.date_to, customer_id__in=self.customers()
        )

    def snapshots(self) -> QuerySet:
        first_month = self.date_from.replace(day=1)
        return StockSnapshot.objects.filter(
            month__gte=first_month, month__lte=self.date_to, customer_id__in=self.customers()
        )


class OverAggregate(Func):
    """``SUM(<aggregate>)`` for a window over grouped rows: ``SUM(SUM(amount)) OVER (…)``.

    Django refuses an aggregate of an aggregate; inside ``OVER`` it is standard SQL (the
    window runs after ``GROUP BY``), on PostgreSQL and SQLite alike.
    """

    function = "SUM"
    window_compatible = True


def running_total(expression, *, order_by=None, partition_by=None) -> Window:
    return Window(
        OverAggregate(expression, output_field=MONEY_FIELD),
        order_by=order_by,
        partition_by=partition_by,
        output_field=MONEY_FIELD,
    )


def _business_type_name() -> str:
    from django.utils import translation

    language = (translation.get_language() or "en").lower()
    return "customer__business_type__name_zh" if language.startswith("zh") else ""


# --- composition by business type ---------------------------------------------------------


def composition(scope: Scope) -> list[dict]:
    """Each business type's sales and share of the scope's sales (one query)."""
    rows = (
        scope.lines()
        .values(
            "customer__business_type_id",
            "customer__business_type__code",
            "customer__business_type__name",
            "customer__business_type__name_zh",
        )
        .annotate(sales=Sum("amount"))
        .annotate(total=running_total(Sum("amount")))
        .order_by("-sales", "customer__business_type__code")
    )
    zh = bool(_business_type_name())
    result = []
    for row in rows:
        name = (zh and row["customer__business_type__name_zh"]) or row[
            "customer__business_type__name"
        ]
        result.append(
            {
                "business_type_id": row["customer__business_type_id"],
                "business_type": row["customer__business_type__code"],
                "name": name,
                "sales": money(row["sales"]),
                "share": percent(row["sales"], row["total"]),
            }
        )
    return result


# --- ABC ----------------------------------------------------------------------------------


def abc_thresholds() -> tuple[Decimal, Decimal]:
    return (
        Decimal(str(getattr(settings, "ANALYTICS_ABC_A", "75"))),
        Decimal(str(getattr(settings, "ANALYTICS_ABC_B", "95"))),
    )


def abc_queryset(scope: Scope) -> QuerySet:
    """One row per customer: sales, the running total (ranked, ties by code), the total."""
    ranking = [F("sales").desc(), F("customer__code").asc()]
    return (
        scope.lines()
        .values("customer_id", "customer__code")
        .annotate(sales=Sum("amount"))
        .annotate(
            running=running_total(Sum("amount"), order_by=ranking),
            total=running_total(Sum("amount")),
        )
        .order_by(*ranking)
    )


def abc(scope: Scope) -> list[dict]:
    """Customers ranked by sales (ties by code) with the cumulative share *before* each and
    its class: A below the first threshold, B below the second, else C (one query).

    The class is decided on the exact sums (``100 × before < threshold × total``), so no
    rounding of a share can move a customer across a boundary.
    """
    a_limit, b_limit = abc_thresholds()
    result = []
    for rank, row in enumerate(abc_queryset(scope), start=1):
        before = row["running"] - row["sales"]
        total = row["total"]
        if total > 0 and before * HUNDRED < total * a_limit:
            klass = "A"
        elif total > 0 and before * HUNDRED < total * b_limit:
            klass = "B"
        else:
            klass = "C"
        result.append(
            {
                "rank": rank,
                "customer": row["customer_id"],
                "code": row["customer__code"],
                "sales": money(row["sales"]),
                "share": percent(row["sales"], total),
                "cumulative_share_before": percent(before, total),
                "cumulative_share": percent(row["running"], total),
                "abc_class": klass,
            }
        )
    return result


# --- share of company sales and share of wallet -------------------------------------------


def target_share() -> Decimal:
    return Decimal(str(getattr(settings, "ANALYTICS_TARGET_SHARE", "30")))


def _year_weights(date_from: datetime.date, date_to: datetime.date) -> dict[int, Fraction]:
    """Each calendar year the period touches → the part of that year it covers."""
    weights = {}
    for year in range(date_from.year, date_to.year + 1):
        start = max(date_from, datetime.date(year, 1, 1))
        end = min(date_to, datetime.date(year, 12, 31))
        days = (datetime.date(year + 1, 1, 1) - datetime.date(year, 1, 1)).days
        weights[year] = Fraction((end - start).days + 1, days)
    return weights


def share(scope: Scope) -> dict:
    """Each customer's share of the company's sales in the period and, where estimates of
    its purchases cover every year the period touches, its share of wallet (three queries).

    Annual estimates count pro rata for the part of each year the period covers.
    """
    rows = list(
        scope.lines()
        .values("customer_id", "customer__code")
        .annotate(sales=Sum("amount"))
        .order_by(F("sales").desc(), F("customer__code").asc())
    )
    company = (
        SalesLine.objects.filter(date__gte=scope.date_from, date__lte=scope.date_to).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )
    weights = _year_weights(scope.date_from, scope.date_to)
    estimates: dict[int, dict[int, Decimal]] = {}
    if rows:
        for estimate in PurchaseEstimate.objects.filter(
            customer_id__in=[row["customer_id"] for row in rows], year__in=list(weights)
        ).values("customer_id", "year", "amount", "source"):
            estimates.setdefault(estimate["customer_id"], {})[estimate["year"]] = estimate
    goal = target_share()
    result = []
    for row in rows:
        found = estimates.get(row["customer_id"], {})
        wallet = None
        sources = sorted({found[y]["source"] for y in found})
        if found and set(found) == set(weights):
            wallet = sum((Fraction(found[y]["amount"]) * weights[y] for y in weights), Fraction(0))
        share_of_wallet = _decimal(Fraction(row["sales"]) / wallet, 100) if wallet else None
        result.append(
            {
                "customer": row["customer_id"],
                "code": row["customer__code"],
                "sales": money(row["sales"]),
                "share": percent(row["sales"], company),
                "estimate": _decimal(wallet),
                "estimate_sources": sources,
                "share_of_wallet": share_of_wallet,
                "target_share": two_places(goal),
                "gap": (share_of_wallet - two_places(goal))
                if share_of_wallet is not None
                else None,
            }
        )
    return {"company_sales": money(company), "target_share": two_places(goal), "rows": result}


# --- seasonal index and monthly targets ---------------------------------------------------


def default_years(today: datetime.date | None = None) -> list[int]:
    """The last three full calendar years."""
    year = (today or datetime.date.today()).year
    return [year - 3, year - 2, year - 1]


def split_target(target: Decimal, weights: list[Fraction]) -> list[Decimal]:
    """``target`` shared in proportion to ``weights`` (summing to 1), in cents, by the
    largest-remainder method: the parts add up to the target exactly. Equal remainders go
    to the earlier month."""
    cents = int((Decimal(target) * 100).to_integral_value(ROUND_HALF_UP))
    raw = [Fraction(cents) * weight for weight in weights]
    floors = [value.numerator // value.denominator for value in raw]
    left = cents - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(value) / 100).quantize(CENT) for value in floors]


def seasonal(scope: Scope, *, years: list[int], target: Decimal | None = None) -> dict:
    """Monthly sales of three years, the same-month-average index and monthly targets (one
    query). ``index`` is ``None`` with ``message`` "not enough data" when a year has no
    sales or the total is not positive.

    With ``A_m`` the average of month m and ``A`` the average of the twelve, the index
    ``S_m = A_m ÷ A × 100 %`` equals ``1200 × sum_m ÷ total``, computed exactly.
    """
    years = sorted(years)
    ranged = Scope(
        user=scope.user,
        date_from=datetime.date(years[0], 1, 1),
        date_to=datetime.date(years[-1], 12, 31),
        business_type=scope.business_type,
        rep=scope.rep,
        team=scope.team,
        customer=scope.customer,
    )
    cells = (
        ranged.lines()
        .filter(date__year__in=years)
        .annotate(year=ExtractYear("date"), month=ExtractMonth("date"))
        .values("year", "month")
        .annotate(sales=Sum("amount"), lines=Count("id"))
        .order_by("year", "month")
    )
    grid = {year: [ZERO] * 12 for year in years}
    lines = dict.fromkeys(years, 0)
    for cell in cells:
        grid[cell["year"]][cell["month"] - 1] = Decimal(cell["sales"])
        lines[cell["year"]] += cell["lines"]
    monthly = [[money(value) for value in grid[year]] for year in years]
    by_month = [sum((grid[year][m] for year in years), ZERO) for m in range(12)]
    total = sum(by_month, ZERO)
    result = {
        "years": years,
        "monthly_sales": monthly,
        "average": [money(value / len(years)) for value in by_month],
        "index": None,
        "targets": None,
        "message": "",
    }
    if len(years) != 3 or not all(lines.values()) or total <= 0:
        result["message"] = str(NOT_ENOUGH_DATA)
        return result
    weights = [Fraction(value) / Fraction(total) for value in by_month]
    result["index"] = [
        two_places(Decimal(w.numerator * 1200) / Decimal(w.denominator)) for w in weights
    ]
    if target is not None:
        result["targets"] = split_target(target, weights)
    return result


# --- product composition, margin, turnover, cross and contribution ratios -----------------


def _ratio(numerator: Fraction, denominator: Fraction) -> Fraction | None:
    return None if not denominator else numerator / denominator


def _decimal(value: Fraction | None, factor: int = 1) -> Decimal | None:
    if value is None:
        return None
    value = value * factor
    return two_places(Decimal(value.numerator) / Decimal(value.denominator))


def products(scope: Scope) -> list[dict]:
    """Products by sales (ties by code) with share and cumulative share (one query, window
    functions), gross profit and margin, and, from the stock snapshots of the same
    customers and months (one query), average stock, turnover, cross and contribution
    ratios.

    Average stock = Σ (opening + closing) ÷ 2 over the snapshots ÷ the months they cover;
    turnover = sales ÷ average stock; cross ratio = margin × turnover (= gross profit ÷
    average stock); contribution ratio = cross ratio × share of sales.
    """
    ranking = [F("sales").desc(), F("product__code").asc()]
    rows = list(
        scope.lines()
        .values("product_id", "product__code", "product__name", "product__category")
        .annotate(sales=Sum("amount"), cost=Sum("cost"), quantity=Sum("quantity"))
        .annotate(
            running=running_total(Sum("amount"), order_by=ranking),
            total=running_total(Sum("amount")),
        )
        .order_by(*ranking)
    )
    stock = {}
    if rows:
        half_sum = ExpressionWrapper(
            (F("opening_value") + F("closing_value")) / 2, output_field=MONEY_FIELD
        )
        stock = {
            row["product_id"]: row
            for row in scope.snapshots()
            .filter(product_id__in=[row["product_id"] for row in rows])
            .values("product_id")
            .annotate(stock=Sum(half_sum), months=Count("month", distinct=True))
            .order_by()
        }
    result = []
    for row in rows:
        sales, cost = Fraction(row["sales"]), Fraction(row["cost"])
        total = Fraction(row["total"])
        gross = sales - cost
        margin = _ratio(gross, sales)
        found = stock.get(row["product_id"])
        average = (
            Fraction(Decimal(found["stock"])) / found["months"]
            if found and found["months"] and found["stock"] is not None
            else None
        )
        turnover = _ratio(sales, average) if average else None
        cross = _ratio(gross, average) if average else None
        part = _ratio(sales, total)
        contribution = cross * part if cross is not None and part is not None else None
        result.append(
            {
                "product": row["product_id"],
                "code": row["product__code"],
                "name": row["product__name"],
                "category": row["product__category"],
                "quantity": Decimal(row["quantity"]),
                "sales": money(row["sales"]),
                "cost": money(row["cost"]),
                "gross_profit": money(row["sales"] - row["cost"]),
                "margin": _decimal(margin, 100),
                "average_stock": _decimal(average),
                "turnover": _decimal(turnover),
                "cross_ratio": _decimal(cross),
                "share": _decimal(part, 100),
                "cumulative_share": _decimal(_ratio(Fraction(row["running"]), total), 100),
                "contribution_ratio": _decimal(contribution),
            }
        )
    return result


def products_not_shared(*, user, customer: int, other: int, date_from, date_to) -> QuerySet:
    """Products sold to ``customer`` and not to ``other`` in the period (one query); both
    customers already checked visible by the caller."""
    period = Q(date__gte=date_from, date__lte=date_to)
    sold = SalesLine.objects.filter(period, product=OuterRef("pk"))
    return (
        Product.objects.filter(Exists(sold.filter(customer_id=customer)))
        .exclude(Exists(sold.filter(customer_id=other)))
        .order_by("code")
    )
