"""Search by a one-character surname and by a phone's last four digits (尾号), issue 13
item 2: each through its own digests in the keys database, exact, within the user's
visibility, in a fixed number of queries on both databases."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from crm import encryption, search_index
from crm.blind_index import blind_index
from crm.db_routers import KEYS_ALIAS
from crm.models import SearchDigest
from crm.tests.factories import TeamFactory
from customers import search
from customers.filters import search_customers
from customers.models import Customer
from customers.tests.factories import api_client_for, make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

ORG = Customer.Kind.ORGANISATION


@pytest.fixture
def owner():
    return rep(team=TeamFactory(name="North"))


def _search(user, q: str) -> tuple[int, list[str]]:
    response = api_client_for(user).post("/api/v1/customers/search/", {"q": q}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["count"], sorted(c["code"] for c in body["results"])


def test_one_character_finds_the_individuals_of_that_surname_only(owner):
    wanted = [make_customer(owner, name="张明华"), make_customer(owner, name="张 伟")]
    make_customer(owner, name="李张三")  # 张 inside the name, not its surname
    make_customer(owner, name="王五")
    make_customer(owner, kind=ORG, name="开张贸易有限公司")  # an organisation holding 张
    count, codes = _search(owner, "张")
    organisation = Customer.objects.get(kind=ORG).code
    # The organisation is found by its clear name (any fragment); individuals by surname.
    assert (count, codes) == (3, sorted([c.code for c in wanted] + [organisation]))
    assert _search(owner, "赵") == (0, [])


def test_the_surname_digest_is_held_by_individuals_only_and_is_exact(owner):
    person = make_customer(owner, name="欧阳娜娜")
    company = make_customer(owner, kind=ORG, name="欧阳贸易")
    rows = SearchDigest.objects.using(KEYS_ALIAS).filter(kind=search.CUSTOMER_SURNAME)
    assert list(rows.values_list("object_id", flat=True)) == [person.pk]
    assert search_index.ids_matching(search.CUSTOMER_SURNAME, "欧") == [person.pk]
    assert search_index.ids_matching(search.CUSTOMER_SURNAME, "阳") == []
    assert company.pk not in search_index.ids_matching(search.CUSTOMER_SURNAME, "欧")


def test_candidates_are_confirmed_on_the_opened_name(owner):
    person = make_customer(owner, name="张明华")
    other = make_customer(owner, name="李四")
    # A stale digest (as after a name change whose digests were not rewritten) over-matches.
    search_index.digests_replace(other, search.CUSTOMER_SURNAME, "张三")
    assert search.individual_ids_matching_name(Customer.objects.all(), "张") == [person.pk]


def test_the_last_four_digits_of_a_phone_find_the_customer(owner):
    first = make_customer(owner, phone="13812345678")
    second = make_customer(owner, phone="13955555678")
    make_customer(owner, phone="13812348765")
    assert _search(owner, "5678") == (2, sorted([first.code, second.code]))
    assert _search(owner, "8765")[0] == 1
    assert _search(owner, "0000") == (0, [])
    # Only the customer's own phone's tail: three digits find no phone.
    assert _search(owner, "678") == (0, [])


def test_the_phone_tail_digest_is_its_own_and_holds_no_full_number(owner):
    customer = make_customer(owner, phone="13812345678")
    rows = SearchDigest.objects.using(KEYS_ALIAS).filter(object_id=customer.pk)
    tail = rows.get(kind=search.CUSTOMER_PHONE_TAIL)
    assert tail.digest == blind_index("phone", "5678")
    assert tail.digest != rows.get(kind=search.CUSTOMER_PHONE).digest


def test_search_stays_within_the_users_visibility():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    north_rep, south_rep = rep(team=north), rep(team=south)
    mine = make_customer(north_rep, name="张三", phone="13812345678")
    theirs = make_customer(south_rep, name="张四", phone="13912345678")
    assert _search(north_rep, "张") == (1, [mine.code])
    assert _search(north_rep, "5678") == (1, [mine.code])
    assert _search(south_rep, "5678") == (1, [theirs.code])
    manager = manager_of(north)
    assert _search(manager, "张") == (1, [mine.code])


def test_the_list_page_finds_by_surname_and_phone_tail(client, owner):
    customer = make_customer(owner, name="钱多多", phone="13800004321")
    other = make_customer(owner, name="孙悟空", phone="13800001234")
    client.force_login(owner)
    for term in ("钱", "4321"):
        html = client.post(reverse("customers:list"), {"q": term}).content.decode()
        assert customer.code in html and other.code not in html, term


@pytest.mark.parametrize("rows", [2, 8])
def test_surname_and_tail_searches_run_a_fixed_number_of_queries(owner, assert_queries, rows):
    for i in range(rows):
        make_customer(owner, name=f"周{i}号", phone=f"1380000{i:04d}")
    queryset = Customer.objects.all()
    encryption.clear_key_cache()  # as in a new request: the data keys are read once
    with assert_queries(default=1, keys=2):
        # keys: the surname digests, then the data keys of the candidates confirmed.
        ids = search.individual_ids_matching_name(queryset, "周")
    assert len(ids) == rows
    with assert_queries(default=0, keys=1):
        tails = search.customer_ids_with_phone_tail("0001")
    assert len(tails) == 1
    encryption.clear_key_cache()
    # keys: the name bigrams (no individual holds them), then the phone tails.
    with assert_queries(default=1, keys=2):
        found = list(search_customers(queryset, "0001").values_list("pk", flat=True))
    assert found == tails


def test_reindex_gives_existing_rows_their_new_digests(owner):
    customer = make_customer(owner, name="吴用", phone="13812340001")
    new_kinds = [search.CUSTOMER_SURNAME, search.CUSTOMER_PHONE_TAIL]
    search_index.object_digests_delete(customer, new_kinds)  # as rows written before them
    assert _search(owner, "吴") == (0, []) and _search(owner, "0001") == (0, [])
    call_command("reindex", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _search(owner, "吴") == (1, [customer.code])
    assert _search(owner, "0001") == (1, [customer.code])
