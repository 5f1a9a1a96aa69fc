"""Audit event types of the analytics app."""

from django.utils.translation import gettext_lazy as _

from audit.events import register

PRODUCT_CREATED = register("analytics.product_created", _("Product created"))
PRODUCT_UPDATED = register("analytics.product_updated", _("Product changed"))
SALES_LINES_LOADED = register("analytics.sales_lines_loaded", _("Sales lines loaded"))
STOCK_LOADED = register("analytics.stock_loaded", _("Stock snapshots loaded"))
ESTIMATE_SAVED = register("analytics.estimate_saved", _("Purchase estimate saved"))
DATA_IMPORTED = register("analytics.imported", _("Sales data imported"))
REPORT_EXPORTED = register("analytics.report_exported", _("Sales report exported"))
REPORT_RUN_STARTED = register("analytics.report_run_started", _("Monthly report run started"))
REPORT_RUN_FINISHED = register("analytics.report_run_finished", _("Monthly report run finished"))
REPORT_RUN_DOWNLOADED = register(
    "analytics.report_run_downloaded", _("Monthly report workbook downloaded")
)
