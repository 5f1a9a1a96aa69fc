"""Search digests live in the keys database and die with the data key (issue 6, item 2).

A digest of a phone, e-mail, ID number or name bigram is never in a business table or a
history table; destroying a customer's data key deletes its digests; search and duplicate
detection work through them; the blind-index key can be rotated with ``reindex``.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm import encryption, search_index
from crm.blind_index import bigram_tokens, blind_index
from crm.models import SearchDigest
from crm.tests.factories import TeamFactory
from customers import search, services
from customers.models import Customer
from customers.services import cards
from customers.synthetic import resident_id
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

CANARY_NAME = "金丝雀测试"
CANARY_PHONE = "13912348765"
CANARY_EMAIL = "canary.bird@example.org"
CONTACT_PHONE = "13700001234"
CONTACT_EMAIL = "parent.canary@example.org"


def _dump(alias: str) -> str:
    connection = connections[alias]
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the db)
            chunks.append(f"{table}: {cursor.fetchall()!r}")
    return "\n".join(chunks)


def _digests(number: str) -> dict[str, str]:
    found = {
        "phone": blind_index("phone", CANARY_PHONE),
        "email": blind_index("email", CANARY_EMAIL),
        "id_number": blind_index("id_number", number),
        "contact phone": blind_index("phone", CONTACT_PHONE),
        "contact email": blind_index("email", CONTACT_EMAIL),
    }
    found["phone tail"] = blind_index("phone", CANARY_PHONE[-4:])
    found["surname"] = blind_index("name", CANARY_NAME[:1])
    for i, token in enumerate(bigram_tokens(CANARY_NAME + "二")):
        found[f"name bigram {i}"] = token
    return found


def test_no_business_or_history_table_holds_a_digest_of_the_canary():
    team = TeamFactory(name="North")
    owner = rep(team=team)
    number = resident_id()
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(
        "/api/v1/customers/",
        {
            "kind": "individual",
            "name": CANARY_NAME,
            "business_type": "other",
            "phone": CANARY_PHONE,
            "email": CANARY_EMAIL,
            "documents": [{"doc_type": "resident_id", "number": number}],
            "contacts": [{"name": "家长", "phone": CONTACT_PHONE, "email": CONTACT_EMAIL}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    services.customer_update(
        actor=owner,
        customer_id=customer.pk,
        version=customer.version,
        changes={"name": CANARY_NAME + "二"},
    )

    business = _dump("default")
    leaked = [what for what, digest in _digests(number).items() if digest in business]
    assert leaked == []
    keys = _dump("keys")
    assert all(digest in keys for digest in _digests(number).values())


def test_destroying_the_data_key_deletes_the_customers_digests(
    django_capture_on_commit_callbacks,
):
    owner = rep()
    number = resident_id()
    doomed = make_customer(
        owner,
        name=CANARY_NAME,
        phone=CANARY_PHONE,
        email=CANARY_EMAIL,
        documents=[services.DocumentInput("resident_id", number)],
        contacts=[services.ContactInput("家长", phone=CONTACT_PHONE, email=CONTACT_EMAIL)],
    )
    kept = make_customer(owner, name="李雷")
    # 4 name bigrams, surname, phone, phone tail, e-mail, ID number, contact phone and e-mail.
    assert SearchDigest.objects.filter(data_key_id=doomed.data_key_id).count() == 11

    with django_capture_on_commit_callbacks(execute=True):
        encryption.data_key_destroy(doomed.data_key_id)

    assert not SearchDigest.objects.filter(data_key_id=doomed.data_key_id).exists()
    assert SearchDigest.objects.filter(data_key_id=kept.data_key_id).exists()
    assert search_index.ids_matching(search.CUSTOMER_PHONE, CANARY_PHONE) == []
    assert search_index.ids_matching(search.CUSTOMER_NAME, CANARY_NAME) == []
    # Nothing of the shredded customer blocks a new card with the same phone and ID.
    again = make_customer(
        owner, phone=CANARY_PHONE, documents=[services.DocumentInput("resident_id", number)]
    )
    assert search_index.ids_matching(search.CUSTOMER_PHONE, CANARY_PHONE) == [again.pk]


def _list_codes(client, q: str) -> list[str]:
    html = client.post(reverse("customers:list"), {"q": q}).content.decode()
    return sorted(c.code for c in Customer.objects.all() if c.code in html)


def _api_codes(client, q: str) -> list[str]:
    response = client.post("/api/v1/customers/search/", {"q": q}, format="json")
    assert response.status_code == 200, response.content
    return [c["code"] for c in response.json()["results"]]


def test_search_by_phone_id_email_and_name_fragment_through_list_api_and_duplicates(client):
    owner = rep(team=TeamFactory(name="North"))
    number = resident_id()
    found = make_customer(
        owner,
        name="张明华",
        phone="13812345678",
        email="zhang@example.com",
        documents=[services.DocumentInput("resident_id", number)],
        contacts=[services.ContactInput("张父", phone="13700009999")],
    )
    make_customer(owner, name="李雷", phone="13812340000", email="li@example.com")
    client.force_login(owner)
    api = APIClient()
    api.force_authenticate(owner)

    for term in (
        "13812345678",
        "138-1234-5678",
        number,
        "ZHANG@example.com",
        "明华",
        "13700009999",
    ):
        assert _list_codes(client, term) == [found.code], term
        assert _api_codes(api, term) == [found.code], term
    assert _api_codes(api, "张明") == [found.code]
    assert _api_codes(api, "华张") == []

    with pytest.raises(services.DuplicateCustomer) as by_phone:
        make_customer(rep(), phone="+86 138 1234 5678")
    with pytest.raises(services.DuplicateCustomer) as by_number:
        make_customer(rep(), documents=[services.DocumentInput("resident_id", number.lower())])
    assert by_phone.value.existing == found and by_number.value.existing == found


def test_the_keys_database_refuses_a_twin_that_raced_past_the_check(monkeypatch):
    owner = rep()
    existing = make_customer(owner, phone="13812345678")
    real_check = cards.check_duplicates
    calls = []

    def check_raced_past(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:  # the check after the unique guard fired
            real_check(**kwargs)

    monkeypatch.setattr(cards, "check_duplicates", check_raced_past)
    with pytest.raises(services.DuplicateCustomer) as error:
        make_customer(owner, name="双胞胎", phone="13812345678")
    assert error.value.existing == existing
    assert list(Customer.objects.all()) == [existing]
    assert search_index.ids_matching(search.CUSTOMER_NAME, "双胞胎") == []


def _stray_phone_digest(phone: str, *, age: datetime.timedelta) -> SearchDigest:
    digest = SearchDigest.objects.create(
        data_key_id=encryption.data_key_create(),
        kind=search.CUSTOMER_PHONE,
        digest=blind_index("phone", phone),
        object_model="customers.customer",
        object_id=987654,  # no such row: its business commit failed
        key_version=search_index.current_key().version,
        is_unique=True,
    )
    SearchDigest.objects.filter(pk=digest.pk).update(created_at=timezone.now() - age)
    return digest


def test_a_stale_digest_does_not_block_a_create_forever():
    stale = _stray_phone_digest("13812345678", age=search_index.STALE_AFTER * 2)

    created = make_customer(rep(), phone="13812345678")

    assert not SearchDigest.objects.filter(pk=stale.pk).exists()
    assert search_index.ids_matching(search.CUSTOMER_PHONE, "13812345678") == [created.pk]


def test_a_digest_of_a_row_still_being_written_asks_to_try_again():
    young = _stray_phone_digest("13812345678", age=datetime.timedelta(seconds=5))

    with pytest.raises(ValidationError) as error:
        make_customer(rep(), phone="13812345678")

    assert "try again" in str(error.value.message_dict["phone"])
    assert SearchDigest.objects.filter(pk=young.pk).exists()
    assert Customer.objects.count() == 0


def test_a_merged_card_keeps_no_digest_and_its_phone_can_be_used_again():
    team = TeamFactory(name="North")
    owner = rep(team=team)
    manager = manager_of(team)
    survivor = make_customer(owner, name="王五")
    duplicate = make_customer(
        owner,
        name="王五五",
        phone="13812345678",
        contacts=[services.ContactInput("王父", phone="13700005555")],
    )

    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)

    assert not SearchDigest.objects.filter(
        object_model="customers.customer", object_id=duplicate.pk
    ).exists()
    assert not SearchDigest.objects.filter(data_key_id=duplicate.data_key_id).exists()
    assert search.customer_ids_matching("13700005555", search.CONTACT_PHONE) == [survivor.pk]
    contact_digest = SearchDigest.objects.get(kind=search.CONTACT_PHONE)
    assert contact_digest.data_key_id == survivor.data_key_id
    again = make_customer(rep(), phone="13812345678")
    assert search_index.ids_matching(search.CUSTOMER_PHONE, "13812345678") == [again.pk]


def test_reindex_under_a_new_key_keeps_search_working_and_leaves_no_old_version(settings):
    old_key, new_key = encryption.generate_key(), encryption.generate_key()
    settings.BLIND_INDEX_KEYS = []
    settings.BLIND_INDEX_KEY = old_key  # a bare key, as outside deployments set it: v1
    owner = rep()
    number = resident_id()
    customer = make_customer(
        owner,
        name="张明华",
        phone="13812345678",
        email="zhang@example.com",
        documents=[services.DocumentInput("resident_id", number)],
        contacts=[services.ContactInput("张父", phone="13700009999")],
    )
    make_customer(owner, name="李雷")
    assert set(SearchDigest.objects.values_list("key_version", flat=True)) == {"v1"}

    # Rotation: the new key first, the old one still looked up until reindex has run.
    settings.BLIND_INDEX_KEYS = [f"v2:{new_key}", f"v1:{old_key}"]
    assert search.customer_ids_matching("13812345678", search.CUSTOMER_PHONE) == [customer.pk]
    with pytest.raises(services.DuplicateCustomer):
        make_customer(rep(), phone="13812345678")

    call_command("reindex", "--batch-size", "1", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert set(SearchDigest.objects.values_list("key_version", flat=True)) == {"v2"}
    settings.BLIND_INDEX_KEYS = [f"v2:{new_key}"]
    for text, kinds in (
        ("13812345678", (search.CUSTOMER_PHONE,)),
        ("zhang@example.com", (search.CUSTOMER_EMAIL,)),
        (number, (search.DOCUMENT_NUMBER,)),
        ("明华", (search.CUSTOMER_NAME,)),
        ("13700009999", (search.CONTACT_PHONE,)),
    ):
        assert search.customer_ids_matching(text, *kinds) == [customer.pk], text
    with pytest.raises(services.DuplicateCustomer):
        make_customer(rep(), phone="13812345678")
    # Resumable: a second run finds every row indexed under the current key.
    assert search_index.reindex(progress=lambda message: None).written == 0


def test_reindex_rebuilds_lost_digests_and_drops_orphans(django_capture_on_commit_callbacks):
    customer = make_customer(rep(), name="张明华", phone="13812345678")
    shredded = make_customer(rep(), name="李雷")
    with django_capture_on_commit_callbacks(execute=True):
        encryption.data_key_destroy(shredded.data_key_id)
    SearchDigest.objects.filter(object_id=customer.pk, kind=search.CUSTOMER_PHONE).delete()
    orphan = _stray_phone_digest("13900000000", age=datetime.timedelta(0))

    report = search_index.reindex(progress=lambda message: None)

    assert report.written == 1 and report.orphans_deleted == 1
    assert not SearchDigest.objects.filter(pk=orphan.pk).exists()
    assert search_index.ids_matching(search.CUSTOMER_PHONE, "13812345678") == [customer.pk]
    assert not SearchDigest.objects.filter(data_key_id=shredded.data_key_id).exists()
    assert search_index.reindex(progress=lambda message: None).written == 0
