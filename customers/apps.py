from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """Customers.

    Customer card, contacts, identity documents, consents, interactions, service stages,
    visit plans, custom attributes, campaigns, import/export.
    """

    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from crm import dashboard, navigation
        from customers import (
            search,  # noqa: F401  (what the search digests index)
            seed,  # noqa: F401  (demo customers)
        )

        for entry in (
            navigation.NavEntry(
                key="customers",
                label=_("Customers"),
                description=_("Customer cards: contacts, identity, consents, interactions."),
                url_name="customers:list",
                permissions=("customers.view_customer",),
                order=10,
            ),
            navigation.NavEntry(
                key="visit-plan",
                label=_("Visit plan"),
                description=_("Prospects you plan to visit, and each visit's result."),
                url_name="customers:visit-plan",
                permissions=("customers.add_visitplanentry",),
                order=20,
            ),
            navigation.NavEntry(
                key="imports",
                label=_("Import"),
                description=_("Customers and contacts from CSV or Excel files."),
                url_name="customers:import-list",
                permissions=("customers.import_customer",),
                order=30,
            ),
            navigation.NavEntry(
                key="campaigns",
                label=_("Campaigns"),
                description=_("Newsletters, greetings and promotions to consenting customers."),
                url_name="customers:campaign-list",
                permissions=("customers.view_campaign",),
                order=40,
            ),
            navigation.NavEntry(
                key="merge",
                label=_("Merge cards"),
                description=_("Merge two cards of the same customer."),
                url_name="customers:merge",
                permissions=("customers.merge_customer",),
                order=50,
            ),
        ):
            navigation.register(entry)
        dashboard.register(
            dashboard.Panel(
                key="customers",
                template="customers/_dashboard.html",
                context=_dashboard_context,
                order=10,
            )
        )


def _dashboard_context(user):
    if not user.has_perm("customers.change_customer"):
        return None
    from customers import selectors

    return {
        "overdue": list(selectors.reverification_due_for(user)),
        "follow_ups": list(selectors.follow_ups_due_for(user)),
        "removed": list(selectors.visit_plan_removed_recently(user)),
    }
