"""Build the bench data set in the bench databases (run by ``bench.tasks build``).

Everything personal is written through the product's own field code: model instances are
made in Python (each gets its ``uid``), and ``bulk_create`` runs every field's ``pre_save``,
so each value is encrypted under its customer's data key and bound to model, field and
row exactly as a service's ``save()`` would. History rows are written as production writes
them (one ``+`` record per created row, by simple-history's ``bulk_create_with_history``,
which encrypts the copied values again for the history row). Data keys are made in
batches (random key, wrapped under the current master key, as ``data_key_create``).
Search digests are computed by the product's digest kinds (``crm.search_index``) and
written with ``COPY``: the same rows ``object_digests_write`` would write (checked at the
end: re-writing a sample's digests must change nothing).

Not written, on purpose: one audit event per created card (the product's CSV import, the
path the issue's reference numbers were measured with, records one event per import job
too), grants (none), campaigns. Products, sales lines, stock, invoices and complaints are
loaded by each app's own ``bench/load_<app>.py``: see ``load_sales_lines`` below.
"""

from __future__ import annotations

import datetime
import io
import time
import uuid
from collections.abc import Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connections, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from bench import crm_dataset, mapping
from crm import encryption, search_index
from crm.blind_index import current_key
from crm.db_routers import KEYS_ALIAS
from crm.models import Counter, DataKey, SearchDigest, Team, User
from crm.services import team_create, user_create
from customers import search
from customers.models import (
    BusinessType,
    Consent,
    Contact,
    Customer,
    IdentityDocument,
    Interaction,
    ServiceStage,
    StageMove,
    Tier,
)
from customers.validators import (
    validate_mainland_mobile,
    validate_resident_id,
    validate_social_credit_code,
)

TEAMS = 8
REPS = 60
CHUNK = 2_000  # organisations per transaction (with their individuals)
BATCH = 1_000  # rows per INSERT

MARKER_TABLE = "bench_build"


def log(message: str) -> None:
    print(f"  [load {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- people ------------------------------------------------------------------------------


def users_create(password: str) -> dict:
    """The GM, 8 team managers and 60 reps (rep k in team k % 8); one known password."""
    from crm import roles

    gm = user_create(username="gm", role=roles.GENERAL_MANAGER, password=None, validate=False)
    managers, teams = [], []
    for t in range(TEAMS):
        manager = user_create(
            username=f"manager{t + 1}", role=roles.SALES_MANAGER, password=None, validate=False
        )
        teams.append(team_create(name=f"Team {t + 1}", manager=manager))
        managers.append(manager)
    reps = [
        user_create(
            username=f"rep{k + 1:02d}",
            role=roles.SALES_REP,
            password=None,
            team=teams[k % TEAMS],
            validate=False,
        )
        for k in range(REPS)
    ]
    # One hash for every bench user (Argon2 is slow by design; the loader needs one).
    User.objects.filter(pk__in=[gm.pk, *[u.pk for u in managers + reps]]).update(
        password=make_password(password)
    )
    return {"gm": gm, "managers": managers, "reps": reps, "teams": teams}


def owner_of(position: int, reps: list) -> User:
    return reps[position % len(reps)]


# --- data keys and digests ----------------------------------------------------------------


def data_keys_create(count: int) -> list[uuid.UUID]:
    """``count`` new data keys, as ``encryption.data_key_create`` makes one, in one INSERT
    per batch; their material goes into the process's key cache for the encryption."""
    cache = encryption._key_cache()
    rows, ids = [], []
    for _ in range(count):
        key_id = uuid.uuid4()
        material = AESGCM.generate_key(bit_length=256)
        master_id, wrapped = encryption._wrap(key_id, material)
        rows.append(DataKey(id=key_id, wrapped_key=wrapped, master_key_id=master_id))
        cache[str(key_id)] = material
        ids.append(key_id)
    DataKey.objects.using(KEYS_ALIAS).bulk_create(rows, batch_size=BATCH)
    return ids


class DigestWriter:
    """Search digest rows, computed by the product's digest kinds, written with COPY."""

    columns = (
        "data_key_id",
        "kind",
        "digest",
        "object_model",
        "object_id",
        "key_version",
        "is_unique",
        "created_at",
    )

    def __init__(self):
        self.key = current_key()
        self.buffer = io.StringIO()
        self.rows = 0
        self.now = timezone.now().isoformat()

    def add(self, obj, kind_name: str, value) -> None:
        kind = search_index._kinds[kind_name]
        label = obj._meta.concrete_model._meta.label_lower
        unique = "t" if kind.unique else "f"
        for digest in kind.digests(value, self.key):
            self.buffer.write(
                f"{obj.data_key_id}\t{kind_name}\t{digest}\t{label}\t{obj.pk}\t"
                f"{self.key.version}\t{unique}\t{self.now}\n"
            )
            self.rows += 1

    def flush(self) -> None:
        self.buffer.seek(0)
        table = SearchDigest._meta.db_table
        with connections[KEYS_ALIAS].cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {table} ({', '.join(self.columns)}) FROM STDIN", self.buffer
            )
        self.buffer = io.StringIO()


