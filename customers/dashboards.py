"""The home page's customer panels by role (issue 13 item 1), built from selectors.

Every chart is a ``Chart`` whose numbers are also shown as a table under it (accessibility:
the figures must be readable without the drawing).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from customers import permissions as perms
from customers import selectors


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # bar, line, doughnut
    rows: list[dict]  # [{"label", "count"}]
    count_label: str = ""

    @property
    def spec(self) -> dict:
        return {
            "type": self.kind,
            "labels": [row["label"] for row in self.rows],
            "datasets": [
                {
                    "label": self.count_label or _("Customers"),
                    "data": [row["count"] for row in self.rows],
                }
            ],
        }

    @property
    def total(self) -> int:
        return sum(row["count"] for row in self.rows)


def context_for(user) -> dict | None:
    if not user.is_authenticated:
        return None
    context: dict = {}
    may_change = user.has_perm(perms.CHANGE)
    sees_all = user.has_perm(perms.VIEW_ALL)
    if user.has_perm("audit.view_auditevent"):
        privacy = selectors.dashboard_privacy()
        context["privacy"] = privacy
        context["privacy_chart"] = {
            "type": "line",
            "labels": [row["label"][5:] for row in privacy["days"]],
            "datasets": [
                {"label": _("Reveals"), "data": [row["reveals"] for row in privacy["days"]]},
                {"label": _("Exports"), "data": [row["exports"] for row in privacy["days"]]},
                {"label": _("Denials"), "data": [row["denials"] for row in privacy["days"]]},
            ],
        }
    if not user.has_perm(perms.VIEW):
        return context or None
    if sees_all and may_change:
        company = selectors.dashboard_company()
        context["charts"] = [
            Chart("status", _("Customers by status"), "doughnut", company["by_status"]),
            Chart("tier", _("Customers by tier"), "bar", company["by_tier"]),
            Chart(
                "business-type", _("Customers by business type"), "bar", company["by_business_type"]
            ),
            Chart("team", _("Customers by team"), "bar", company["by_team"]),
            Chart(
                "new",
                _("New customers per month"),
                "line",
                company["new_per_month"],
                _("New customers"),
            ),
            Chart(
                "interactions",
                _("Interactions per week"),
                "line",
                company["interactions_per_week"],
                _("Interactions"),
            ),
        ]
    elif may_change:
        if user.managed_teams.exists():
            context["team"] = selectors.dashboard_team(user)
        context["mine"] = selectors.dashboard_rep(user)
    elif not sees_all:
        context["shared"] = list(
            perms.visible_customers(user)
            .select_related("owner")
            .order_by("-updated_at", "-pk")[:20]
        )
    return context or None
