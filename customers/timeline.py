"""The timeline registry: apps built on customers add their events to the card's timeline.

A source is ``source(customer, limit) -> list[TimelineEntry]`` and must run a fixed number
of queries. ``customers`` imports none of the apps that register here.
"""

from collections.abc import Callable

_sources: list[Callable] = []


def register(source: Callable) -> Callable:
    if source not in _sources:
        _sources.append(source)
    return source


def sources() -> list[Callable]:
    return list(_sources)
