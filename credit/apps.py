from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Who has an approval inbox: sales managers and the general manager.
INBOX_PERMISSIONS = (
    "credit.approve_opening",
    "credit.approve_opening_final",
    "credit.approve_creditlimit",
    "credit.approve_creditlimit_above_cap",
    "credit.release_order",
)


class CreditConfig(AppConfig):
    """Credit.

    Account opening, credit investigations, grades, limits and approvals, receivables,
    orders and credit checks, holds, guarantees, termination.
    """

    name = "credit"
    verbose_name = _("Credit")

    def ready(self):
        from credit import (
            events,  # noqa: F401  (audit event types)
            registrations,
            roles,
            seed,  # noqa: F401  (demo credit data)
            views,
        )
        from crm import dashboard, navigation
        from customers import card_tabs, merge_policies, timeline

        roles.extend_roles()
        from credit import privacy

        privacy.register()
        card_tabs.register(
            card_tabs.CardTab(
                key="credit",
                label=registrations.TAB_LABEL,
                template="credit/tab.html",
                context=views.tab_context,
                permission=views.tab_visible,
                order=65,
            )
        )
        timeline.register(registrations.timeline_source)
        dashboard.register(
            dashboard.Panel(
                key="credit",
                template="credit/_dashboard.html",
                context=registrations.dashboard_context,
                order=20,
            )
        )
        for entry in (
            navigation.NavEntry(
                key="credit-inbox",
                label=_("Approvals"),
                description=_("Account openings, credit limits and blocked orders waiting."),
                url_name="credit:inbox",
                permissions=INBOX_PERMISSIONS,
                order=60,
            ),
            navigation.NavEntry(
                key="credit-reports",
                label=_("Credit reports"),
                description=_("Grades, exposure against limits, blocked orders, ageing."),
                url_name="credit:reports",
                permissions=("credit.view_credit_reports",),
                order=61,
            ),
            navigation.NavEntry(
                key="credit-settings",
                label=_("Credit settings"),
                description=_("Company cap, warning threshold, grade rules, review intervals."),
                url_name="credit:settings",
                permissions=("credit.change_creditsettings",),
                order=62,
            ),
        ):
            navigation.register(entry)
        # The count of what waits for a manager or the general manager, in the header.
        navigation.register_badge(
            navigation.HeaderBadge(
                key="credit-approvals",
                label=_("Approvals"),
                url_name="credit:inbox-badge",
                link_name="credit:inbox",
                permissions=INBOX_PERMISSIONS,
                order=60,
            )
        )

        from credit.models import CreditAccount, CreditLimit
        from credit.services.limits import combine_accounts_on_merge, combine_limits_on_merge

        merge_policies.register(
            CreditLimit, merge_policies.COMBINE, combine=combine_limits_on_merge
        )
        merge_policies.register(
            CreditAccount, merge_policies.COMBINE, combine=combine_accounts_on_merge
        )
        from credit import notify

        notify.register_kinds()
        from credit.imports import register_import_targets

        register_import_targets()
