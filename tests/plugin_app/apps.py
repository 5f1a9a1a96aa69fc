from django.apps import AppConfig


class PluginAppConfig(AppConfig):
    """A stand-in for an app built on customers (credit, complaints…), installed only in
    tests/settings.py: it plugs into the customer card without any change to customers/."""

    name = "tests.plugin_app"
    label = "plugin_app"

    def ready(self):
        from crm import roles
        from customers import card_sections, card_tabs, timeline
        from tests.plugin_app import registrations as plugin

        card_tabs.register(
            card_tabs.CardTab(
                key="tickets",
                label="Tickets",
                template="plugin_app/tickets_tab.html",
                context=plugin.tickets_tab_context,
                permission=plugin.VIEW,
                order=65,
            )
        )
        card_tabs.register(
            card_tabs.CardTab(
                key="ticket-count",
                label="Ticket count",
                view=plugin.ticket_count_tab_view,
                permission=plugin.is_owner,
                order=66,
            )
        )
        timeline.register(plugin.ticket_timeline)
        card_sections.register(
            card_sections.CardSection(
                key="tickets", build=plugin.tickets_section, permission=plugin.VIEW
            )
        )
        roles.extend(roles.SALES_REP, [plugin.VIEW])
        roles.extend(roles.SALES_MANAGER, [plugin.VIEW, plugin.VIEW_CONFIDENTIAL])
        roles.declare_unused(
            ["plugin_app.add_*", "plugin_app.change_*", "plugin_app.delete_*"],
            reason="tickets are written by the test's fixtures only",
        )
        roles.declare_unused(
            ["plugin_app.view_historicalticket"], reason="read on the timeline, never listed"
        )

        # MERGE POLICY: register this app's policy for Ticket here
        # (customers.merge_policies.register(Ticket, …)).
        # IMPORT TARGET: register this app's import target (crm.imports) here.
