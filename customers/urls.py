"""HTML pages of the customers app."""

from django.urls import path

from customers.views import board, calendar, campaigns, cards, imports, lists, merge

app_name = "customers"

urlpatterns = [
    path("", cards.customer_list_view, name="list"),
    path("new/", cards.customer_create_view, name="create"),
    path("visits/", cards.visit_plan_view, name="visit-plan"),
    path("visits/<int:entry_id>/record/", cards.visit_record_view, name="visit-record"),
    path("merge/", merge.customer_merge_view, name="merge"),
    path("merge/preview/", merge.customer_merge_preview_view, name="merge-preview"),
    path("<int:pk>/", cards.customer_detail_view, name="detail"),
    path("<int:pk>/edit/", cards.customer_edit_view, name="edit"),
    path("<int:pk>/tab/<slug:tab>/", cards.customer_tab_view, name="tab"),
    path("<int:pk>/reveal/", cards.customer_reveal_view, name="reveal"),
    path("<int:pk>/reverify/", cards.customer_reverify_view, name="reverify"),
    path("<int:pk>/attributes/", cards.attributes_save_view, name="attributes-save"),
    path("<int:pk>/contacts/new/", cards.contact_create_view, name="contact-create"),
    path("<int:pk>/documents/new/", cards.document_create_view, name="document-create"),
    path("<int:pk>/consents/new/", cards.consent_create_view, name="consent-create"),
    path(
        "<int:pk>/consents/<int:consent_id>/withdraw/",
        cards.consent_withdraw_view,
        name="consent-withdraw",
    ),
    path("<int:pk>/interactions/new/", cards.interaction_create_view, name="interaction-create"),
    path("<int:pk>/stage/", cards.stage_move_view, name="stage-move"),
    path("<int:pk>/status/", cards.customer_status_view, name="status"),
    path("<int:pk>/visit-plan/", cards.visit_plan_add_view, name="visit-plan-add"),
    path("<int:pk>/grants/new/", cards.grant_create_view, name="grant-create"),
    path("<int:pk>/grants/<int:grant_id>/revoke/", cards.grant_revoke_view, name="grant-revoke"),
    *lists.urlpatterns,
    *board.urlpatterns,
    *calendar.urlpatterns,
    *imports.urlpatterns,
    *campaigns.urlpatterns,
]
