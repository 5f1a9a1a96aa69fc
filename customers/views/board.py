"""The stage board: the user's customers as columns by service stage; a move is a
recorded stage move with its responsible user (issue 13 item 4)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.validation import messages_add_errors
from customers import permissions as perms
from customers import selectors, services
from customers.models import ServiceStage

# Cards shown per column (the newest changes first): the board stays quick at any size.
PER_COLUMN = 30


def _board_context(user) -> dict:
    stages = list(ServiceStage.objects.filter(is_active=True).order_by("order", "pk"))
    columns = {stage.pk: [] for stage in stages}
    cards = (
        selectors.customer_list(user=user)
        .filter(stage__in=stages)
        .exclude(status__in=["merged", "closed"])
        .select_related("stage_owner")
        .order_by("-updated_at", "-pk")[: PER_COLUMN * max(len(stages), 1)]
    )
    for card in cards:
        if len(columns[card.stage_id]) < PER_COLUMN:
            columns[card.stage_id].append(card)
    return {
        "columns": [{"stage": stage, "cards": columns[stage.pk]} for stage in stages],
        "stages": stages,
        "may_move": user.has_perm("customers.add_stagemove"),
    }


@login_required
@permission_required(perms.VIEW, raise_exception=True)
@require_http_methods(["GET"])
def board_view(request):
    return render(request, "customers/board.html", _board_context(request.user))


@login_required
@require_POST
@permission_required("customers.add_stagemove", raise_exception=True)
def board_move_view(request, pk):
    """Move a card to another column; the responsible stays the stage's owner when he may
    still act on the card, else the user who moves it."""
    customer = perms.access_customer(request.user, pk, action="change")
    stage = ServiceStage.objects.filter(pk=request.POST.get("to_stage"), is_active=True).first()
    status = 200
    if stage is None:
        messages.error(request, _("Choose a stage."))
        status = 400
    elif stage.pk != customer.stage_id:
        responsible = customer.stage_owner or request.user
        if not selectors.card_actors(customer).filter(pk=responsible.pk).exists():
            responsible = request.user
        try:
            services.stage_move(
                actor=request.user, customer_id=customer.pk, to_stage=stage, responsible=responsible
            )
        except ValidationError as error:
            messages_add_errors(request, error)
            status = 400
    if not request.htmx:
        return redirect("customers:board")
    return render(request, "customers/_board.html", _board_context(request.user), status=status)


urlpatterns = [
    path("board/", board_view, name="board"),
    path("<int:pk>/board-move/", board_move_view, name="board-move"),
]
