"""Search digests in the keys database: written with the row, deleted with the data key.

Blind indexes and name bigram tokens (``crm.blind_index``) are derived from personal data,
so they are kept where a purge reaches them even in an old backup of the business
database (DESIGN §3): in ``crm.SearchDigest`` rows in the ``keys`` database, each naming
the data key of its subject, the row it was computed from (model label and id) and the
version of the blind-index key. A search asks this table first and then fetches the
business rows by id (``pk__in``); destroying a data key deletes its digests.

Apps declare what they index with ``register(DigestKind(...))`` and
``register_model(label, live=...)``; the services write a row's digests in the same
transaction as the row, opened with ``atomic()`` (keys outside, business inside, so the
keys commit comes after the business commit and a failed business write rolls the digests
back). ``reindex`` recomputes every digest under the current key (``manage.py reindex``).

Digests are written under the current key only. Look-ups use every configured key
(``BLIND_INDEX_KEYS``): during a rotation, rows not yet re-indexed are still found, and a
duplicate is still refused. After ``reindex`` no row of an older version is left, and the
old key can be removed from the settings.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.db.models.functions import Cast
from django.utils import timezone

from crm import encryption
from crm.blind_index import (
    BlindIndexKey,
    bigram_tokens,
    blind_index,
    current_key,
    index_keys,
)
from crm.db_routers import KEYS_ALIAS

logger = logging.getLogger(__name__)

# A digest whose row is not visible in the business database is a write still in flight
# (its transaction has not committed yet) for this long; after that it is stale (the
# business commit failed, or the row was removed without its digests) and is deleted when
# a look-up meets it, so it never blocks a later create for good.
STALE_AFTER = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class DigestKind:
    """What one kind of digest is computed from.

    ``normaliser`` is a ``crm.blind_index.NORMALISERS`` key; with ``bigrams`` the value
    gives one token per character bigram (name search) instead of one blind index.
    ``unique``: one live holder per digest, enforced by the keys database.
    ``only``: (field, value) pairs of plain fields; a row that does not match them all
    holds none of this kind (e.g. name bigrams for individuals only: an organisation's
    name is searched in clear). Its value is then not even opened.
    ``part``: the part of the value that is indexed (e.g. a name's first character, a
    phone's last four digits), applied to the value and to a looked-up term alike.
    """

    name: str
    model: str
    field: str
    normaliser: str
    unique: bool = False
    bigrams: bool = False
    only: tuple[tuple[str, object], ...] = ()
    part: Callable[[str], str] | None = None

    def applies_to(self, obj) -> bool:
        return all(getattr(obj, name) == value for name, value in self.only)

    def value_of(self, obj):
        """The indexed value of ``obj``; "" (no digests) when the kind does not apply."""
        return getattr(obj, self.field) if self.applies_to(obj) else ""

    def digests(self, value, key: BlindIndexKey | None = None) -> list[str]:
        text = value if isinstance(value, str) else ""
        if self.part is not None:
            text = self.part(text)
        if self.bigrams:
            return sorted(set(bigram_tokens(text, key)))
        digest = blind_index(self.normaliser, text, key)
        return [digest] if digest else []


@dataclass
class IndexedModel:
    label: str
    live: Callable[[], models.QuerySet]
    kinds: list[DigestKind] = field(default_factory=list)


_kinds: dict[str, DigestKind] = {}
_models: dict[str, IndexedModel] = {}


def register_model(label: str, *, live: Callable[[], models.QuerySet]) -> None:
    """Declare an indexed model; ``live()`` gives the rows that should have digests."""
    existing = _models.get(label)
    _models[label] = IndexedModel(label, live, existing.kinds if existing else [])


def register(kind: DigestKind) -> DigestKind:
    _kinds[kind.name] = kind
    indexed = _models.setdefault(kind.model, IndexedModel(kind.model, lambda: None))
    indexed.kinds = [k for k in indexed.kinds if k.name != kind.name] + [kind]
    return kind


def _digest_model():
    return apps.get_model("crm", "SearchDigest")


def _label(obj) -> str:
    return obj._meta.concrete_model._meta.label_lower


def _data_key_of(obj, data_key_id) -> str:
    key_id = data_key_id or getattr(obj, "data_key_id", None)
    if not key_id:
        raise ValueError(f"{_label(obj)} {obj.pk}: no data key for its search digests.")
    return str(key_id)


@contextlib.contextmanager
def atomic(using: str = "default"):
    """A business transaction whose digest writes commit or roll back with it.

    The keys transaction is opened first and commits last: a failed business write (or
    a failed business commit) rolls the digests back; a concurrent writer of the same
    unique digest waits until the business row is committed and visible. Also a
    decorator (``@search_index.atomic()``).
    """
    with transaction.atomic(using=KEYS_ALIAS), transaction.atomic(using=using):
        yield


# --- writes -------------------------------------------------------------------------------


def digests_replace(obj, kind: str, value, data_key_id=None, *, unique: bool | None = None) -> bool:
    """Make ``obj``'s digests of ``kind`` those of ``value`` under the current key.

    A no-op when they already are. Returns whether anything was written. A second live
    holder of a unique digest raises ``IntegrityError`` (callers turn it into the
    friendly duplicate message).
    """
    spec = _kinds[kind]
    key = current_key()
    key_id = _data_key_of(obj, data_key_id)
    is_unique = spec.unique if unique is None else unique
    wanted = {(digest, key.version, key_id, is_unique) for digest in spec.digests(value, key)}
    digests = _digest_model().objects.using(KEYS_ALIAS)
    rows = digests.filter(object_model=_label(obj), object_id=obj.pk, kind=kind)
    with transaction.atomic(using=KEYS_ALIAS):
        current = {
            (d, v, str(k), u)
            for d, v, k, u in rows.values_list("digest", "key_version", "data_key_id", "is_unique")
        }
        if current == wanted:
            return False
        rows.delete()
        digests.bulk_create(
            [
                _digest_model()(
                    data_key_id=key_id,
                    kind=kind,
                    digest=digest,
                    object_model=_label(obj),
                    object_id=obj.pk,
                    key_version=key.version,
                    is_unique=is_unique,
                )
                for digest, *_rest in sorted(wanted)
            ]
        )
    return True


def object_digests_write(obj, data_key_id=None) -> bool:
    """Write every registered digest of ``obj`` from its current values."""
    changed = False
    for spec in _models[_label(obj)].kinds:
        changed |= digests_replace(obj, spec.name, spec.value_of(obj), data_key_id)
    return changed


def objects_digests_create(objs: Iterable, *, batch_size: int = 2000) -> int:
    """Write every registered digest of rows just created (a bulk import), all at once.

    The same rows ``object_digests_write`` writes for each object (current key, the
    object's data key, its kinds' ``only`` rules), for objects that hold none yet, in one
    INSERT per ``batch_size`` digests on the keys database. A second live holder of a
    unique digest raises ``IntegrityError``, as there. Returns how many were written.
    """
    key = current_key()
    model = _digest_model()
    rows = []
    for obj in objs:
        indexed = _models.get(_label(obj))
        if indexed is None or not indexed.kinds:
            continue
        key_id = _data_key_of(obj, None)
        label = _label(obj)
        for spec in indexed.kinds:
            for digest in spec.digests(spec.value_of(obj), key):
                rows.append(
                    model(
                        data_key_id=key_id,
                        kind=spec.name,
                        digest=digest,
                        object_model=label,
                        object_id=obj.pk,
                        key_version=key.version,
                        is_unique=spec.unique,
                    )
                )
    if rows:
        model.objects.using(KEYS_ALIAS).bulk_create(rows, batch_size=batch_size)
    return len(rows)


def digests_delete_for_objects(label: str, ids: Iterable[int], kinds: Iterable[str] = ()) -> int:
    """Delete the digests of these rows (of the given kinds, or all)."""
    rows = _digest_model().objects.using(KEYS_ALIAS).filter(object_model=label, object_id__in=ids)
    kinds = list(kinds)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    return rows.delete()[0]


def object_digests_delete(obj, kinds: Iterable[str] = ()) -> int:
    return digests_delete_for_objects(_label(obj), [obj.pk], kinds)


def digests_delete_for_key(data_key_id) -> int:
    """Delete every digest of a subject (with its data key: crypto-shredding)."""
    deleted, _ = _digest_model().objects.using(KEYS_ALIAS).filter(data_key_id=data_key_id).delete()
    return deleted


def digests_rekey(from_key_id, to_key_id) -> int:
    """Move a subject's digests under another data key (rows merged into another card)."""
    rows = _digest_model().objects.using(KEYS_ALIAS).filter(data_key_id=from_key_id)
    return rows.update(data_key_id=to_key_id)


def _on_data_key_destroyed(key_id) -> None:
    deleted = digests_delete_for_key(key_id)
    logger.info("data key destroyed: %s search digests deleted", deleted)


# --- look-ups -----------------------------------------------------------------------------


def _version_filters(spec: DigestKind, value) -> list[tuple[str, list[str]]]:
    """(key version, digests of ``value``) for every configured key, current first."""
    found = []
    for key in index_keys():
        digests = spec.digests(value, key)
        if digests:
            found.append((key.version, digests))
    return found


def ids_matching(kind: str, value) -> list[int]:
    """Ids of the rows whose ``kind`` digest matches ``value`` (every configured key).

    For a bigram kind, the rows holding *all* the value's tokens. The ids come from the
    keys database only: fetch the rows with ``pk__in`` and the caller's own scoping.
    """
    spec = _kinds[kind]
    digests = _digest_model().objects.using(KEYS_ALIAS).filter(kind=kind)
    found: set[int] = set()
    for version, wanted in _version_filters(spec, value):
        rows = digests.filter(key_version=version, digest__in=wanted)
        if spec.bigrams:
            rows = (
                rows.values("object_id")
                .annotate(hits=Count("digest", distinct=True))
                .filter(hits=len(wanted))
            )
        found.update(rows.values_list("object_id", flat=True))
    return sorted(found)


def ids_by_digest(kind: str, digests: Iterable[str]) -> list[tuple[int, str]]:
    """(row id, digest) of the rows holding any of these digests (current key; for bulk
    checks such as an import's, which computed the digests itself)."""
    digests = list(digests)
    if not digests:
        return []
    rows = (
        _digest_model()
        .objects.using(KEYS_ALIAS)
        .filter(kind=kind, key_version=current_key().version, digest__in=digests)
    )
    return list(rows.values_list("object_id", "digest"))


def ids_by_digests(wanted: dict[str, Iterable[str]]) -> list[tuple[str, int, str]]:
    """(kind, row id, digest) of the rows holding any of the digests, for several kinds
    at once: ``{kind: digests}``, current key, one query (an import's duplicate check of
    a batch of rows, which computed the digests itself)."""
    lists = {kind: sorted(set(digests)) for kind, digests in wanted.items()}
    lists = {kind: digests for kind, digests in lists.items() if digests}
    if not lists:
        return []
    query = Q()
    for kind, digests in lists.items():
        query |= Q(kind=kind, digest__in=digests)
    rows = (
        _digest_model()
        .objects.using(KEYS_ALIAS)
        .filter(query, key_version=current_key().version)
        .values_list("kind", "object_id", "digest")
    )
    return list(rows)


@dataclass
class Holders:
    """The rows holding a digest, verified in the business database."""

    ids: list[int]
    in_flight: bool = False  # a digest whose row is not committed yet (a concurrent write)


def holders(kind: str, value, *, exclude_ids: Iterable[int] = ()) -> Holders:
    """Rows that hold ``value`` as ``kind``, each checked to exist in the business database.

    A digest whose row does not exist is deleted when older than ``STALE_AFTER`` (its
    business commit failed, or the row went without its digests); a younger one is
    reported as ``in_flight``: a concurrent transaction has not committed its row yet.
    """
    spec = _kinds[kind]
    model = apps.get_model(spec.model)
    digests = _digest_model().objects.using(KEYS_ALIAS).filter(kind=kind)
    query = Q(pk__in=[])
    for version, wanted in _version_filters(spec, value):
        query |= Q(key_version=version, digest__in=wanted)
    rows = list(
        digests.filter(query)
        .exclude(object_id__in=list(exclude_ids))
        .values_list("pk", "object_id", "created_at")
    )
    if not rows:
        return Holders([])
    existing = set(
        model._default_manager.filter(pk__in={r[1] for r in rows}).values_list("pk", flat=True)
    )
    stale_before = timezone.now() - STALE_AFTER
    stale = [
        pk
        for pk, object_id, created in rows
        if object_id not in existing and created < stale_before
    ]
    if stale:
        digests.filter(pk__in=stale).delete()
        logger.warning("%s stale %s digests deleted (their rows do not exist)", len(stale), kind)
    in_flight = any(
        object_id not in existing and created >= stale_before for _pk, object_id, created in rows
    )
    return Holders(sorted(existing), in_flight)


# --- re-indexing --------------------------------------------------------------------------


@dataclass
class ReindexReport:
    examined: int = 0
    written: int = 0
    conflicts: int = 0
    old_versions_deleted: int = 0
    orphans_deleted: int = 0


def _existing_data_keys(key_ids: set) -> list:
    """Which of these data keys still exist (one query on the keys database)."""
    from crm.models import DataKey

    return list(DataKey.objects.filter(id__in=key_ids).values_list("id", flat=True))


def _raw(field_name: str) -> Cast:
    # The stored text, not opened: empty means no value, without decrypting anything.
    return Cast(field_name, models.TextField())


def _write_for_reindex(obj, report: ReindexReport, progress) -> None:
    for spec in _models[_label(obj)].kinds:
        value = spec.value_of(obj)
        try:
            with transaction.atomic(using=KEYS_ALIAS):
                digests_replace(obj, spec.name, value)
        except IntegrityError:
            # Two live rows already share a unique value (written before the guard
            # existed): keep both findable, and say which rows to merge.
            digests_replace(obj, spec.name, value, unique=False)
            report.conflicts += 1
            progress(f"{_label(obj)} {obj.pk}: {spec.name} is shared with another row")


def reindex(
    *, batch_size: int = 500, everything: bool = False, progress: Callable[[str], None] = print
) -> ReindexReport:
    """Recompute the search digests under the current blind-index key.

    Resumable: a row whose digests are all of the current version is skipped (without
    decrypting it) unless ``everything``; an interrupted run continues where it stopped.
    Rows of older versions, and digests of rows that no longer exist or are no longer
    live, are deleted at the end.
    """
    report = ReindexReport()
    version = current_key().version
    digests = _digest_model().objects.using(KEYS_ALIAS)
    for indexed in _models.values():
        live = indexed.live()
        if live is None or not indexed.kinds:
            continue
        total, seen, last_pk = live.count(), 0, None
        fields = sorted({spec.field for spec in indexed.kinds})
        raw = {f"raw_{name}": _raw(name) for name in fields}
        conditions = sorted({name for spec in indexed.kinds for name, _value in spec.only})
        while True:
            page = live.order_by("pk")
            if last_pk is not None:
                page = page.filter(pk__gt=last_pk)
            batch = list(
                page.annotate(**raw).values_list("pk", "data_key_id", *raw, *conditions)[
                    :batch_size
                ]
            )
            if not batch:
                break
            last_pk = batch[-1][0]
            seen += len(batch)
            held: dict[int, set[tuple[str, str]]] = {}
            for object_id, kind, held_version in (
                digests.filter(object_model=indexed.label, object_id__in=[r[0] for r in batch])
                .values_list("object_id", "kind", "key_version")
                .distinct()
            ):
                held.setdefault(object_id, set()).add((kind, held_version))
            # A shredded subject has no values to index (and its digests went with its key).
            keys_alive = {
                str(key_id)
                for key_id in _existing_data_keys(
                    {key_id for _pk, key_id, *_values in batch if key_id}
                )
            }
            needed = []
            for pk, key_id, *values in batch:
                if str(key_id) not in keys_alive:
                    continue
                stored = dict(zip([*fields, *conditions], values, strict=True))
                for spec in indexed.kinds:
                    versions = {v for kind, v in held.get(pk, ()) if kind == spec.name}
                    if not all(stored[name] == value for name, value in spec.only):
                        if versions:  # held where it no longer applies: delete them
                            needed.append(pk)
                            break
                        continue
                    if everything or versions - {version} or (stored[spec.field] and not versions):
                        needed.append(pk)
                        break
            for obj in live.filter(pk__in=needed).order_by("pk"):
                _write_for_reindex(obj, report, progress)
            report.examined += len(batch)
            report.written += len(needed)
            encryption.clear_key_cache()  # a long run must not keep every subject's key
            progress(f"{indexed.label}: {seen}/{total} examined, {len(needed)} re-indexed")
    report.old_versions_deleted = digests.exclude(key_version=version).delete()[0]
    report.orphans_deleted = _orphans_delete(batch_size)
    progress(
        f"done: {report.written} rows re-indexed, {report.old_versions_deleted} old-version "
        f"and {report.orphans_deleted} orphaned digests deleted, {report.conflicts} conflicts"
    )
    return report


def _orphans_delete(batch_size: int) -> int:
    """Delete digests of rows that no longer exist or are no longer live (merged cards)."""
    digests = _digest_model().objects.using(KEYS_ALIAS)
    deleted = 0
    for label, indexed in _models.items():
        live = indexed.live()
        if live is None:
            continue
        last = None
        while True:
            ids = digests.filter(object_model=label).order_by("object_id")
            if last is not None:
                ids = ids.filter(object_id__gt=last)
            page = list(ids.values_list("object_id", flat=True).distinct()[:batch_size])
            if not page:
                break
            last = page[-1]
            alive = set(live.filter(pk__in=page).values_list("pk", flat=True))
            gone = [pk for pk in page if pk not in alive]
            if gone:
                deleted += digests_delete_for_objects(label, gone)
    return deleted


encryption.on_data_key_destroyed(_on_data_key_destroyed)
