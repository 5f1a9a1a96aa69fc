"""The demo-data registry: ``manage.py seed_demo`` runs every registered seeder in order.

The foundation seeds users and teams; each app that lands adds its customers and data
by registering a function in its ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seeder:
    name: str
    order: int
    run: Callable[..., None]  # run(stdout=..., password=...)


_seeders: dict[str, Seeder] = {}


def register(name: str, order: int = 100):
    def decorator(func):
        _seeders[name] = Seeder(name, order, func)
        return func

    return decorator


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda s: (s.order, s.name))
