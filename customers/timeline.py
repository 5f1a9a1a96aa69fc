"""The timeline registry: apps built on customers add their events to the card's timeline.

A source is ``source(customer, user, limit) -> list[TimelineEntry]``: ``user`` is the one
viewing the card (already allowed to see it), so a source leaves out the entries that user
may not see. It returns at most ``limit`` entries and runs a fixed number of queries.
Register it from the app's ``AppConfig.ready()``; ``customers`` imports none of the apps
that register here.
"""

from collections.abc import Callable

_sources: list[Callable] = []


def register(source: Callable) -> Callable:
    if source not in _sources:
        _sources.append(source)
    return source


def sources() -> list[Callable]:
    return list(_sources)
