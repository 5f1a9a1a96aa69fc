from django.apps import AppConfig


class PluginAppConfig(AppConfig):
    """A stand-in for an app built on customers (credit, complaints…), installed only in
    tests/settings.py: it plugs into the customer card, API, merge and import without any
    change to customers/."""

    name = "tests.plugin_app"
    label = "plugin_app"

    def ready(self):
        from audit import events as audit_events
        from crm import imports, roles
        from customers import card_sections, card_tabs, merge_policies, timeline
        from tests.plugin_app import registrations as plugin
        from tests.plugin_app.models import Ticket

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
        roles.extend(roles.SALES_REP, [plugin.VIEW, plugin.ADD])
        roles.extend(roles.SALES_MANAGER, [plugin.VIEW, plugin.VIEW_CONFIDENTIAL, plugin.ADD])
        roles.declare_unused(
            ["plugin_app.change_*", "plugin_app.delete_*", "plugin_app.add_historicalticket"],
            reason="tickets are written by the import and the test's fixtures only",
        )
        roles.declare_unused(
            ["plugin_app.view_historicalticket"], reason="read on the timeline, never listed"
        )

        # Same-titled tickets on both cards are combined; the others move to the survivor.
        merge_policies.register(
            Ticket, merge_policies.COMBINE, combine=plugin.combine_tickets, same_row=("title",)
        )
        # Tickets imported from a file, through the customers' import endpoint and pages.
        audit_events.register(plugin.TICKETS_IMPORTED, "Tickets imported")
        imports.register(plugin.tickets_import_target())
