"""Sales analytics: Data and the invariants that need no other object.

Products and purchase estimates are business records with history. Sales lines and stock
snapshots are *facts* loaded in bulk (thousands of rows a second, millions of rows): they
are append-only, carry no per-row history, and who loaded them is recorded by the import
job or the API call's audit event (docs/analytics.md "Why sales lines have no history").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import BusinessModel

MONEY = {"max_digits": 16, "decimal_places": 2}
QUANTITY = {"max_digits": 16, "decimal_places": 3}


class Product(BusinessModel):
    """One of our products: its code, name, category and standard cost."""

    code = models.CharField(_("product code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    standard_cost = models.DecimalField(_("standard cost"), default=0, **MONEY)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class SalesLine(models.Model):
    """One sales line (a return is a negative line): an append-only fact.

    ``line_key`` makes loading idempotent: the caller's ``reference`` if given, else a
    digest of the line's content and its occurrence among identical lines of one batch.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="sales_lines",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    amount = models.DecimalField(_("amount"), **MONEY)
    cost = models.DecimalField(_("cost"), **MONEY)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    line_key = models.CharField(_("line key"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("loaded at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sales line")
        verbose_name_plural = _("sales lines")
        indexes = [
            # Reports of a period (the company, a business type): range on date first.
            models.Index(fields=["date", "customer"], name="analytics_sl_date_cust"),
            # One customer's reports (the card's Sales tab), and merges.
            models.Index(fields=["customer", "date"], name="analytics_sl_cust_date"),
            # Product mix and the products' questions.
            models.Index(fields=["product", "date"], name="analytics_sl_prod_date"),
        ]

    def __str__(self):
        return f"{self.date} {self.product_id} {self.amount}"


class StockSnapshot(models.Model):
    """Our product held by a customer in one month, valued at selling price: a fact."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="stock_snapshots",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    opening_quantity = models.DecimalField(_("opening quantity"), **QUANTITY)
    closing_quantity = models.DecimalField(_("closing quantity"), **QUANTITY)
    opening_value = models.DecimalField(_("opening value"), **MONEY)
    closing_value = models.DecimalField(_("closing value"), **MONEY)
    created_at = models.DateTimeField(_("loaded at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stock snapshot")
        verbose_name_plural = _("stock snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product", "month"], name="analytics_stock_once_a_month"
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="analytics_stock_first_of_month"
            ),
        ]
        indexes = [models.Index(fields=["month", "product"], name="analytics_stock_month_prod")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.product_id}"


class PurchaseEstimate(BusinessModel):
    """A customer's estimated total purchases in a year (all suppliers): share of wallet."""

    class Source(models.TextChoices):
        ASKED = "asked", _("Asked the customer")
        PLAN = "plan", _("Customer's plan")
        FINANCIALS = "financials", _("Financial statements")
        STOCK = "stock", _("Inferred from stock")

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="purchase_estimates",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("estimated purchases"), **MONEY)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)

    class Meta:
        verbose_name = _("purchase estimate")
        verbose_name_plural = _("purchase estimates")
        constraints = [
            models.UniqueConstraint(fields=["customer", "year"], name="analytics_estimate_once"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="analytics_estimate_positive"
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.amount}"


class ReportRun(BusinessModel):
    """A stored monthly report run: its period, status, timings, results and workbook."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    results = models.JSONField(_("results"), default=dict, blank=True)
    timings = models.JSONField(_("timings (ms)"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    workbook = models.BinaryField(_("workbook"), blank=True, default=b"")
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        ordering = ["-period"]
        permissions = [("run_reportrun", _("Can start monthly report runs"))]

    def __str__(self):
        return f"{self.period:%Y-%m}"