# --- cards --------------------------------------------------------------------------------


class Reference:
    def __init__(self):
        self.types = list(BusinessType.objects.exclude(code="other").order_by("pk"))
        self.other = BusinessType.objects.get(code="other")
        self.tiers = list(Tier.objects.order_by("rank"))
        self.first_stage = ServiceStage.objects.filter(is_active=True).order_by("order").first()
        self.today = timezone.localdate()
        self.policy = settings.CUSTOMERS["POLICY_VERSION"]


def _customer(ref: Reference, owner: User, position: int, key_id, **values) -> Customer:
    tier = values.pop("tier")
    customer = Customer(
        code=mapping.code(position),
        status=Customer.Status.ACTIVE if position % 4 else Customer.Status.PROSPECT,
        owner=owner,
        team_id=owner.team_id,
        tier=tier,
        stage=ref.first_stage,
        stage_owner=owner,
        reverification_due=ref.today + datetime.timedelta(days=tier.reverification_days),
        data_key_id=key_id,
        **values,
    )
    customer._history_user = owner
    return customer


def _child(model, customer: Customer, owner: User, **values):
    row = model(customer=customer, data_key_id=customer.data_key_id, **values)
    row._history_user = owner
    return row


def _chunk_cards(start: int, stop: int) -> Iterator[tuple[str, dict]]:
    """Organisations start..stop-1 and the individuals due among them, in card order."""
    for record in crm_dataset.generate(stop, start=start):
        i = record["company"]["index"]
        yield "organisation", mapping.organisation_card(record)
        if mapping.individuals_before(i + 1) > mapping.individuals_before(i):
            yield "individual", mapping.individual_card(mapping.individuals_before(i))


