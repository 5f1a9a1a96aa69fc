"""``/api/v1/credit/…``: one ``path()`` per endpoint, one module per resource (the paths
and fields of the issue's API contract)."""

from django.urls import path

from credit.api import accounts, holds, investigations, limits, orders, receivables, summary

urlpatterns = [
    path("accounts/", accounts.AccountCreateApi.as_view(), name="credit-account-create"),
    path(
        "accounts/<int:pk>/approve/",
        accounts.AccountApproveApi.as_view(),
        name="credit-account-approve",
    ),
    path(
        "accounts/<int:pk>/reject/",
        accounts.AccountRejectApi.as_view(),
        name="credit-account-reject",
    ),
    path(
        "limit-requests/",
        limits.LimitRequestListCreateApi.as_view(),
        name="credit-limit-request-list",
    ),
    path(
        "limit-requests/<int:pk>/approve/",
        limits.LimitApproveApi.as_view(),
        name="credit-limit-request-approve",
    ),
    path(
        "limit-requests/<int:pk>/reject/",
        limits.LimitRejectApi.as_view(),
        name="credit-limit-request-reject",
    ),
    path(
        "customers/<int:customer_id>/",
        summary.CreditSummaryApi.as_view(),
        name="credit-customer-summary",
    ),
    path("orders/", orders.OrderListCreateApi.as_view(), name="credit-order-list"),
    path("orders/<int:pk>/release/", orders.OrderReleaseApi.as_view(), name="credit-order-release"),
    path("orders/<int:pk>/reject/", orders.OrderRejectApi.as_view(), name="credit-order-reject"),
    path("holds/", holds.HoldCreateApi.as_view(), name="credit-hold-create"),
    path("holds/<int:pk>/release/", holds.HoldReleaseApi.as_view(), name="credit-hold-release"),
    path(
        "investigations/<int:pk>/attachments/",
        investigations.InvestigationAttachmentListCreateApi.as_view(),
        name="credit-investigation-attachments",
    ),
    path("invoices/", receivables.InvoiceListCreateApi.as_view(), name="credit-invoice-list"),
    path("payments/", receivables.PaymentListCreateApi.as_view(), name="credit-payment-list"),
    path("notes/", receivables.NoteListCreateApi.as_view(), name="credit-note-list"),
]
