"""The customers' search digests: what is indexed, and the look-ups built on it (DESIGN §3).

The digests live in the keys database (``crm.search_index``), never on the business rows
or in their history. The services write a row's digests right after saving it, inside
``crm.search_index.atomic()``; a merged card keeps none (its phone must not block a new
card), and destroying the customer's data key deletes them all.

Name search is exact (DESIGN §3, issue 8 item 5). An organisation's name is business data:
the services keep it in clear in ``Customer.organisation_name`` (``organisation_name_set``)
and it is searched there with ``icontains`` (a ``pg_trgm`` index on PostgreSQL); an
organisation has no name bigram digests. An individual's name (a sole trader's too) stays
encrypted: the bigram digests give candidates, which can over-match (the bigrams of the
term may all occur apart), so each candidate's name is opened and confirmed before it is
counted or shown (``individual_ids_matching_name``).

One character finds an individual by the first character of the name, his surname (issue
13 item 2): a unigram digest of that character (``customer.surname``), its candidates
confirmed on the opened name as the bigram path does. Four digits find the customers
whose phone ends with them (尾号): a digest of the phone's last four digits of its own
(``customer.phone_tail``), exact by construction. Rows written before these kinds existed
get them from ``manage.py reindex`` (it fills the kinds a row lacks; docs/workspace.md).
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import GreaterThan

from crm import encryption, search_index
from crm.blind_index import normalise_name, normalise_phone
from crm.search_index import DigestKind, register, register_model
from customers.models import Contact, Customer, IdentityDocument

CUSTOMER_PHONE = "customer.phone"
CUSTOMER_EMAIL = "customer.email"
CUSTOMER_NAME = "customer.name_bigram"
CUSTOMER_SURNAME = "customer.surname"
CUSTOMER_PHONE_TAIL = "customer.phone_tail"
PHONE_TAIL_DIGITS = 4
CONTACT_PHONE = "contact.phone"
CONTACT_EMAIL = "contact.email"
DOCUMENT_NUMBER = "document.number"

register_model(
    "customers.customer", live=lambda: Customer.objects.exclude(status=Customer.Status.MERGED)
)
register_model("customers.contact", live=lambda: Contact.objects.all())
register_model("customers.identitydocument", live=lambda: IdentityDocument.objects.all())
# One live card per phone and one card per ID number (the database refuses a second).
register(DigestKind(CUSTOMER_PHONE, "customers.customer", "phone", "phone", unique=True))
register(DigestKind(CUSTOMER_EMAIL, "customers.customer", "email", "email"))
register(
    DigestKind(
        CUSTOMER_NAME,
        "customers.customer",
        "name",
        "name",
        bigrams=True,
        only=(("kind", Customer.Kind.INDIVIDUAL),),
    )
)


def surname_part(name: str) -> str:
    """The first character of a name, normalised as the name digests are."""
    return normalise_name(name)[:1]


def phone_tail_part(phone: str) -> str:
    """The last four digits of a phone (none for a shorter value)."""
    digits = normalise_phone(phone)
    return digits[-PHONE_TAIL_DIGITS:] if len(digits) >= PHONE_TAIL_DIGITS else ""


register(
    DigestKind(
        CUSTOMER_SURNAME,
        "customers.customer",
        "name",
        "name",
        only=(("kind", Customer.Kind.INDIVIDUAL),),
        part=surname_part,
    )
)
register(
    DigestKind(CUSTOMER_PHONE_TAIL, "customers.customer", "phone", "phone", part=phone_tail_part)
)
register(DigestKind(CONTACT_PHONE, "customers.contact", "phone", "phone"))
register(DigestKind(CONTACT_EMAIL, "customers.contact", "email", "email"))
register(
    DigestKind(DOCUMENT_NUMBER, "customers.identitydocument", "number", "id_number", unique=True)
)


def customer_digests_write(customer: Customer) -> None:
    """The card's digests from its current values; none for a merged card."""
    if customer.status == Customer.Status.MERGED:
        search_index.object_digests_delete(customer)
    else:
        search_index.object_digests_write(customer)


def record_digests_write(record: Contact | IdentityDocument) -> None:
    """A contact's or identity document's digests, under its (customer's) data key."""
    search_index.object_digests_write(record)


def customer_ids_matching(text: str, *kinds: str) -> list[int]:
    """Ids of the customers whose ``kinds`` digests match ``text`` (no scoping)."""
    ids: set[int] = set()
    for kind in kinds:
        found = search_index.ids_matching(kind, text)
        if not found:
            continue
        if kind.startswith("customer."):
            ids.update(found)
        else:
            model = Contact if kind.startswith("contact.") else IdentityDocument
            ids.update(model.objects.filter(pk__in=found).values_list("customer_id", flat=True))
    return sorted(ids)


