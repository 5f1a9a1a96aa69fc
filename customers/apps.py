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
            offboarding,  # noqa: F401  (a leaving user's cards: crm.offboarding)
            roles,
            search,  # noqa: F401  (what the search digests index)
            seed,  # noqa: F401  (demo customers)
        )

        roles.extend_roles()
        _register_card_tabs()

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
                key="board",
                label=_("Stage board"),
                description=_("Your customers by service stage; move them between stages."),
                url_name="customers:board",
                permissions=("customers.change_customer",),
                order=15,
            ),
            navigation.NavEntry(
                key="calendar",
                label=_("Calendar"),
                description=_("Follow-ups and planned visits by month and week."),
                url_name="customers:calendar",
                permissions=("customers.change_customer",),
                order=16,
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
        # How this app's rows follow a merged card (customers.merge_policies).
        from customers.services.merge import register_policies

        register_policies()
        # What files may hold (crm.imports) and what a background export builds (crm.exports).
        from customers.services.exports import register_export_targets
        from customers.services.imports import register_import_targets

        register_import_targets()
        register_export_targets()
        # Subject access and purge of this app's rows (crm.privacy).
        from customers import privacy

        privacy.register()


def _register_card_tabs():
    """The card's own tabs, through the registry other apps add theirs to."""
    from customers import card_tabs
    from customers.views import cards

    for tab in (
        card_tabs.CardTab(
            key="profile",
            label=_("Profile"),
            template="customers/tabs/profile.html",
            context=cards.profile_tab_context,
            order=10,
        ),
        card_tabs.CardTab(
            key="contacts", label=_("Contacts"), template="customers/tabs/contacts.html", order=20
        ),
        card_tabs.CardTab(
            key="identity", label=_("Identity"), template="customers/tabs/identity.html", order=30
        ),
        card_tabs.CardTab(
            key="consents", label=_("Consents"), template="customers/tabs/consents.html", order=40
        ),
        card_tabs.CardTab(
            key="interactions",
            label=_("Interactions"),
            template="customers/tabs/interactions.html",
            order=50,
        ),
        card_tabs.CardTab(
            key="stages", label=_("Stages"), template="customers/tabs/stages.html", order=60
        ),
        card_tabs.CardTab(
            key="timeline",
            label=_("Timeline"),
            template="customers/tabs/timeline.html",
            context=cards.timeline_tab_context,
            order=70,
        ),
        # Who holds an explicit grant on the card: for those who may grant, and overseers.
        card_tabs.CardTab(
            key=cards.ACCESS_TAB,
            label=_("Access"),
            template="customers/tabs/access.html",
            context=cards.access_tab_context,
            permission=cards.may_see_grants,
            order=90,
        ),
    ):
        card_tabs.register(tab)


def _dashboard_context(user):
    """The home page by role (issue 13): a rep's day, a manager's team, the company's
    figures for the general manager, access figures for the DPO and the auditor, and the
    cards shared with service staff. Each part runs a fixed number of queries."""
    from customers import dashboards

    return dashboards.context_for(user)
