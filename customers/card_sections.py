"""The card-section registry: named sections added to the card in the API
(``GET /api/v1/customers/{id}/`` answers them under ``sections``).

Each app built on customers registers its sections from its ``AppConfig.ready()``;
``customers`` imports none of them. A user sees only the sections his permission admits;
the others are left out of ``sections`` (its keys are the section keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from customers.card_tabs import permission_allows

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class CardSection:
    """One section: ``build(customer, user)`` returns JSON-ready data (often an output
    serializer's ``.data``) with a fixed number of queries.

    ``permission`` is a permission name, ``(user, customer) -> bool``, or ``None`` (everyone
    who may see the card). The ``customer`` passed is one the user may see.
    """

    key: str
    build: Callable[[Any, Any], Any]
    permission: str | Callable[[Any, Any], bool] | None = None
    order: int = 100

    def __post_init__(self):
        if not _KEY.match(self.key):
            raise ValueError(f"a section key is a snake_case name: {self.key!r}")

    def is_visible_to(self, user, customer) -> bool:
        return permission_allows(self.permission, user, customer)


_sections: dict[str, CardSection] = {}


def register(section: CardSection) -> CardSection:
    """Add a section (or replace the one with its key)."""
    _sections[section.key] = section
    return section


def unregister(key: str) -> None:
    _sections.pop(key, None)


def sections() -> list[CardSection]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))


def sections_for(customer, user) -> dict[str, Any]:
    """The sections ``user`` may see, built for ``customer``, by key."""
    return {
        section.key: section.build(customer, user)
        for section in sections()
        if section.is_visible_to(user, customer)
    }
