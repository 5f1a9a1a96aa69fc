"""Export of the customer list: masking, consent, visibility, audit, query counts, access."""

import codecs
import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm import encryption, roles
from crm.tests.factories import TeamFactory, UserFactory
from customers import events, services
from customers.models import Consent, Customer
from customers.services.exports import customer_export
from customers.synthetic import resident_id
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/customers/export/"


def read_csv(result) -> list[list[str]]:
    raw = b"".join(result.chunks)
    assert raw.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def by_code(rows) -> dict[str, dict[str, str]]:
    header, *body = rows
    return {row[0]: dict(zip(header, row, strict=True)) for row in body}


def user_with(*codenames):
    """A user holding exactly these customers-app permissions (no role)."""
    user = UserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
    )
    return user


def third_party_consent(customer, actor):
    return services.consent_record(
        actor=actor,
        customer=customer,
        purpose=Consent.Purpose.THIRD_PARTY,
        channel=Consent.Channel.PAPER,
        policy_version="2024-1",
    )


def test_export_in_clear_for_a_user_who_may_reveal():
    owner = rep()
    number = resident_id()
    customer = make_customer(
        owner,
        name="张明华",
        phone="13812345678",
        email="zmh@example.com",
        documents=[services.DocumentInput("resident_id", number)],
    )
    result = customer_export(
        actor=owner, filter_params={}, fmt="csv", purpose="internal", clear=True, reason="contract"
    )
    assert result.count == 1 and not result.masked
    row = by_code(read_csv(result))[customer.code]
    assert row["Name"] == "张明华" and row["Phone"] == "13812345678"
    assert row["E-mail"] == "zmh@example.com" and row["Document number"] == number
    assert row["Owner"] == owner.username and row["Business type"] == "Other"
    assert result.filename.endswith(".csv") and result.content_type.startswith("text/csv")


def test_the_language_is_the_last_column_by_its_label():
    owner = rep()
    chinese = make_customer(owner, language="zh-hans")
    unknown = make_customer(owner)
    result = customer_export(
        actor=owner, filter_params={}, fmt="csv", purpose="internal", clear=False, reason=""
    )
    table = read_csv(result)
    assert table[0][-2:] == ["Created at", "Language"]  # earlier columns keep their places
    rows = by_code(table)
    assert rows[chinese.code]["Language"] == "Simplified Chinese"
    assert rows[unknown.code]["Language"] == ""


def test_export_masked_for_a_user_who_may_not_reveal():
    customer = make_customer(name="张明华", phone="13812345678", email="zmh@example.com")
    number = customer.identity_documents.get().number
    viewer = user_with("view_customer", "view_all_customers", "export_customer")
    result = customer_export(actor=viewer, filter_params={}, fmt="csv", purpose="internal")
    assert result.masked
    row = by_code(read_csv(result))[customer.code]
    assert row["Name"] == "张*华" and row["Phone"] == "138****5678"
    assert row["E-mail"] == "z***@example.com"
    assert row["Document number"] == number[:6] + "********" + number[-4:]


