"""Exporting the customer list to CSV or XLSX (DESIGN §3 "Masking", "Consent"; §7).

The export is the list the user sees: the same filters (``CustomerFilter``) over the same
scoped selector (``customer_list``), so a customer the user may not see is never in it.

* Personal values are masked. An export in clear is asked for explicitly (``clear=True``)
  with a stated reason, by a user holding ``customers.export_clear_customer``; even then
  only the customers the user may reveal (the entitled: owner, the owner's team manager,
  general manager, DPO, never a grantee) are in clear, every other row stays masked.
  Sensitive values (ID numbers) are in clear only in an internal export.
* ``purpose="third_party"`` (the data leaves the company) keeps only customers with a live
  third-party-provision consent and reports how many were left out.
* One audit event records who exported how many customers, in which format, for what
  purpose, masked or not (and how many rows in clear, with the reason), and which filters
  were used (their names, never their values: a search term may be a phone number).
* The file is written by ``crm.exports`` (CSV with a BOM for Excel, or XLSX; formulas
  neutralised). Up to ``CRM_EXPORT_SYNC_MAX_ROWS`` customers (5,000) the file is the
  answer; above, ``customer_export`` queues a background job (``crm.exports.jobs``) and
  returns it: the worker builds the same export for the same user and stores it encrypted
  for its owner to download within 24 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_event
from crm import encryption, personal_data
from crm import exports as export_framework
from crm.exports.jobs import export_job_create, sync_max_rows
from crm.exports.writers import CONTENT_TYPES, FORMATS, ExportResult
from crm.models import ExportJob, User
from crm.permissions import require_perm
from customers import events
from customers import permissions as perms
from customers.models import BusinessType, Customer, IdentityDocument, ServiceStage, Tier
from customers.selectors import customer_export_list

EXPORT_TARGET = "customers"
INTERNAL = "internal"
THIRD_PARTY = "third_party"
PURPOSES = (INTERNAL, THIRD_PARTY)
CHUNK = 500  # customers per database round trip (rows and their documents)
# Query-string keys of the export request that are not customer filters.
NON_FILTER_KEYS = frozenset({"format", "purpose", "page", "page_size", "clear", "reason"})
__all__ = ["CONTENT_TYPES", "FORMATS", "ExportJob", "ExportResult", "customer_export"]


# Columns in file order: card fields (headed by their verbose names), then documents.
COLUMN_KEYS = (
    "code",
    "kind",
    "status",
    "name",
    "phone",
    "email",
    "address",
    "birth_date",
    "id_type",
    "id_number",
    "business_type",
    "tier",
    "owner",
    "team",
    "stage",
    "reverification_due",
    "created_at",
    "language",  # last: files read by position keep their columns
)


def headers() -> list[str]:
    """The header row, in the active language."""
    titles = {
        "id_type": IdentityDocument._meta.get_field("doc_type").verbose_name,
        "id_number": gettext_lazy("Document number"),
    }
    return [
        capfirst(str(titles.get(key) or Customer._meta.get_field(key).verbose_name))
        for key in COLUMN_KEYS
    ]


PERSONAL_COLUMNS = ("name", "phone", "email", "address", "birth_date")
# What a row of the export reads: only these columns are fetched, and only the personal
# ones among them are opened (values open lazily, on first access).
CUSTOMER_COLUMNS = (
    "id",
    "uid",
    "data_key_id",
    "code",
    "kind",
    "status",
    *PERSONAL_COLUMNS,
    "owner_id",
    "team_id",
    "business_type_id",
    "tier_id",
    "stage_id",
    "reverification_due",
    "created_at",
    "language",
)
DOCUMENT_COLUMNS = ("id", "uid", "data_key_id", "customer_id", "doc_type", "number")
# The related rows' labels, read in the same query as the card (no model per row).
RELATED_LABELS = {
    "owner_label": "owner__username",
    "team_label": "team__name",
    "business_type_label": "business_type__name",
    "business_type_label_zh": "business_type__name_zh",
    "tier_label": "tier__name",
    "tier_label_zh": "tier__name_zh",
    "stage_label": "stage__name",
    "stage_label_zh": "stage__name_zh",
}


def _personal(instance, field_name: str, clear: bool) -> str:
    """Clear or masked by the field's registered rule; a shredded value shows as erased."""
    if clear:
        return personal_data.shown_value(getattr(instance, field_name))
    return personal_data.masked_value(instance, field_name)


