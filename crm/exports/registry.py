"""The export targets apps register (``AppConfig.ready()``): what the background export
job calls to build a large export again in a worker, for the user who asked for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ExportTarget:
    key: str
    label: str
    # build(actor=..., **params) → ExportResult: checks the permission, validates, records
    # the audit event and returns the rows; ``params`` are those the job was created with.
    build: Callable


_targets: dict[str, ExportTarget] = {}


def register(target: ExportTarget) -> ExportTarget:
    existing = _targets.get(target.key)
    if existing is not None and existing != target:
        raise ValueError(f"The export target {target.key!r} is already registered.")
    _targets[target.key] = target
    return target


def get_target(key: str) -> ExportTarget | None:
    return _targets.get(key)