def test_shredded_customers_export_as_erased(django_capture_on_commit_callbacks):
    owner = rep()
    customer = make_customer(owner, email="gone@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        encryption.data_key_destroy(customer.data_key_id)
    for user, clear in (
        (owner, True),
        (user_with("view_customer", "view_all_customers", "export_customer"), False),
    ):
        result = customer_export(
            actor=user, filter_params={}, fmt="csv", clear=clear, reason="contract"
        )
        row = by_code(read_csv(result))[customer.code]
        assert row["Name"] == row["Phone"] == row["Document number"] == "[erased]"
        assert row["Address"] == ""  # never given: empty, not erased


def test_raw_csv_without_reveal_holds_no_clear_phone():
    customers = [make_customer(phone=f"1391234{i:04d}") for i in range(3)]
    viewer = user_with("view_customer", "view_all_customers", "export_customer")
    raw = b"".join(
        customer_export(actor=viewer, filter_params={}, fmt="csv", purpose="internal").chunks
    )
    for customer in customers:
        assert customer.phone.encode() not in raw
        assert customer.name.encode() not in raw
        assert customer.identity_documents.get().number.encode() not in raw
        assert customer.code.encode() in raw


def test_third_party_export_needs_live_consent_and_masks_id_numbers():
    owner = rep()
    consenting = make_customer(owner, name="同意者")
    withdrawn = make_customer(owner)
    make_customer(owner)  # no consent at all
    third_party_consent(consenting, owner)
    consent = third_party_consent(withdrawn, owner)
    Consent.objects.filter(pk=consent.pk).update(withdrawn_at=timezone.now())

    result = customer_export(
        actor=owner,
        filter_params={},
        fmt="csv",
        purpose="third_party",
        clear=True,
        reason="delivery by the carrier",
    )

    assert (result.count, result.left_out) == (1, 2)
    rows = by_code(read_csv(result))
    assert list(rows) == [consenting.code]
    assert rows[consenting.code]["Name"] == "同意者"  # the user may reveal: names in clear
    number = consenting.identity_documents.get().number
    assert rows[consenting.code]["Document number"] != number  # sensitive: masked
    event = AuditEvent.objects.get(action=events.CUSTOMERS_EXPORTED)
    assert event.data["purpose"] == "third_party" and event.data["left_out_without_consent"] == 2
    assert event.data["sensitive_masked"] is True and event.data["masked"] is False


def test_export_never_includes_customers_the_user_may_not_see():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    mine = make_customer(rep(team=north))
    theirs = make_customer(rep(team=south), phone="13900000001")
    for actor in (mine.owner, manager_of(north)):
        result = customer_export(actor=actor, filter_params={}, fmt="csv", purpose="internal")
        codes = set(by_code(read_csv(result)))
        assert mine.code in codes and theirs.code not in codes
    # Not even when searched for by phone, nor asked for by owner.
    for params in ({"q": "13900000001"}, {"owner": str(theirs.owner_id)}):
        result = customer_export(
            actor=mine.owner, filter_params=params, fmt="csv", purpose="internal"
        )
        assert result.count == 0 and theirs.code.encode() not in b"".join(result.chunks)
    general = UserFactory(role=roles.GENERAL_MANAGER)
    result = customer_export(actor=general, filter_params={}, fmt="csv", purpose="internal")
    assert {mine.code, theirs.code} <= set(by_code(read_csv(result)))


def test_export_uses_the_list_filters_and_audits_their_names_only():
    owner = rep()
    organisation = make_customer(owner, kind=Customer.Kind.ORGANISATION)
    make_customer(owner, phone="13700001111")
    result = customer_export(
        actor=owner,
        filter_params={"kind": "organisation", "q": "", "format": "csv", "purpose": "internal"},
        fmt="csv",
        purpose="internal",
    )
    assert list(by_code(read_csv(result))) == [organisation.code]
    customer_export(actor=owner, filter_params={"q": "13700001111"}, fmt="xlsx", purpose="internal")
    # By id: events are chained (given a sequence) only once their transaction commits.
    first, second = AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).order_by("id")
    assert first.data == {
        "count": 1,
        "left_out_without_consent": 0,
        "format": "csv",
        "purpose": "internal",
        "masked": True,
        "sensitive_masked": True,
        "clear_requested": False,
        "clear_count": 0,
        "filters": ["kind"],
    }
    assert second.data["filters"] == ["q"] and "13700001111" not in str(second.data)
    assert second.actor == owner


def test_bad_arguments_are_validation_errors():
    owner = rep()
    with pytest.raises(ValidationError) as error:
        customer_export(actor=owner, filter_params={}, fmt="pdf", purpose="marketing")
    assert set(error.value.message_dict) == {"format", "purpose"}
    with pytest.raises(ValidationError) as error:
        customer_export(actor=owner, filter_params={"status": "nonsense"}, fmt="csv")
    assert "status" in error.value.message_dict
    assert not AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).exists()


def test_xlsx_export_reads_back_and_keeps_formulas_as_text(tmp_path, monkeypatch):
    from openpyxl.worksheet import _writer

    owner = rep()
    customer = make_customer(owner, name='=HYPERLINK("http://evil")')
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    result = customer_export(
        actor=owner, filter_params={}, fmt="xlsx", purpose="internal", clear=True, reason="check"
    )
    content = b"".join(result.chunks)
    assert list(tmp_path.iterdir()) == [] and _writer.ALL_TEMP_FILES == []  # nothing left
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Customer code", "Kind", "Status", "Name")
    assert rows[1][0] == customer.code and rows[1][3] == customer.name
    assert sheet.cell(row=2, column=4).data_type == "s"


def test_csv_cells_cannot_start_a_formula():
    owner = rep()
    customer = make_customer(owner, name="=1+2", phone="+441234567890")
    row = by_code(
        read_csv(
            customer_export(actor=owner, filter_params={}, fmt="csv", clear=True, reason="check")
        )
    )
    assert row[customer.code]["Name"] == "'=1+2"
    assert row[customer.code]["Phone"] == "'+441234567890"


# Issue 8: the keys come from the rows fetched (no second run of the filter), and one small
# query reads the owners the user answers for (inlined in the filter for a better plan).
EXPORT_QUERIES = {"default": 6, "keys": 1}


@pytest.mark.parametrize("rows", [3, 23])
def test_export_query_counts_are_exact_and_do_not_grow(assert_queries, rows):
    owner = rep(team=TeamFactory(name="North"))
    for _i in range(rows):
        make_customer(owner)
    encryption.clear_key_cache()
    with assert_queries(**EXPORT_QUERIES):  # every data key of the chunk unwrapped at once
        result = customer_export(actor=owner, filter_params={}, fmt="csv", purpose="internal")
        exported = read_csv(result)
    assert len(exported) == rows + 1


def test_export_permission_is_required():
    for role in (roles.SERVICE_STAFF, roles.AUDITOR, roles.DPO, roles.ADMIN):
        with pytest.raises(PermissionDenied):
            customer_export(actor=UserFactory(role=role), filter_params={}, fmt="csv")
    assert not AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).exists()


