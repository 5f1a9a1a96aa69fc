"""What the plug-in test app adds to the customer card, through customers' registries only."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.html import format_html

from customers.selectors import TimelineEntry

VIEW = "plugin_app.view_ticket"
VIEW_CONFIDENTIAL = "plugin_app.view_confidential_ticket"


def tickets_for(customer, user):
    """The customer's tickets the user may see (the caller checked ``VIEW``)."""
    from tests.plugin_app.models import Ticket

    tickets = Ticket.objects.filter(customer=customer)
    if not user.has_perm(VIEW_CONFIDENTIAL):
        tickets = tickets.filter(confidential=False)
    return tickets


def tickets_tab_context(request, customer) -> dict:
    return {"tickets": list(tickets_for(customer, request.user))}


def ticket_count_tab_view(request, customer) -> HttpResponse:
    """A tab answered by a view of its own: the number of tickets."""
    count = tickets_for(customer, request.user).count()
    return HttpResponse(format_html('<p id="ticket-count">{} tickets</p>', count))


def is_owner(user, customer) -> bool:
    return customer.owner_id == user.pk


def tickets_section(customer, user) -> list[dict]:
    return [
        {
            "id": ticket.pk,
            "title": ticket.title,
            "confidential": ticket.confidential,
            "opened_at": ticket.opened_at.isoformat(),
        }
        for ticket in tickets_for(customer, user)
    ]


def ticket_timeline(customer, user, limit) -> list[TimelineEntry]:
    if not user.has_perm(VIEW):
        return []
    return [
        TimelineEntry(ticket.opened_at, "ticket", f"Ticket: {ticket.title}")
        for ticket in tickets_for(customer, user)[:limit]
    ]