def customer_ids_with_phone_tail(text: str) -> list[int]:
    """Ids of the customers whose own phone ends with these four digits (no scoping)."""
    digits = normalise_phone(text)
    if len(digits) != PHONE_TAIL_DIGITS:
        return []
    return search_index.ids_matching(CUSTOMER_PHONE_TAIL, digits)


# --- names --------------------------------------------------------------------------------

# An individual is found by at least this many characters of the name (normalised: case,
# spaces and punctuation aside), or by its first character alone (the surname digest).
# Organisations are found by any fragment of their name.
MIN_INDIVIDUAL_TERM = 2
# Candidates opened per round: one query for the rows, one for their data keys.
CONFIRM_BATCH = 2000
# An organisation name fragment of one or two characters is looked up first when it is
# held by at most this many names (``organisation_name_contains``).
SHORT_TERM_IDS = 5000
TRIGRAM = re.compile(r"\w{3}")


def organisation_name_set(customer: Customer) -> None:
    """Copy an organisation's name into its clear column (blank for an individual).

    Called by the services before every save that may change the name or the kind.
    """
    name = customer.name if customer.kind == Customer.Kind.ORGANISATION else ""
    customer.organisation_name = (name or "").strip()[:200]


def individual_ids_matching_name(queryset: QuerySet, text: str) -> list[int]:
    """Ids of the individuals in ``queryset`` whose name contains ``text``: exactly.

    The bigram digests (keys database) give the candidates; the candidates within
    ``queryset`` (its scoping) are loaded in batches with their data keys (one keys query
    per batch) and kept only if their opened name, normalised as the digests are, holds
    the normalised term. Erased or unreadable names match nothing.

    One character is a surname: the individuals whose name begins with it, candidates
    from the surname digests, confirmed the same way.
    """
    term = normalise_name(text)
    if len(term) == 1:
        candidates = search_index.ids_matching(CUSTOMER_SURNAME, text)
        return _confirmed(queryset, candidates, lambda name: name.startswith(term))
    if len(term) < MIN_INDIVIDUAL_TERM:
        return []
    candidates = search_index.ids_matching(CUSTOMER_NAME, text)
    return _confirmed(queryset, candidates, lambda name: term in name)


def _confirmed(queryset: QuerySet, candidates: list[int], matches) -> list[int]:
    """The ``candidates`` within ``queryset`` whose opened, normalised name ``matches``."""
    if not candidates:
        return []
    scoped = queryset.filter(pk__in=candidates, kind=Customer.Kind.INDIVIDUAL).values("pk")
    rows = Customer.objects.filter(pk__in=scoped).only("pk", "uid", "data_key_id", "name")
    confirmed: list[int] = []
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").preload_keys()[:CONFIRM_BATCH])
        if not batch:
            break
        last = batch[-1].pk
        confirmed.extend(c.pk for c in batch if matches(normalise_name(c.name or "")))
        if len(batch) < CONFIRM_BATCH:
            break
        encryption.clear_key_cache()  # a long search does not keep every key
    return confirmed


def organisation_name_contains(text: str) -> Q:
    """Organisations whose clear name contains ``text``, in any case.

    A term with three word characters in a row: ``icontains``, served by the trigram
    index on PostgreSQL. Any other term ("钴", "ab", "a b") has no trigram: the index
    would be read whole and every row rechecked. Its ids are then found first with
    ``strpos`` on the narrow ``customer_org_name_idx`` (an index-only scan), and the list
    is used while it stays short (``SHORT_TERM_IDS``); a term held by more names is left
    in the query as it is.
    """
    if TRIGRAM.search(text):
        return Q(organisation_name__icontains=text)
    contains = GreaterThan(StrIndex(Upper("organisation_name"), Upper(Value(text))), 0)
    ids = list(
        Customer.objects.filter(contains)
        .order_by()
        .values_list("pk", flat=True)[: SHORT_TERM_IDS + 1]
    )
    if len(ids) <= SHORT_TERM_IDS:
        return Q(pk__in=ids)
    return Q(contains)


def customers_matching_name(queryset: QuerySet, text: str) -> QuerySet:
    """The customers of ``queryset`` whose name contains ``text`` (any case), or whose
    customer code it is: organisations by their clear name, individuals confirmed."""
    text = (text or "").strip()
    if not text:
        return queryset.none()
    organisations = (
        Q(kind=Customer.Kind.ORGANISATION)
        & organisation_name_contains(text)
        & ~Q(status=Customer.Status.MERGED)
    )
    # Codes are made upper case by the card service: an equality the code index serves.
    codes = Q(code__in=sorted({text, text.upper()}))
    individuals = individual_ids_matching_name(queryset, text)
    query = organisations | codes
    if individuals:
        query |= Q(pk__in=individuals)
    return queryset.filter(query)
