"""Name search is exact (issue 8, item 5; DESIGN §3 "Finding encrypted data").

Organisations are found by their name in clear (``Customer.organisation_name``, trigram
index on PostgreSQL); individuals by bigram tokens whose candidates are confirmed on the
opened name before they are counted or shown.
"""

import pytest
from django.apps import apps as global_apps
from rest_framework.test import APIClient

from crm import search_index
from crm.models import SearchDigest
from crm.tests.factories import TeamFactory
from customers import search, services
from customers.filters import search_customers
from customers.models import Customer
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db

ORG = Customer.Kind.ORGANISATION


def _search(client, q: str) -> tuple[int, list[str]]:
    response = client.post("/api/v1/customers/search/", {"q": q}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["count"], sorted(c["code"] for c in body["results"])


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_organisations_by_exact_case_insensitive_substring(owner, api):
    wanted = [
        make_customer(owner, kind=ORG, name="Cobalt Harbor Logistics Ltd"),
        make_customer(owner, kind=ORG, name="Blue COBALT Inc"),
        make_customer(owner, kind=ORG, name="Prime Cobaltic GmbH"),
    ]
    # Holds every bigram of "cobalt" (co, ob, ba, al, lt) but not the word.
    make_customer(owner, kind=ORG, name="Global Beacon Motors Ltd")
    make_customer(owner, kind=ORG, name="Global Beacon Motors Ltd cobal t")
    codes = sorted(c.code for c in wanted)
    for term in ("cobalt", "Cobalt", "COBALT", " cobalt "):
        assert _search(api, term) == (3, codes), term
    assert _search(api, "Global Beacon")[0] == 2
    assert _search(api, "beacon motors ltd cobal")[0] == 1


def test_chinese_organisation_names(owner, api):
    steel = make_customer(owner, kind=ORG, name="北京钴业科技有限公司")
    other = make_customer(owner, kind=ORG, name="上海业钴贸易有限公司")
    assert _search(api, "钴业") == (1, [steel.code])
    assert _search(api, "有限公司") == (2, sorted([steel.code, other.code]))
    # One character finds organisations (their names are in clear).
    assert _search(api, "钴")[0] == 2


def test_individuals_confirmed_on_the_opened_name(owner, api):
    found = make_customer(owner, name="张明华")
    make_customer(owner, name="张华明")
    # Holds both bigrams of "张明华" (张明, 明华) but not the term: an over-match.
    make_customer(owner, name="明华张明")
    assert _search(api, "张明") == (2, sorted([found.code, Customer.objects.last().code]))
    assert _search(api, "张明华") == (1, [found.code])
    assert _search(api, "张 明 华") == (1, [found.code])  # normalised as the tokens are
    assert _search(api, "明华张")[0] == 1
    # One character is a surname (issue 13): the names that begin with it, confirmed.
    assert _search(api, "张") == (2, sorted([found.code, Customer.objects.all()[1].code]))
    assert _search(api, "华") == (0, [])


def test_latin_individuals_case_insensitive(owner, api):
    anna = make_customer(owner, name="Anna Cobalt")
    make_customer(owner, name="Cobb Altona")  # bigrams co, ob, ba, al, lt: not the word
    assert _search(api, "COBALT") == (1, [anna.code])


def test_count_equals_the_rows_across_pages(owner):
    for i in range(7):
        make_customer(owner, kind=ORG, name=f"Cobalt Works {i}")
        make_customer(owner, kind=ORG, name=f"Global Beacon {i}")
    for i in range(5):
        make_customer(owner, name=f"张明{i}华")
        make_customer(owner, name=f"明{i}张")
    client = APIClient()
    client.force_authenticate(owner)
    for term, expected in (("cobalt", 7), ("张明", 5)):
        seen, url = [], "/api/v1/customers/search/?page_size=3"
        while url:
            body = client.post(url, {"q": term}, format="json").json()
            assert body["count"] == expected
            seen += [c["code"] for c in body["results"]]
            url = body["next"]
        assert len(seen) == len(set(seen)) == expected, term


def test_scoping_and_merged_cards(owner, api):
    other = rep(team=TeamFactory(name="South"))
    make_customer(other, kind=ORG, name="Cobalt Elsewhere")
    make_customer(other, name="张明远")
    duplicate = make_customer(owner, kind=ORG, name="Cobalt Twin")
    survivor = make_customer(owner, kind=ORG, name="Cobalt Survivor")
    assert _search(api, "cobalt")[0] == 2
    assert _search(api, "张明")[0] == 0
    Customer.objects.filter(pk=duplicate.pk).update(
        status=Customer.Status.MERGED, merged_into=survivor
    )
    assert search_customers(Customer.objects.all(), "cobalt").count() == 2  # the other rep's
    assert duplicate not in search_customers(Customer.objects.all(), "cobalt")


def test_keys_queries_do_not_grow_with_the_candidates(owner, api, assert_queries):
    def keys_queries(term):
        with assert_queries() as counts:
            _search(api, term)
        return counts["keys"]

    for i in range(3):
        make_customer(owner, name=f"王小{i}明")
    few = keys_queries("王小")
    for i in range(3, 12):
        make_customer(owner, name=f"王小{i}明")
    assert keys_queries("王小") == few
    assert few <= 3  # bigram look-up, the candidates' keys (one query), the page's keys


def test_organisations_hold_no_name_digests_and_follow_changes(owner):
    company = make_customer(owner, kind=ORG, name="  Cobalt Harbor Ltd ")
    person = make_customer(owner, name="张明华")
    assert company.organisation_name == "Cobalt Harbor Ltd"
    assert person.organisation_name == ""
    name_digests = SearchDigest.objects.filter(kind=search.CUSTOMER_NAME)
    assert not name_digests.filter(object_id=company.pk).exists()
    assert name_digests.filter(object_id=person.pk).exists()

    company = services.customer_update(
        actor=owner, customer_id=company.pk, version=company.version, changes={"name": "Quartz"}
    )
    assert Customer.objects.get(pk=company.pk).organisation_name == "Quartz"
    person = services.customer_update(
        actor=owner,
        customer_id=person.pk,
        version=person.version,
        changes={"kind": ORG},
    )
    assert Customer.objects.get(pk=person.pk).organisation_name == "张明华"
    assert not name_digests.filter(object_id=person.pk).exists()
    assert list(search_customers(Customer.objects.all(), "明华")) == [person]


def test_reindex_skips_organisations_and_deletes_their_old_digests(owner):
    company = make_customer(owner, kind=ORG, name="Cobalt Harbor Ltd")
    person = make_customer(owner, name="张明华")
    # An organisation's bigrams written before this change.
    search_index.digests_replace(company, search.CUSTOMER_NAME, "Cobalt Harbor Ltd")
    report = search_index.reindex(progress=lambda _line: None)
    assert report.written == 1
    names = SearchDigest.objects.filter(kind=search.CUSTOMER_NAME)
    assert not names.filter(object_id=company.pk).exists()
    assert names.filter(object_id=person.pk).exists()
    again = search_index.reindex(everything=True, progress=lambda _line: None)
    assert not names.filter(object_id=company.pk).exists()
    assert again.conflicts == 0


def test_migration_backfills_the_clear_names_and_drops_organisation_digests(owner):
    from importlib import import_module

    migration = import_module("customers.migrations.0010_organisation_name_in_clear")
    company = make_customer(owner, kind=ORG, name="北京钴业科技有限公司")
    person = make_customer(owner, name="张明华")
    Customer.objects.update(organisation_name="")  # as before the column existed
    search_index.digests_replace(company, search.CUSTOMER_NAME, "北京钴业科技有限公司")

    migration.backfill(global_apps, None)

    assert Customer.objects.get(pk=company.pk).organisation_name == "北京钴业科技有限公司"
    assert Customer.objects.get(pk=person.pk).organisation_name == ""
    names = SearchDigest.objects.filter(kind=search.CUSTOMER_NAME)
    assert not names.filter(object_id=company.pk).exists()
    assert names.filter(object_id=person.pk).exists()


def test_short_fragments_held_by_many_names_stay_in_the_query(owner, api, monkeypatch):
    make_customer(owner, kind=ORG, name="北京钴业有限公司")
    make_customer(owner, kind=ORG, name="Acme ab Ltd")
    make_customer(owner, kind=ORG, name="上海有限公司")
    make_customer(owner, kind=ORG, name="AB")
    assert _search(api, "有限")[0] == 2
    assert _search(api, "ab")[0] == 2
    monkeypatch.setattr(search, "SHORT_TERM_IDS", 1)  # more names than the id list takes
    assert _search(api, "有限")[0] == 2
    assert _search(api, "Ab")[0] == 2
    assert _search(api, "b L")[0] == 1  # no three word characters: not the trigram path


def test_the_timeline_shows_a_rename_masked_not_the_clear_copy(owner):
    from customers import selectors

    company = make_customer(owner, kind=ORG, name="Cobalt Harbor Ltd")
    services.customer_update(
        actor=owner, customer_id=company.pk, version=company.version, changes={"name": "Quartz"}
    )
    entries = selectors.customer_timeline(customer=company, user=owner)
    changed = [field for entry in entries for field, _value in entry.changes]
    assert changed and "organisation name" not in [str(f) for f in changed]
    assert "Quartz" not in str([entry.as_dict() for entry in entries])
