"""``/api/v1/…`` of the customers app: one ``path()`` per endpoint, one module per resource.

The ``customers/<word>/`` paths come before ``customers/<id>/`` (an id is ASCII digits,
``<int:…>``, so they cannot clash, but the order keeps it obvious). The format-suffixed
variants (``customers/7.json``) are the ones the DRF router used to add.
"""

from django.urls import path
from rest_framework.routers import APIRootView

from crm.api.paths import format_suffixes
from customers.api import (
    attributes,
    calendar,
    campaigns,
    consents,
    contacts,
    customers,
    documents,
    exports,
    grants,
    imports,
    interactions,
    merge,
    reference,
    stages,
    visit_plan,
    workspace,
)

# The browsable API's root: ``GET /api/v1/`` lists these resources.
api_root = APIRootView.as_view(
    api_root_dict={
        "customers": "customer-list",
        "visit-plan": "visit-plan-list",
        "reference/business-types": "business-type-list",
        "reference/tiers": "tier-list",
        "reference/stages": "stage-list",
    }
)

urlpatterns = [
    # Import jobs, the export and the merge.
    path("customers/imports/", imports.ImportJobListCreateApi.as_view(), name="import-job-list"),
    path(
        "customers/imports/<int:pk>/",
        imports.ImportJobDetailApi.as_view(),
        name="import-job-detail",
    ),
    path(
        "customers/imports/<int:pk>/errors/",
        imports.ImportJobErrorListApi.as_view(),
        name="import-job-errors",
    ),
    path("customers/export/", exports.CustomerExportApi.as_view(), name="customer-export"),
    path("customers/merge/", merge.CustomerMergeApi.as_view(), name="customer-merge"),
    path(
        "customers/merge/preview/",
        merge.CustomerMergePreviewApi.as_view(),
        name="customer-merge-preview",
    ),
    # Saved views of the list, and the managers' owner changes.
    path(
        "customers/saved-views/",
        workspace.SavedViewListCreateApi.as_view(),
        name="customer-saved-view-list",
    ),
    path(
        "customers/saved-views/<int:pk>/",
        workspace.SavedViewDetailApi.as_view(),
        name="customer-saved-view-detail",
    ),
    path("customers/calendar/", calendar.CustomerCalendarApi.as_view(), name="customer-calendar"),
    path("customers/reassign/", workspace.CustomersReassignApi.as_view(), name="customer-reassign"),
    path(
        "customers/hand-over/", workspace.CustomersHandOverApi.as_view(), name="customer-hand-over"
    ),
    path(
        "customers/<int:pk>/owner/",
        workspace.CustomerOwnerChangeApi.as_view(),
        name="customer-owner-change",
    ),
    # Campaigns.
    path("campaigns/", campaigns.CampaignListCreateApi.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>/", campaigns.CampaignDetailApi.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/send/", campaigns.CampaignSendApi.as_view(), name="campaign-send"),
    path(
        "campaigns/<int:pk>/sends/",
        campaigns.CampaignSendListApi.as_view(),
        name="campaign-send-list",
    ),
    *format_suffixes(
        [
            path("", api_root, name="api-root"),
            # The card.
            path("customers/", customers.CustomerListCreateApi.as_view(), name="customer-list"),
            path(
                "customers/search/", customers.CustomerSearchApi.as_view(), name="customer-search"
            ),
            path(
                "customers/<int:pk>/",
                customers.CustomerDetailUpdateApi.as_view(),
                name="customer-detail",
            ),
            path(
                "customers/<int:pk>/reveal/",
                customers.CustomerRevealApi.as_view(),
                name="customer-reveal",
            ),
            path(
                "customers/<int:pk>/history/",
                customers.CustomerHistoryApi.as_view(),
                name="customer-history",
            ),
            path(
                "customers/<int:pk>/reverify/",
                customers.CustomerReverifyApi.as_view(),
                name="customer-reverify",
            ),
            # Its records.
            path(
                "customers/<int:pk>/contacts/",
                contacts.ContactListCreateApi.as_view(),
                name="customer-contacts",
            ),
            path(
                "customers/<int:pk>/documents/",
                documents.DocumentListCreateApi.as_view(),
                name="customer-documents",
            ),
            path(
                "customers/<int:pk>/consents/",
                consents.ConsentListCreateApi.as_view(),
                name="customer-consents",
            ),
            path(
                "customers/<int:pk>/consents/<int:consent_id>/withdraw/",
                consents.ConsentWithdrawApi.as_view(),
                name="customer-withdraw-consent",
            ),
            path(
                "customers/<int:pk>/interactions/",
                interactions.InteractionListCreateApi.as_view(),
                name="customer-interactions",
            ),
            path(
                "customers/<int:pk>/stages/",
                stages.StageMoveListCreateApi.as_view(),
                name="customer-stages",
            ),
            path(
                "customers/<int:pk>/attributes/",
                attributes.AttributeValueListSetApi.as_view(),
                name="customer-attributes",
            ),
            # Who may see it.
            path(
                "customers/<int:pk>/grant/",
                grants.GrantCreateApi.as_view(),
                name="customer-grant",
            ),
            path(
                "customers/<int:pk>/grants/",
                grants.GrantListCreateApi.as_view(),
                name="customer-grants",
            ),
            path(
                "customers/<int:pk>/grants/<int:grant_id>/",
                grants.GrantRevokeApi.as_view(),
                name="customer-revoke-grant",
            ),
            # The visit plan.
            path(
                "visit-plan/",
                visit_plan.VisitPlanListCreateApi.as_view(),
                name="visit-plan-list",
            ),
            path(
                "visit-plan/<int:pk>/record/",
                visit_plan.VisitRecordApi.as_view(),
                name="visit-plan-record",
            ),
            # Reference data.
            path(
                "reference/business-types/",
                reference.BusinessTypeListApi.as_view(),
                name="business-type-list",
            ),
            path(
                "reference/business-types/<int:pk>/",
                reference.BusinessTypeDetailApi.as_view(),
                name="business-type-detail",
            ),
            path("reference/tiers/", reference.TierListApi.as_view(), name="tier-list"),
            path(
                "reference/tiers/<int:pk>/", reference.TierDetailApi.as_view(), name="tier-detail"
            ),
            path("reference/stages/", reference.ServiceStageListApi.as_view(), name="stage-list"),
            path(
                "reference/stages/<int:pk>/",
                reference.ServiceStageDetailApi.as_view(),
                name="stage-detail",
            ),
        ]
    ),
]
