"""HTML pages of the credit app (``/credit/…``)."""

from django.urls import path

from credit import views

app_name = "credit"

urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("inbox/badge/", views.inbox_badge_view, name="inbox-badge"),
    path("reports/", views.reports_view, name="reports"),
    path("settings/", views.settings_view, name="settings"),
    # Actions on one customer's credit (the card's Credit tab posts here).
    path("customers/<int:pk>/open/", views.account_submit_view, name="account-submit"),
    path("customers/<int:pk>/limit/", views.limit_request_view, name="limit-request"),
    path("customers/<int:pk>/order/", views.order_create_view, name="order-create"),
    path("customers/<int:pk>/hold/", views.hold_place_view, name="hold-place"),
    path("customers/<int:pk>/grade/", views.grade_confirm_view, name="grade-confirm"),
    path("customers/<int:pk>/grade-facts/", views.grade_facts_view, name="grade-facts"),
    path(
        "customers/<int:pk>/investigation/",
        views.investigation_record_view,
        name="investigation-record",
    ),
    path("customers/<int:pk>/response/", views.response_record_view, name="response-record"),
    path("customers/<int:pk>/terminate/", views.terminate_view, name="terminate"),
    path("customers/<int:pk>/invoice/", views.invoice_create_view, name="invoice-create"),
    path("customers/<int:pk>/payment/", views.payment_record_view, name="payment-record"),
    path("customers/<int:pk>/note/", views.note_record_view, name="note-record"),
    # An investigation's page and its attachments.
    path("investigations/<int:pk>/", views.investigation_view, name="investigation"),
    path(
        "investigations/<int:pk>/attachments/",
        views.attachment_add_view,
        name="attachment-add",
    ),
    path("attachments/<int:pk>/", views.attachment_download_view, name="attachment-download"),
    # Actions on one credit row.
    path("accounts/<int:pk>/approve/", views.account_approve_view, name="account-approve"),
    path("accounts/<int:pk>/reject/", views.account_reject_view, name="account-reject"),
    path("conditions/<int:pk>/fulfil/", views.condition_fulfil_view, name="condition-fulfil"),
    path("limits/<int:pk>/approve/", views.limit_approve_view, name="limit-approve"),
    path("limits/<int:pk>/reject/", views.limit_reject_view, name="limit-reject"),
    path("orders/<int:pk>/release/", views.order_release_view, name="order-release"),
    path("orders/<int:pk>/reject/", views.order_reject_view, name="order-reject"),
    path("holds/<int:pk>/release/", views.hold_release_view, name="hold-release"),
    path("notes/<int:pk>/status/", views.note_status_view, name="note-status"),
    path("invoices/<int:pk>/write-off/", views.invoice_write_off_view, name="invoice-write-off"),
]
