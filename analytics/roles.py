"""The analytics app's permissions on the roles (``AnalyticsConfig.ready``).

Reports (``view_salesline``) cover the customers the user sees: a rep his own, a manager
his team's, the general manager all. Managers and the general manager load sales data;
admins and managers start monthly runs and download them.
"""

from crm import roles

REPORTS = [
    "analytics.view_salesline",
    "analytics.view_stocksnapshot",
    "analytics.view_product",
    "analytics.view_purchaseestimate",
]
LOADING = [
    "analytics.add_salesline",
    "analytics.add_stocksnapshot",
    "analytics.add_product",
    "analytics.change_product",
]
ESTIMATES = ["analytics.add_purchaseestimate", "analytics.change_purchaseestimate"]
RUNS = ["analytics.view_reportrun", "analytics.run_reportrun"]


def extend_roles() -> None:
    roles.extend(roles.SALES_REP, [*REPORTS, *ESTIMATES])
    roles.extend(roles.SALES_MANAGER, [*REPORTS, *ESTIMATES, *LOADING, *RUNS])
    roles.extend(roles.GENERAL_MANAGER, [*REPORTS, *ESTIMATES, *LOADING, *RUNS])
    roles.extend(
        roles.ADMIN,
        ["analytics.view_product", "analytics.add_product", "analytics.change_product", *RUNS],
    )
    roles.declare_unused(
        ["analytics.change_salesline", "analytics.delete_salesline"],
        reason="sales lines are append-only facts; a correction is a new (negative) line",
    )
    roles.declare_unused(
        ["analytics.change_stocksnapshot", "analytics.delete_stocksnapshot"],
        reason="stock snapshots are append-only facts loaded in batches",
    )
    roles.declare_unused(
        ["analytics.delete_product", "analytics.delete_purchaseestimate"],
        reason="products are deactivated, estimates replaced; sales lines point at them",
    )
    roles.declare_unused(
        ["analytics.add_reportrun", "analytics.change_reportrun", "analytics.delete_reportrun"],
        reason="runs are made by the run service (run_reportrun), never edited by hand",
    )
    roles.declare_unused(
        ["analytics.*_historical*"], reason="history is written by the services, never by hand"
    )