class _Labels:
    """What the export shows for choices and related rows, computed once per value.

    The same texts as ``get_<field>_display()`` and ``str()`` of the related row (a
    reference row's name in the active language), memoised for the export: a 100,000-row
    export has a handful of distinct kinds, statuses, teams and business types.
    """

    def __init__(self):
        self.choices = {
            name: {value: str(label) for value, label in field.flatchoices}
            for name, field in (
                ("kind", Customer._meta.get_field("kind")),
                ("status", Customer._meta.get_field("status")),
                ("language", Customer._meta.get_field("language")),
                ("doc_type", IdentityDocument._meta.get_field("doc_type")),
            )
        }
        self.references: dict[tuple, str] = {}

    def choice(self, name: str, value) -> str:
        found = self.choices[name].get(value)
        return found if found is not None else str(value)

    def reference(self, model, key, name, name_zh) -> str:
        """``str(model(name=name, name_zh=name_zh))``: the reference row's own rule."""
        if key is None:
            return ""
        memo = (model, key, name, name_zh)
        if memo not in self.references:
            self.references[memo] = str(model(name=name or "", name_zh=name_zh or ""))
        return self.references[memo]


def _row(
    customer: Customer, *, clear: bool, sensitive_clear: bool, labels=None, documents=None
) -> list[str]:
    labels = labels or _Labels()
    if documents is None:
        documents = list(customer.identity_documents.all())
    related = customer.__dict__
    row = {
        "code": customer.code,
        "kind": labels.choice("kind", customer.kind),
        "status": labels.choice("status", customer.status),
        "id_type": "; ".join(labels.choice("doc_type", d.doc_type) for d in documents),
        "id_number": "; ".join(_personal(d, "number", sensitive_clear) for d in documents),
        "business_type": labels.reference(
            BusinessType,
            customer.business_type_id,
            related["business_type_label"],
            related["business_type_label_zh"],
        ),
        "tier": labels.reference(
            Tier, customer.tier_id, related["tier_label"], related["tier_label_zh"]
        ),
        "owner": related["owner_label"],
        "team": (related["team_label"] or "") if customer.team_id else "",
        "stage": labels.reference(
            ServiceStage, customer.stage_id, related["stage_label"], related["stage_label_zh"]
        ),
        "reverification_due": (
            customer.reverification_due.isoformat() if customer.reverification_due else ""
        ),
        "created_at": timezone.localtime(customer.created_at).date().isoformat(),
        "language": labels.choice("language", customer.language) if customer.language else "",
    }
    for field_name in PERSONAL_COLUMNS:
        row[field_name] = _personal(customer, field_name, clear)
    return [row[key] for key in COLUMN_KEYS]


