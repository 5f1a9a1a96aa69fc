"""The customers' search digests: what is indexed, and the look-ups built on it (DESIGN §3).

The digests live in the keys database (``crm.search_index``), never on the business rows
or in their history. The services write a row's digests right after saving it, inside
``crm.search_index.atomic()``; a merged card keeps none (its phone must not block a new
card), and destroying the customer's data key deletes them all.
"""

from __future__ import annotations

from crm import search_index
from crm.search_index import DigestKind, register, register_model
from customers.models import Contact, Customer, IdentityDocument

CUSTOMER_PHONE = "customer.phone"
CUSTOMER_EMAIL = "customer.email"
CUSTOMER_NAME = "customer.name_bigram"
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
register(DigestKind(CUSTOMER_NAME, "customers.customer", "name", "name", bigrams=True))
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
