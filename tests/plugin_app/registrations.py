"""What the plug-in test app adds to the customer card, through customers' registries only."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_noop

from crm import imports
from crm.imports import checks
from crm.imports import messages as import_messages
from customers.selectors import TimelineEntry

VIEW = "plugin_app.view_ticket"
ADD = "plugin_app.add_ticket"
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


# --- merge policy -------------------------------------------------------------------------


def combine_tickets(*, survivor_row, duplicate_row, actor, reason) -> bool:
    """Two tickets of the same title, one on each card, are one complaint told twice.

    The survivor's ticket keeps the earlier opening and the stricter confidentiality; the
    duplicate's ticket stays on the merged card (a merge never deletes a row). Tickets
    without a twin move to the survivor (the policy's ``same_row`` names the twins).
    """
    from crm.fields import change_reason_seal

    changed = []
    if duplicate_row.opened_at < survivor_row.opened_at:
        survivor_row.opened_at = duplicate_row.opened_at
        changed.append("opened_at")
    if duplicate_row.confidential and not survivor_row.confidential:
        survivor_row.confidential = True
        changed.append("confidential")
    if changed:
        survivor_row._history_user = actor
        survivor_row._change_reason = change_reason_seal(survivor_row, reason)
        survivor_row.save(update_fields=[*changed, "updated_at"])
    return False


# --- import target ------------------------------------------------------------------------

TICKETS_IMPORTED = "plugin_app.tickets_imported"
UNKNOWN_CUSTOMER = gettext_noop("There is no customer with this code that you may see.")
TICKET_EXISTS = gettext_noop("This customer already has a ticket with this title.")
NOTE_MAX_LENGTH = 2000

TICKET_COLUMNS = (
    imports.Column("customer_code", ("客户编号",), required=True),
    imports.Column("title", ("标题",), required=True),
    imports.Column("confidential", ("保密",)),
    imports.Column("opened_on", ("受理日期",)),
    imports.Column("note", ("备注",)),
)


class TicketChecker(imports.Checker):
    """Rows of the "tickets" target: a ticket on a customer the importer may see, named by
    the customer's code. A ticket whose title the customer already has is a duplicate, so a
    file imported twice creates nothing twice."""

    def __init__(self, actor):
        super().__init__(actor)
        self.batch_customers = {}

    def check(self, line, cells, *, first_pass=True):
        from tests.plugin_app.models import Ticket

        row = imports.Row(line)
        values = row.values
        values["customer_code"] = checks.text(row, cells, "customer_code")
        if not cells.get("customer_code"):
            row.add("customer_code", import_messages.REQUIRED)
        values["title"] = checks.text(
            row, cells, "title", max_length=checks.model_max_length(Ticket, "title")
        )
        if not cells.get("title"):
            row.add("title", import_messages.REQUIRED)
        values["confidential"] = checks.boolean(row, cells, "confidential")
        values["opened_on"] = checks.date(row, cells, "opened_on")
        values["note"] = checks.text(row, cells, "note", max_length=NOTE_MAX_LENGTH)
        if first_pass and values["customer_code"] and values["title"]:
            self.remember(row, (values["customer_code"], values["title"]), "title")
        return row

    def customers_by_code(self, codes) -> dict:
        """The customers with these codes that the importer may see (one query)."""
        from customers.selectors import customer_list

        return {c.code: c for c in customer_list(user=self.actor).filter(code__in=codes)}

    def check_database(self, rows) -> None:
        from tests.plugin_app.models import Ticket

        codes = {row.values["customer_code"] for row in rows if row.values["customer_code"]}
        customers = self.customers_by_code(codes)
        existing = set(
            Ticket.objects.filter(customer__code__in=set(customers)).values_list(
                "customer__code", "title"
            )
        )
        for row in rows:
            code = row.values["customer_code"]
            if not code:
                continue
            if code not in customers:
                row.add("customer_code", UNKNOWN_CUSTOMER)
            elif (code, row.values["title"]) in existing:
                row.add("title", TICKET_EXISTS)

    def prepare(self, rows) -> None:
        self.batch_customers = self.customers_by_code({r.values["customer_code"] for r in rows})

    def write(self, row) -> None:
        from tests.plugin_app.models import Ticket

        values = row.values
        customer = self.batch_customers.get(values["customer_code"])
        if customer is None:  # it left the importer's sight since the check
            raise ValidationError({"customer_code": [UNKNOWN_CUSTOMER]})
        ticket = Ticket(
            customer=customer,
            title=values["title"],
            confidential=values["confidential"],
            note=values["note"],
        )
        if values["opened_on"] is not None:
            ticket.opened_at = timezone.make_aware(
                datetime.datetime.combine(values["opened_on"], datetime.time(9))
            )
        ticket._history_user = self.actor
        ticket.save()


def tickets_import_target() -> imports.ImportTarget:
    return imports.ImportTarget(
        key="tickets",
        label="Tickets",
        permission=ADD,
        columns=TICKET_COLUMNS,
        checker=TicketChecker,
        audit_action=TICKETS_IMPORTED,
        order=90,
    )
