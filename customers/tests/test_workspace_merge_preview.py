"""Merge preview and confirmations (issue 13 item 3): both cards side by side, masked as the
card shows them; a choice per differing field of which value survives; the merge takes the
chosen values (re-encrypted under the survivor's key); confirmations before the
irreversible actions (send a campaign, withdraw a consent, merge)."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse

from audit.models import AuditEvent
from crm import encryption, roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, search, services
from customers.card_fields import EDITABLE_FIELDS
from customers.merge_policies import COMPANION_FIELDS, MERGEABLE_FIELDS
from customers.models import Customer, Tier
from customers.selectors import customer_links
from customers.services.merge import _unique_rules, customer_merge_preview
from customers.tests.factories import api_client_for, make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

ORGANISATION = Customer.Kind.ORGANISATION
SURVIVOR_PHONE, DUPLICATE_PHONE = "13912345678", "13887654321"
SURVIVOR_ADDRESS, DUPLICATE_ADDRESS = "上海市浦东新区世纪大道100号", "北京市海淀区中关村大街1号"


@pytest.fixture
def people():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    return {
        "owner": rep(team=north),
        "manager": manager_of(north),
        "other_manager": manager_of(south),
        "gm": UserFactory(role=roles.GENERAL_MANAGER),
        "service": UserFactory(role=roles.SERVICE_STAFF),
        "dpo": UserFactory(role=roles.DPO),
        "auditor": UserFactory(role=roles.AUDITOR),
        "admin": UserFactory(role=roles.ADMIN),
    }


@pytest.fixture
def pair(people):
    """Two cards of one company: the duplicate has another phone, trading address,
    registered capital and tier; the same name and business type."""
    owner = people["owner"]
    survivor = make_customer(
        owner,
        kind=ORGANISATION,
        name="华明贸易有限公司",
        phone=SURVIVOR_PHONE,
        trading_address=SURVIVOR_ADDRESS,
        registered_capital=Decimal("5000000.00"),
    )
    duplicate = make_customer(
        owner,
        kind=ORGANISATION,
        name="华明贸易有限公司",
        phone=DUPLICATE_PHONE,
        trading_address=DUPLICATE_ADDRESS,
        registered_capital=Decimal("8000000.00"),
        tier=Tier.objects.get(code="a"),
    )
    services.interaction_log(actor=owner, customer=duplicate, kind="call", summary="电话回访")
    services.consent_record(actor=owner, customer=duplicate, purpose="marketing", channel="web")
    return survivor, duplicate


def _preview_url(survivor, duplicate):
    return (
        reverse("customers:merge-preview") + f"?survivor={survivor.code}&duplicate={duplicate.code}"
    )


# --- the preview ----------------------------------------------------------------------------


def test_preview_shows_both_cards_side_by_side_masked(client, people, pair):
    survivor, duplicate = pair
    client.force_login(people["manager"])
    response = client.get(_preview_url(survivor, duplicate))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="merge-compare"' in html
    assert survivor.code in html and duplicate.code in html
    # Masked as the card masks them; the clear values never reach the page.
    assert "139****5678" in html and "138****4321" in html
    assert SURVIVOR_PHONE not in html and DUPLICATE_PHONE not in html
    assert SURVIVOR_ADDRESS not in html and DUPLICATE_ADDRESS not in html
    assert "上海市浦东新区****" in html and "北京市海淀区****" in html
    # An organisation's name is shown in clear on the card, so here too.
    assert "华明贸易有限公司" in html
    # The duplicate's records that move, counted.
    assert 'data-records="customers.interaction"' in html
    assert 'data-records="customers.consent"' in html


def test_only_differing_mergeable_fields_offer_a_choice(client, people, pair):
    survivor, duplicate = pair
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    for name in ("phone", "trading_address", "registered_capital", "tier"):
        assert f'name="take_{name}" id="take_{name}_survivor" value="survivor" checked' in html
        assert f'id="take_{name}_duplicate" value="duplicate">' in html
    # Same on both cards: nothing to choose.
    for name in ("name", "business_type", "email"):
        assert f'name="take_{name}"' not in html
    preview = customer_merge_preview(
        actor=people["manager"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
    )
    assert set(preview.choosable) == {
        "phone",
        "trading_address",
        "registered_capital",
        "tier",
    }
    assert not preview.refusal


def test_individuals_names_are_masked_in_the_preview(client, people):
    owner = people["owner"]
    survivor = make_customer(owner, name="张明华")
    duplicate = make_customer(owner, name="张明")
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    assert "张明华" not in html and "张*华" in html
    assert 'name="take_name"' in html
    # An organisation's fields do not apply to individuals: not shown.
    assert 'data-field="trading_address"' not in html


def test_choice_values_are_shown_by_their_labels_not_their_codes(client, people, pair):
    survivor, duplicate = pair
    Customer.objects.filter(pk=survivor.pk).update(language="zh-hans")
    Customer.objects.filter(pk=duplicate.pk).update(language="en")
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    compare = html[html.index('data-testid="merge-compare"') :]
    compare = compare[: compare.index("</table>")]
    assert "Simplified Chinese" in compare and ">English<" in compare
    assert "zh-hans" not in compare


def test_the_preview_shows_what_would_refuse_the_merge(client, people, pair):
    from tests.testapp.models import Membership

    survivor, duplicate = pair
    Membership.objects.create(customer=survivor, club="golf")
    Membership.objects.create(customer=duplicate, club="golf")
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    assert 'data-testid="merge-refusal"' in html and "Memberships: 1" in html
    assert 'type="submit" disabled' in html


def test_a_merged_card_or_the_same_card_twice_is_refused_on_the_preview(client, people, pair):
    survivor, duplicate = pair
    client.force_login(people["manager"])
    assert client.get(_preview_url(survivor, survivor)).status_code == 400
    services.customer_merge(
        actor=people["manager"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
    )
    assert client.get(_preview_url(survivor, duplicate)).status_code == 400


# --- the merge with the chosen values -------------------------------------------------------


def test_chosen_values_survive_plain_and_encrypted(client, people, pair):
    survivor, duplicate = pair
    client.force_login(people["manager"])
    response = client.post(
        reverse("customers:merge"),
        {
            "survivor": survivor.code,
            "duplicate": duplicate.code,
            "reason": "same company",
            "take_registered_capital": "duplicate",
            "take_trading_address": "duplicate",
            "take_phone": "duplicate",
            "take_tier": "survivor",
        },
    )
    assert response.status_code == 302, response.content.decode()
    card = Customer.objects.get(pk=survivor.pk)
    assert card.registered_capital == Decimal("8000000.00")
    assert card.trading_address == DUPLICATE_ADDRESS  # decrypts under the survivor's key
    assert card.phone == DUPLICATE_PHONE
    assert card.tier.code == "b"  # kept: the survivor's value
    tokens = Customer.objects.filter(pk=survivor.pk).values_list(
        Cast("trading_address", TextField()), Cast("phone", TextField())
    )
    assert {encryption.key_id_of(t) for t in tokens.get()} == {str(survivor.data_key_id)}
    # One history row for the survivor's change, with the new values (encrypted).
    latest = card.history.first()
    assert latest.history_user == people["manager"]
    assert latest.registered_capital == Decimal("8000000.00")
    assert latest.trading_address == DUPLICATE_ADDRESS  # opens: bound to the survivor's row
    # The phone's search digest now finds the survivor.
    assert search.customer_ids_matching(DUPLICATE_PHONE, search.CUSTOMER_PHONE) == [survivor.pk]
    assert search.customer_ids_matching(SURVIVOR_PHONE, search.CUSTOMER_PHONE) == []
    # The audit event names the fields taken, never their values.
    event = AuditEvent.objects.get(action=events.CUSTOMER_MERGED)
    assert event.data["taken_from_duplicate"] == ["phone", "registered_capital", "trading_address"]
    dumped = json.dumps(event.data, ensure_ascii=False)
    assert DUPLICATE_PHONE not in dumped and DUPLICATE_ADDRESS not in dumped
    assert "8000000" not in dumped


def test_an_individuals_name_and_birth_date_can_be_taken(people):
    import datetime

    owner = people["owner"]
    survivor = make_customer(owner, name="张明", birth_date=datetime.date(1980, 1, 2))
    duplicate = make_customer(owner, name="张明华", birth_date=datetime.date(1981, 3, 4))
    services.customer_merge(
        actor=people["manager"],
        survivor_id=survivor.pk,
        duplicate_id=duplicate.pk,
        take_from_duplicate=["name", "birth_date"],
    )
    card = Customer.objects.get(pk=survivor.pk)
    assert (card.name, card.birth_date) == ("张明华", datetime.date(1981, 3, 4))
    assert card.organisation_name == ""  # an individual's name is never kept in clear
    token = Customer.objects.filter(pk=survivor.pk).values_list(Cast("name", TextField()))
    assert encryption.key_id_of(token.get()[0]) == str(survivor.data_key_id)
    # The name's search digests now find the survivor by the taken name.
    assert survivor.pk in search.customer_ids_matching("明华", search.CUSTOMER_NAME)


def test_without_a_choice_the_survivor_keeps_its_values(people, pair):
    survivor, duplicate = pair
    services.customer_merge(
        actor=people["manager"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
    )
    card = Customer.objects.get(pk=survivor.pk)
    assert (card.phone, card.trading_address) == (SURVIVOR_PHONE, SURVIVOR_ADDRESS)
    assert card.registered_capital == Decimal("5000000.00")
    event = AuditEvent.objects.get(action=events.CUSTOMER_MERGED)
    assert event.data["taken_from_duplicate"] == []


def test_taking_a_tier_recomputes_the_reverification_date(people, pair):
    survivor, duplicate = pair
    services.customer_merge(
        actor=people["manager"],
        survivor_id=survivor.pk,
        duplicate_id=duplicate.pk,
        take_from_duplicate=["tier", "name"],  # the same name: nothing to take
    )
    card = Customer.objects.get(pk=survivor.pk)
    assert card.tier.code == "a"
    event = AuditEvent.objects.get(action=events.CUSTOMER_MERGED)
    assert event.data["taken_from_duplicate"] == ["tier"]


@pytest.mark.parametrize(
    "names",
    [["password"], ["team"], ["kind"], ["data_key_id"], ["birth_date"]],
)
def test_a_field_that_cannot_be_taken_refuses_the_whole_merge(people, pair, names):
    survivor, duplicate = pair
    with pytest.raises(ValidationError) as refused:
        services.customer_merge(
            actor=people["manager"],
            survivor_id=survivor.pk,
            duplicate_id=duplicate.pk,
            take_from_duplicate=names,
        )
    assert "take_from_duplicate" in refused.value.message_dict
    assert Customer.objects.get(pk=duplicate.pk).status != Customer.Status.MERGED
    assert not AuditEvent.objects.filter(action=events.CUSTOMER_MERGED).exists()


def test_an_unknown_field_is_a_400_in_the_api_and_an_error_on_the_page(client, people, pair):
    survivor, duplicate = pair
    response = api_client_for(people["manager"]).post(
        "/api/v1/customers/merge/",
        {
            "survivor": survivor.pk,
            "duplicate": duplicate.pk,
            "reason": "same company",
            "take_from_duplicate": ["phone", "password"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "take_from_duplicate" in response.json()
    assert Customer.objects.get(pk=duplicate.pk).status != Customer.Status.MERGED
    assert Customer.objects.get(pk=survivor.pk).phone == SURVIVOR_PHONE

    client.force_login(people["manager"])
    page = client.post(
        reverse("customers:merge"),
        {
            "survivor": survivor.code,
            "duplicate": duplicate.code,
            "reason": "same company",
            "take_password": "duplicate",
        },
    )
    assert page.status_code == 200  # the preview again, with the error
    html = page.content.decode()
    assert "cannot be taken from the duplicate" in html
    assert 'data-testid="merge-compare"' in html
    assert Customer.objects.get(pk=duplicate.pk).status != Customer.Status.MERGED


def test_the_api_merge_takes_the_chosen_values(people, pair):
    survivor, duplicate = pair
    response = api_client_for(people["gm"]).post(
        "/api/v1/customers/merge/",
        {
            "survivor": survivor.pk,
            "duplicate": duplicate.pk,
            "reason": "same company",
            "take_from_duplicate": ["trading_address"],
        },
        format="json",
    )
    assert response.status_code == 200
    assert set(response.json()) == {"survivor", "moved"}
    assert Customer.objects.get(pk=survivor.pk).trading_address == DUPLICATE_ADDRESS


def test_the_allow_list_is_what_an_edit_may_change_but_the_kind():
    companions = {c for names in COMPANION_FIELDS.values() for c in names}
    assert set(MERGEABLE_FIELDS) == set(EDITABLE_FIELDS) - {"kind"} - companions


# --- the API preview ------------------------------------------------------------------------


def test_api_preview_lists_differing_fields_with_masked_values(people, pair):
    survivor, duplicate = pair
    client = api_client_for(people["manager"])
    response = client.get(
        "/api/v1/customers/merge/preview/",
        {"survivor": survivor.pk, "duplicate": duplicate.pk},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["survivor"] == {"id": survivor.pk, "code": survivor.code}
    assert {"phone", "trading_address", "registered_capital", "tier"} <= set(body["differing"])
    assert set(body["choosable"]) == {"phone", "trading_address", "registered_capital", "tier"}
    phone = next(f for f in body["fields"] if f["field"] == "phone")
    assert (phone["survivor"], phone["duplicate"]) == ("139****5678", "138****4321")
    assert phone["personal"] and phone["mergeable"]
    tier = next(f for f in body["fields"] if f["field"] == "tier")
    assert (tier["survivor"], tier["duplicate"]) == ("b", "a")
    text = response.content.decode()
    assert SURVIVOR_PHONE not in text and DUPLICATE_PHONE not in text
    assert DUPLICATE_ADDRESS not in text
    assert body["can_merge"] is True
    records = {r["model"]: r["count"] for r in body["records"]}
    assert records["customers.interaction"] == 1
    by_code = client.get(
        "/api/v1/customers/merge/preview/",
        {"survivor_code": survivor.code, "duplicate_code": duplicate.code},
    )
    assert by_code.json() == body


def test_api_preview_needs_both_cards(people):
    response = api_client_for(people["manager"]).get("/api/v1/customers/merge/preview/")
    assert response.status_code == 400
    assert {"survivor", "duplicate"} <= set(response.json())


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manager", 200),
        ("gm", 200),
        ("owner", 403),
        ("service", 403),
        ("dpo", 403),
        ("auditor", 403),
        ("admin", 403),
        ("other_manager", 404),
    ],
)
def test_who_may_preview_a_merge(client, people, pair, who, status):
    survivor, duplicate = pair
    client.force_login(people[who])
    assert client.get(_preview_url(survivor, duplicate)).status_code == status
    api = api_client_for(people[who]).get(
        "/api/v1/customers/merge/preview/",
        {"survivor": survivor.pk, "duplicate": duplicate.pk},
    )
    assert api.status_code == status


@pytest.mark.parametrize(
    ("who", "merged"),
    [
        ("manager", True),
        ("gm", True),
        ("owner", False),
        ("auditor", False),
        ("other_manager", False),
    ],
)
def test_who_may_merge_with_chosen_values(client, people, pair, who, merged):
    survivor, duplicate = pair
    client.force_login(people[who])
    client.post(
        reverse("customers:merge"),
        {
            "survivor": survivor.code,
            "duplicate": duplicate.code,
            "reason": "same company",
            "take_phone": "duplicate",
        },
    )
    assert (Customer.objects.get(pk=duplicate.pk).status == Customer.Status.MERGED) is merged
    assert (Customer.objects.get(pk=survivor.pk).phone == DUPLICATE_PHONE) is merged


def test_preview_needs_sign_in_and_the_merge_permission_in_the_service(client, people, pair):
    survivor, duplicate = pair
    response = client.get(_preview_url(survivor, duplicate))
    assert response.status_code == 302 and "/login/" in response["Location"]
    with pytest.raises(PermissionDenied):
        customer_merge_preview(
            actor=people["owner"], survivor_id=survivor.pk, duplicate_id=duplicate.pk
        )


# --- queries --------------------------------------------------------------------------------


def _link_queries() -> int:
    """What the preview asks per model linked to the card: the duplicate's rows counted
    (one query) and both cards' rows read once per rule that allows a row once per card.
    Fixed by the schema, whatever the number of rows."""
    return sum(1 + len(_unique_rules(link)) for link in customer_links())


@pytest.mark.parametrize("rows", [1, 4])
def test_preview_page_runs_a_fixed_number_of_queries(client, people, pair, assert_queries, rows):
    survivor, duplicate = pair
    owner = people["owner"]
    for card in (survivor, duplicate):
        for n in range(rows):
            services.interaction_log(actor=owner, customer=card, kind="call", summary=f"回访{n}")
            services.contact_save(actor=owner, customer=card, name=f"联系人{n}", phone="")
    client.force_login(people["manager"])
    url = _preview_url(survivor, duplicate)
    with assert_queries(default=PAGE_QUERIES + _link_queries(), keys=1):
        assert client.get(url).status_code == 200


# The session, the user and his permissions (4), the codes (1), each card's access check
# (2 per card), both cards with their references (1), a card view recorded per card (2),
# the menu's groups (1).
PAGE_QUERIES = 13


# --- confirmations before irreversible actions ----------------------------------------------


def test_the_merge_asks_for_a_confirmation(client, people, pair):
    survivor, duplicate = pair
    client.force_login(people["manager"])
    html = client.get(_preview_url(survivor, duplicate)).content.decode()
    assert (
        f'data-confirm="Merge card {duplicate.code} into card {survivor.code}? Its records ' in html
    )
    assert "This cannot be undone" in html


def test_sending_a_campaign_asks_for_a_confirmation(client, people):
    from customers.services.campaigns import campaign_create

    campaign = campaign_create(
        actor=people["manager"], name="Spring", kind="newsletter", subject="Hi", body="Body"
    )
    client.force_login(people["manager"])
    html = client.get(reverse("customers:campaign-detail", args=[campaign.pk])).content.decode()
    assert 'data-confirm="Send the campaign Spring to its audience now?' in html


def test_withdrawing_a_consent_asks_for_a_confirmation(client, people):
    owner = people["owner"]
    customer = make_customer(owner)
    services.consent_record(actor=owner, customer=customer, purpose="marketing", channel="web")
    client.force_login(people["dpo"])
    html = client.get(reverse("customers:tab", args=[customer.pk, "consents"])).content.decode()
    assert 'data-confirm="Withdraw the consent for ' in html
    assert "It takes effect at once" in html


def test_the_preview_is_recorded_as_a_view_of_both_cards(client, people, pair):
    survivor, duplicate = pair
    client.force_login(people["manager"])
    client.get(_preview_url(survivor, duplicate))
    viewed = AuditEvent.objects.filter(action=events.CUSTOMER_VIEWED, actor=people["manager"])
    assert sorted(viewed.values_list("object_id", flat=True)) == sorted(
        [str(survivor.pk), str(duplicate.pk)]
    )
