from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """Sales analytics.

    Products, sales lines, stock snapshots, report functions, stored monthly reports.
    """

    name = "analytics"
    verbose_name = _("Sales analytics")

    def ready(self):
        from analytics import (
            imports,
            privacy,
            roles,
            seed,  # noqa: F401  (demo sales data)
        )
        from analytics.models import PurchaseEstimate, SalesLine, StockSnapshot

        privacy.register()
        from crm import dashboard, navigation
        from customers import card_tabs, merge_policies

        roles.extend_roles()
        imports.register_import_targets()
        navigation.register(
            navigation.NavEntry(
                key="analytics",
                label=_("Sales analysis"),
                description=_("Composition, ABC, share, seasonal index and product mix."),
                url_name="analytics:reports",
                permissions=("analytics.view_salesline",),
                order=60,
            )
        )
        navigation.register(
            navigation.NavEntry(
                key="analytics-runs",
                label=_("Monthly reports"),
                description=_("Stored monthly report runs and their workbooks."),
                url_name="analytics:runs",
                permissions=("analytics.view_reportrun",),
                order=61,
            )
        )
        navigation.register(
            navigation.NavEntry(
                key="analytics-estimates",
                label=_("Purchase estimates"),
                description=_("Customers' estimated total purchases, for share of wallet."),
                url_name="analytics:estimates",
                permissions=("analytics.view_purchaseestimate",),
                order=62,
            )
        )
        dashboard.register(
            dashboard.Panel(
                key="analytics",
                template="analytics/_dashboard.html",
                context=_dashboard_context,
                order=60,
            )
        )
        card_tabs.register(
            card_tabs.CardTab(
                key="sales",
                label=_("Sales"),
                view=_sales_tab,
                permission="analytics.view_salesline",
                order=75,
            )
        )
        # Sales rows follow the surviving card (no unique rule per customer: they move).
        merge_policies.register(SalesLine, merge_policies.MOVE)
        # Both cards' snapshots of the same product and month: the survivor's stays.
        merge_policies.register(StockSnapshot, merge_policies.KEEP_SURVIVORS)
        merge_policies.register(PurchaseEstimate, merge_policies.KEEP_SURVIVORS)


def _dashboard_context(user):
    from analytics.views import dashboard_context

    return dashboard_context(user)


def _sales_tab(request, customer):
    from analytics.views import sales_tab

    return sales_tab(request, customer)
