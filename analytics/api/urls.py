"""``/api/v1/analytics/`` endpoints."""

from django.urls import path

from analytics.api import batches, estimates, products, reports, runs

urlpatterns = [
    path("products/", products.ProductListCreateApi.as_view(), name="analytics-products"),
    path("estimates/", estimates.EstimateListCreateApi.as_view(), name="analytics-estimates"),
    path(
        "sales-lines/batch/",
        batches.SalesLineBatchCreateApi.as_view(),
        name="analytics-sales-lines-batch",
    ),
    path(
        "stock-snapshots/batch/",
        batches.StockSnapshotBatchCreateApi.as_view(),
        name="analytics-stock-batch",
    ),
    path("reports/abc/", reports.AbcReportApi.as_view(), name="analytics-report-abc"),
    path(
        "reports/composition/",
        reports.CompositionReportApi.as_view(),
        name="analytics-report-composition",
    ),
    path("reports/share/", reports.ShareReportApi.as_view(), name="analytics-report-share"),
    path(
        "reports/seasonal/",
        reports.SeasonalReportApi.as_view(),
        name="analytics-report-seasonal",
    ),
    path(
        "reports/products/",
        reports.ProductReportApi.as_view(),
        name="analytics-report-products",
    ),
    path("runs/", runs.ReportRunListCreateApi.as_view(), name="analytics-runs"),
    path("runs/<int:run_id>/", runs.ReportRunDetailApi.as_view(), name="analytics-run"),
]