def load_chunk(ref: Reference, people: dict, start: int, stop: int) -> dict:
    reps = people["reps"]
    cards = list(_chunk_cards(start, stop))
    key_ids = data_keys_create(len(cards))
    customers, extras = [], []
    for (kind, card), key_id in zip(cards, key_ids, strict=True):
        owner = owner_of(card["position"], reps)
        if kind == "organisation":
            validate_mainland_mobile(card["phone"])
            validate_mainland_mobile(card["contact"]["phone"])
            validate_social_credit_code(card["document"])
            customer = _customer(
                ref,
                owner,
                card["position"],
                key_id,
                kind=Customer.Kind.ORGANISATION,
                business_type=ref.types[card["industry_index"] % len(ref.types)],
                tier=ref.tiers[card["lead_index"] % len(ref.tiers)],
                name=card["name"],
                organisation_name=card["name"].strip(),  # as search.organisation_name_set
                phone=card["phone"],
                email=card["email"],
                headquarters_address=card["headquarters_address"],
                managers=card["managers"],
                website=card["website"],
                founded_on=card["founded_on"],
                employees=card["employees"],
                registered_capital=card["registered_capital"],
            )
        else:
            validate_mainland_mobile(card["phone"])
            validate_resident_id(card["document"])
            customer = _customer(
                ref,
                owner,
                card["position"],
                key_id,
                kind=Customer.Kind.INDIVIDUAL,
                business_type=ref.other,
                tier=ref.tiers[-1],
                name=card["name"],
                phone=card["phone"],
                email=card["email"],
                address=card["address"],
                birth_date=card["birth_date"],
            )
        customers.append(customer)
        extras.append((kind, card, owner))

    digests = DigestWriter()
    kind_spec = search_index._kinds[search.CUSTOMER_NAME]
    surname_spec = search_index._kinds[search.CUSTOMER_SURNAME]
    with transaction.atomic(using=KEYS_ALIAS), transaction.atomic():
        bulk_create_with_history(customers, Customer, batch_size=BATCH)
        documents, contacts, consents, moves = [], [], [], []
        for customer, (kind, card, owner) in zip(customers, extras, strict=True):
            digests.add(customer, search.CUSTOMER_PHONE, customer.phone)
            digests.add(customer, search.CUSTOMER_EMAIL, customer.email)
            # Name bigrams for individuals only (organisations are searched in clear).
            digests.add(customer, search.CUSTOMER_NAME, kind_spec.value_of(customer))
            # The surname (individuals) and the phone's last four digits (everyone).
            digests.add(customer, search.CUSTOMER_SURNAME, surname_spec.value_of(customer))
            digests.add(customer, search.CUSTOMER_PHONE_TAIL, customer.phone)
            organisation = kind == "organisation"
            documents.append(
                _child(
                    IdentityDocument,
                    customer,
                    owner,
                    doc_type=(
                        IdentityDocument.Type.SOCIAL_CREDIT_CODE
                        if organisation
                        else IdentityDocument.Type.RESIDENT_ID
                    ),
                    number=card["document"],
                    verification_method=(
                        IdentityDocument.Method.REGISTRY
                        if organisation
                        else IdentityDocument.Method.IN_PERSON
                    ),
                    verified_by=owner,
                    verified_at=ref.today,
                )
            )
            if organisation:
                contacts.append(
                    _child(
                        Contact,
                        customer,
                        owner,
                        name=card["contact"]["name"],
                        phone=card["contact"]["phone"],
                        email=card["contact"]["email"],
                        role=card["contact"]["role"],
                        is_primary=True,
                    )
                )
            purposes = [(Consent.Purpose.SERVICE, Consent.Channel.PAPER)]
            if not organisation:
                purposes = [(Consent.Purpose.SERVICE, Consent.Channel.IN_PERSON)]
                if card["marketing"]:
                    purposes.append((Consent.Purpose.MARKETING, Consent.Channel.WEB))
                if card["third_party"]:
                    purposes.append((Consent.Purpose.THIRD_PARTY, Consent.Channel.PAPER))
            for purpose, channel in purposes:
                consents.append(
                    _child(
                        Consent,
                        customer,
                        owner,
                        purpose=purpose,
                        channel=channel,
                        policy_version=ref.policy,
                        recorded_by=owner,
                    )
                )
            if ref.first_stage:
                moves.append(
                    _child(
                        StageMove,
                        customer,
                        owner,
                        to_stage=ref.first_stage,
                        responsible=owner,
                        moved_by=owner,
                    )
                )
        bulk_create_with_history(documents, IdentityDocument, batch_size=BATCH)
        bulk_create_with_history(contacts, Contact, batch_size=BATCH)
        bulk_create_with_history(consents, Consent, batch_size=BATCH)
        bulk_create_with_history(moves, StageMove, batch_size=BATCH)
        for document in documents:
            digests.add(document, search.DOCUMENT_NUMBER, document.number)
        for contact in contacts:
            digests.add(contact, search.CONTACT_PHONE, contact.phone)
            digests.add(contact, search.CONTACT_EMAIL, contact.email)
        digests.flush()
    return {
        "customers": len(customers),
        "documents": len(documents),
        "contacts": len(contacts),
        "consents": len(consents),
        "stage_moves": len(moves),
        "digests": digests.rows,
    }


_CARDS_BY_CODE: dict = {}


def load_interactions(start: int, stop: int, customers_total: int) -> int:
    """Interactions start..stop-1, spread over the cards, each under its card's key."""
    if not _CARDS_BY_CODE:
        _CARDS_BY_CODE.update(
            (code, (pk, key_id, owner_id))
            for code, pk, key_id, owner_id in Customer.objects.values_list(
                "code", "pk", "data_key_id", "owner_id"
            )
        )
    users = {u.pk: u for u in User.objects.filter(username__startswith="rep")}
    now, today = timezone.now(), timezone.localdate()
    rows = []
    for k in range(start, stop):
        spec = mapping.interaction(k, customers_total)
        pk, key_id, owner_id = _CARDS_BY_CODE[mapping.code(spec["position"])]
        follow_up = spec["follow_up_in"]
        row = Interaction(
            customer_id=pk,
            data_key_id=key_id,
            kind=spec["kind"],
            occurred_at=now - datetime.timedelta(days=spec["days_ago"]),
            summary=spec["summary"],
            outcome=spec["outcome"],
            next_follow_up=(
                today + datetime.timedelta(days=follow_up) if follow_up is not None else None
            ),
            user_id=owner_id,
        )
        row._history_user = users[owner_id]
        rows.append(row)
    # Each card's key unwrapped once for the batch (one query), as a list page does.
    encryption.data_keys_preload({row.data_key_id for row in rows})
    with transaction.atomic():
        bulk_create_with_history(rows, Interaction, batch_size=BATCH)
    encryption.clear_key_cache()
    return len(rows)


