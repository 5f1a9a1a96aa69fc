"""The reveal-rule registry: who else may see some of a card's fields in clear.

Reveal belongs to the owner, the owner's team manager, the general manager and the DPO
(``customers.permissions.can_reveal``). DESIGN §3 adds one more, for the phone only: the
assignee of an open complaint. The complaints app says so here from its
``AppConfig.ready()``; ``customers`` imports none of the apps that register.

A rule is ``rule(user, customer, fields) -> bool``: true when ``user`` may reveal exactly
these ``fields`` of ``customer``. It runs a fixed number of queries. The reveal is still
recorded in the audit trail with its reason, as every reveal is.
"""

from __future__ import annotations

from collections.abc import Callable

_rules: list[Callable] = []


def register(rule: Callable) -> Callable:
    if rule not in _rules:
        _rules.append(rule)
    return rule


def rules() -> list[Callable]:
    return list(_rules)


def allows(user, customer, fields) -> bool:
    """Whether a registered rule lets ``user`` reveal ``fields`` of ``customer``."""
    fields = frozenset(fields)
    return bool(fields) and any(rule(user, customer, fields) for rule in _rules)
