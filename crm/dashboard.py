"""The dashboard registry: panels of one's own work on the home page (DESIGN §7).

An app registers a panel in ``AppConfig.ready()``: a template and a function that
returns the panel's context for a user, or ``None`` when the panel has nothing to show
that user. Each panel function must run a bounded number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[..., dict | None]  # context(user) -> dict | None
    order: int = 100


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels_for(user) -> list[dict]:
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(user)
        if context is not None:
            shown.append({"template": panel.template, **context})
    return shown