def load_sales_lines(n: int, password: str) -> dict:
    """The data of the apps built on customers, scaled with N (issue 8, item 1): at
    N = 100,000, 300 products, 2,000,000 sales lines over three years and monthly stock
    snapshots of 20,000 customers (analytics), 100,000 invoices (credit) and 30,000
    complaints (complaints). Each app keeps its loader in ``bench/load_<app>.py``."""
    totals: dict = {}
    from bench.load_analytics import load_analytics

    result = load_analytics(lines=20 * n, stock_customers=max(1, n // 5))
    log(f"analytics: {result}")
    totals["analytics"] = result

    from bench.load_credit import load_credit

    result = load_credit(count=n, customers=max(100, n // 50))
    log(f"credit: {result}")
    totals["credit"] = result

    from bench.load_complaints import load_complaints

    result = load_complaints(count=3 * n // 10, password=password)
    log(f"complaints: {result}")
    totals["complaints"] = result
    return totals


# --- self-check ---------------------------------------------------------------------------


def self_check(n: int) -> None:
    """The values open as written, and the digests are the ones the services would write."""
    encryption.clear_key_cache()
    for i in sorted({0, n // 2, n - 1}):
        record = next(crm_dataset.generate(i + 1, start=i))
        card = mapping.organisation_card(record)
        customer = Customer.objects.get(code=mapping.code(card["position"]))
        assert customer.name == card["name"], "a name does not read back"
        assert customer.phone == card["phone"], "a phone does not read back"
        history = customer.history.get()
        assert history.managers == card["managers"], "a history row does not read back"
        # object_digests_write returns whether it changed anything: nothing must change.
        for obj in (customer, customer.contacts.get(), customer.identity_documents.get()):
            with transaction.atomic(using=KEYS_ALIAS), transaction.atomic():
                changed = search_index.object_digests_write(obj)
                transaction.set_rollback(True, using=KEYS_ALIAS)
                transaction.set_rollback(True)
            assert not changed, f"digests of {obj._meta.label} differ from the services'"
    log("self-check: values open, history opens, digests identical to the services'")


# --- entry point --------------------------------------------------------------------------


def _session_settings() -> None:
    # A bulk load need not wait for each commit to reach the disk (bench databases only).
    for alias in ("default", KEYS_ALIAS):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")


def _worker_init() -> None:
    connections.close_all()  # never share the parent's connections after fork
    _session_settings()


def _worker_chunk(bounds: tuple[int, int]) -> dict:
    ref = Reference()
    people = {"reps": list(User.objects.filter(username__startswith="rep").order_by("username"))}
    counts = load_chunk(ref, people, *bounds)
    encryption.clear_key_cache()
    return counts


def _worker_interactions(task: tuple[int, int, int]) -> int:
    return load_interactions(*task)


def build(*, n: int, interactions: int, password: str, workers: int = 2) -> dict:
    """Users and teams, then the cards in chunks and the interactions, spread over
    ``workers`` processes (each chunk its own transaction on both databases)."""
    import multiprocessing

    started = time.monotonic()
    _session_settings()
    users_create(password)
    connections.close_all()
    totals: dict[str, int] = {}
    chunks = [(start, min(n, start + CHUNK)) for start in range(0, n, CHUNK)]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_worker_init) as pool:
        for done, counts in enumerate(pool.imap_unordered(_worker_chunk, chunks), start=1):
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
            if done % 5 == 0 or done == len(chunks):
                log(f"chunks {done}/{len(chunks)} ({totals['customers']} cards)")
        customers_total = totals["customers"]
        step = CHUNK * 5
        tasks = [
            (s, min(interactions, s + step), customers_total) for s in range(0, interactions, step)
        ]
        totals["interactions"] = 0
        for written in pool.imap_unordered(_worker_interactions, tasks):
            totals["interactions"] += written
        log(f"interactions {totals['interactions']}")
    Counter.objects.update_or_create(name="customer", defaults={"value": customers_total})
    totals["apps"] = load_sales_lines(n, password)
    for alias in ("default", KEYS_ALIAS):
        with connections[alias].cursor() as cursor:
            cursor.execute("ANALYZE")
    self_check(n)
    totals["teams"] = Team.objects.count()
    totals["users"] = User.objects.count()
    totals["load_workers"] = workers
    totals["seconds"] = round(time.monotonic() - started, 1)
    return totals