# --- endpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER, roles.GENERAL_MANAGER])
def test_export_page_downloads_for_roles_that_may(role, client):
    user = UserFactory(role=role, team=TeamFactory(name="North"))
    customer = make_customer(rep(team=user.team) if role != roles.SALES_REP else user)
    if role == roles.SALES_MANAGER:
        user.team.manager = user
        user.team.save()
    client.force_login(user)
    response = client.post(reverse("customers:export"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert customer.code.encode() in body
    response = client.post(reverse("customers:export"), {"format": "xlsx"})
    assert response.status_code == 200 and response.content.startswith(b"PK")


@pytest.mark.parametrize("role", [roles.SERVICE_STAFF, roles.AUDITOR, roles.DPO, roles.ADMIN])
def test_export_page_forbidden_for_other_roles(role, client):
    make_customer()
    client.force_login(UserFactory(role=role))
    assert client.post(reverse("customers:export"), {"format": "csv"}).status_code == 403
    assert not AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).exists()


def test_export_page_with_bad_format_goes_back_to_the_list(client):
    client.force_login(rep())
    response = client.post(reverse("customers:export"), {"format": "pdf"})
    assert response.status_code == 302 and response["Location"] == reverse("customers:list")


def test_export_page_needs_a_login(client):
    response = client.post(reverse("customers:export"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER, roles.GENERAL_MANAGER])
def test_export_api_for_roles_that_may(role):
    user = UserFactory(role=role)
    customer = make_customer(user if role == roles.SALES_REP else None)
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(API_URL, {"format": "csv", "purpose": "internal"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert (customer.code.encode() in body) == (role != roles.SALES_MANAGER)  # not his team
    assert response["X-Export-Count"] == ("0" if role == roles.SALES_MANAGER else "1")
    response = client.post(API_URL, {"format": "xlsx", "purpose": "third_party"})
    assert response.status_code == 200 and response["X-Export-Count"] == "0"
    assert reverse("customer-export") == API_URL


@pytest.mark.parametrize("role", [roles.SERVICE_STAFF, roles.AUDITOR, roles.DPO, roles.ADMIN])
def test_export_api_forbidden_for_other_roles(role):
    client = APIClient()
    client.force_authenticate(UserFactory(role=role))
    assert client.post(API_URL, {"format": "csv"}).status_code == 403


def test_export_api_bad_input_is_a_400_and_anonymous_is_refused():
    client = APIClient()
    assert client.post(API_URL).status_code in (401, 403)
    client.force_authenticate(rep())
    response = client.post(API_URL, {"format": "pdf", "purpose": "internal"})
    assert response.status_code == 400 and "format" in response.json()


def test_export_by_get_is_refused_and_takes_no_filters(client):
    """Filters (a search term may be a phone number) never travel in a URL: GET is 405."""
    user = rep()
    make_customer(user, phone="13812345678")
    client.force_login(user)
    page = client.get(reverse("customers:export"), {"format": "csv", "q": "13812345678"})
    assert page.status_code == 405 and page["Allow"] == "POST"
    assert "customer list" in page.content.decode()
    api = APIClient()
    api.force_authenticate(user)
    response = api.get(API_URL, {"format": "csv", "q": "13812345678"})
    assert response.status_code == 405 and "POST" in response.json()["detail"]
    assert not AuditEvent.objects.filter(action=events.CUSTOMERS_EXPORTED).exists()


def test_export_api_takes_its_filters_from_a_json_body():
    user = rep()
    wanted = make_customer(user, phone="13812345678")
    make_customer(user, phone="13912345678")
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(API_URL, {"format": "csv", "q": "13812345678"}, format="json")
    assert response.status_code == 200 and response["X-Export-Count"] == "1"
    assert wanted.code.encode() in b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action=events.CUSTOMERS_EXPORTED)
    assert event.data["filters"] == ["q"]


def test_a_long_export_costs_a_fixed_number_of_queries_per_chunk(assert_queries, monkeypatch):
    """Streamed in chunks: each chunk costs the same few queries (cards, documents, keys),
    none per row, in clear as masked."""
    from customers.services import exports

    monkeypatch.setattr(exports, "CHUNK", 4)
    owner = rep(team=TeamFactory(name="North"))
    for _i in range(12):
        make_customer(owner)

    def export(clear):
        encryption.clear_key_cache()
        options = {"clear": True, "reason": "contract"} if clear else {}
        result = customer_export(actor=owner, filter_params={}, fmt="csv", **options)
        return read_csv(result)

    # 12 rows, 3 chunks: EXPORT_QUERIES holds the first chunk's; each further chunk costs
    # its cards and their documents, and one query on the keys database.
    with assert_queries(default=EXPORT_QUERIES["default"] + 2 * 2, keys=3):
        assert len(export(clear=False)) == 13
    # In clear: the rows the user may reveal, counted once and asked once per chunk.
    with assert_queries(default=EXPORT_QUERIES["default"] + 2 * 2 + 1 + 3, keys=3):
        rows = export(clear=True)
    assert len(rows) == 13 and "*" not in rows[1][3]