def _batched(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _rows(
    queryset: QuerySet, *, revealable: QuerySet | None, sensitive_clear: bool
) -> Iterator[list[str]]:
    """Rows in list order; those in ``revealable`` in clear (``None``: all masked).

    Streamed in chunks of ``CHUNK`` customers: the ids in list order come from one
    query over the user's scoped, filtered list; each chunk then costs a fixed number of
    queries whatever its size: its cards (only the exported columns, with the related
    rows' labels), their identity documents, the data keys of the chunk (one query on the
    keys database) and, for an export in clear, which of them the user may reveal.
    """
    documents = IdentityDocument.objects.order_by("doc_type", "id").only(*DOCUMENT_COLUMNS)
    # The chunk's ids come from the scoped list: fetching them by id needs no filter again.
    customers = (
        Customer.objects.only(*CUSTOMER_COLUMNS)
        .annotate(**{alias: F(path) for alias, path in RELATED_LABELS.items()})
        .order_by()
        .preload_keys()
    )
    labels = _Labels()
    for chunk in _batched(queryset.values_list("pk", flat=True).iterator(chunk_size=CHUNK), CHUNK):
        by_pk = {customer.pk: customer for customer in customers.filter(pk__in=chunk)}
        # The chunk's documents in one query, grouped here (under their cards' keys, which
        # the cards' query unwrapped).
        held: dict[int, list[IdentityDocument]] = {}
        for document in documents.filter(customer_id__in=chunk):
            held.setdefault(document.customer_id, []).append(document)
        in_clear = (
            set(revealable.filter(pk__in=chunk).values_list("pk", flat=True))
            if revealable is not None
            else set()
        )
        for pk in chunk:
            clear = pk in in_clear
            yield _row(
                by_pk[pk],
                clear=clear,
                sensitive_clear=clear and sensitive_clear,
                labels=labels,
                documents=held.get(pk, []),
            )
        # A long export keeps only the current chunk's keys.
        encryption.clear_key_cache()


def customer_export(
    *,
    actor: User,
    filter_params,
    fmt: str = "csv",
    purpose: str = INTERNAL,
    clear: bool = False,
    reason: str = "",
    background: bool = True,
) -> ExportResult | ExportJob:
    """Export the customers ``actor`` sees through ``filter_params`` (the list's filters).

    Masked unless ``clear`` is asked for with a ``reason`` by a user who may export in
    clear; then the customers he may reveal are in clear and the others masked.
    Returns the file as chunks of bytes; CSV chunks are produced lazily while the response
    is sent. Above ``CRM_EXPORT_SYNC_MAX_ROWS`` customers (and with ``background``) it
    returns a queued ``ExportJob`` instead; the worker calls this again without
    ``background``, which records the audit event then. Raises ``PermissionDenied``
    without the export permission (an audited one for a clear export without its
    permission) and ``ValidationError`` for an unknown format or purpose, invalid filters
    or a missing reason.
    """
    require_perm(actor, perms.EXPORT, _("You are not allowed to export customers."))
    if clear and not perms.can_export_clear(actor):
        raise perms.refuse_export_clear(actor)
    reason = (reason or "").strip()
    errors = {}
    if clear and len(reason) < 4:
        errors["reason"] = [_("Say why you need the export in clear.")]
    if fmt not in FORMATS:
        errors["format"] = [_("Choose csv or xlsx.")]
    if purpose not in PURPOSES:
        errors["purpose"] = [_("Choose internal or third_party.")]
    if errors:
        raise ValidationError(errors)
    params = {
        key: value
        for key, value in _items(filter_params)
        if key not in NON_FILTER_KEYS and value not in ("", None)
    }
    chosen, matched = customer_export_list(
        user=actor, filter_params=params, with_third_party_consent=purpose == THIRD_PARTY
    )
    count = chosen.count()
    if background and count > sync_max_rows():
        return export_job_create(
            actor=actor,
            target=EXPORT_TARGET,
            file_format=fmt,
            params={
                "filter_params": params,
                "fmt": fmt,
                "purpose": purpose,
                "clear": clear,
                "reason": reason,
            },
            rows_total=count,
        )
    left_out = matched.count() - count if purpose == THIRD_PARTY else 0
    revealable = perms.revealable_customers(actor, chosen) if clear else None
    clear_count = revealable.count() if clear else 0
    sensitive_clear = clear and purpose == INTERNAL
    record_event(
        action=events.CUSTOMERS_EXPORTED,
        actor=actor,
        reason=reason if clear else "",
        data={
            "count": count,
            "left_out_without_consent": left_out,
            "format": fmt,
            "purpose": purpose,
            "masked": not clear_count,
            "sensitive_masked": not (sensitive_clear and clear_count),
            "clear_requested": clear,
            "clear_count": clear_count,
            "filters": sorted(params),
        },
    )
    rows = _rows(chosen, revealable=revealable, sensitive_clear=sensitive_clear)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportResult(
        filename=f"customers-{stamp}.{fmt}",
        fmt=fmt,
        header=headers(),
        rows=rows,
        count=count,
        left_out=left_out,
        masked=not clear_count,
        clear_count=clear_count,
        sheet_title=_("Customers"),
    )


def _build_in_background(*, actor: User, **params) -> ExportResult:
    return customer_export(actor=actor, background=False, **params)


def register_export_targets() -> None:
    """The customer list as a background export (``CustomersConfig.ready``)."""
    export_framework.register(
        export_framework.ExportTarget(
            key=EXPORT_TARGET, label=gettext_lazy("Customers"), build=_build_in_background
        )
    )


def _items(params) -> Iterator[tuple[str, str]]:
    """Single values from a ``QueryDict`` (last value, as forms read it) or a plain dict."""
    if params is None:
        return iter(())
    if hasattr(params, "lists"):
        return ((key, values[-1] if values else "") for key, values in params.lists())
    return iter(params.items())
