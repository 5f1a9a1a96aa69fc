"""The customer's language (the card's ``language``): on the card, its form, the API and the
import; a campaign e-mail's footer and the page of its unsubscribe link follow it, and the
language the message is written in when it is not known."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm.tests.factories import TeamFactory
from customers import services
from customers.card_fields import EDITABLE_FIELDS, ORGANISATION_FIELDS, PLAIN_FIELDS
from customers.merge_policies import MERGEABLE_FIELDS, ORGANISATION_ONLY_FIELDS
from customers.models import BusinessType, Campaign, Customer, ImportJob
from customers.selectors import import_error_rows
from customers.services import campaigns, imports
from customers.synthetic import mobile
from customers.tests.factories import api_client_for, make_customer, manager_of, rep
from customers.tests.test_campaigns import LINK, MARKETING, customer_with, new_campaign, send_now
from customers.tests.test_workspace_locale import run_import

pytestmark = pytest.mark.django_db

ENGLISH_FOOTER = "To stop receiving them, open this link:"
ENGLISH_TITLE = "Unsubscribe from marketing messages"


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    """A request in Chinese leaves its language active in the thread: reset it."""
    yield
    translation.deactivate()


@pytest.fixture
def north():
    team = TeamFactory(name="North")
    return manager_of(team), rep(team=team)


def chinese(text: str) -> str:
    with translation.override("zh-hans"):
        translated = translation.gettext(text)
    assert translated != text  # the catalogue has it
    return translated


def client_in(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    return client


def by_address(mailoutbox) -> dict:
    return {message.to[0]: message for message in mailoutbox}


def page_of(client, message, accept: str) -> str:
    link = LINK.search(message.body).group(0)
    response = client.get(link, HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    return response.content.decode()


# --- the field ----------------------------------------------------------------------------


def test_the_language_is_blank_by_default_and_offers_the_sites_languages():
    customer = make_customer(rep())
    assert customer.language == ""
    field = Customer._meta.get_field("language")
    assert [code for code, _name in field.choices] == ["en", "zh-hans"]
    assert field.blank and [code for code, _name in settings.LANGUAGES] == ["en", "zh-hans"]


def test_every_card_holds_a_language_and_a_merge_may_take_it():
    assert "language" in PLAIN_FIELDS and "language" in EDITABLE_FIELDS
    assert "language" not in ORGANISATION_FIELDS  # an individual has one too
    assert "language" in MERGEABLE_FIELDS and "language" not in ORGANISATION_ONLY_FIELDS


def test_the_service_refuses_a_language_the_site_does_not_speak():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        make_customer(rep(), language="fr")
    assert "language" in refused.value.message_dict
    assert not Customer.objects.exists()


# --- the card and its form ----------------------------------------------------------------


def test_the_edit_form_sets_and_clears_the_language_and_the_card_shows_it(north):
    _manager, owner = north
    customer = make_customer(owner)
    client = client_in(owner, "zh-hans")
    url = reverse("customers:edit", args=[customer.pk])
    form = client.get(url).content.decode()
    assert '<select name="language"' in form
    assert '<option value="zh-hans">简体中文</option>' in form
    with translation.override("en"):
        english_form = client_in(owner, "en").get(url).content.decode()
    assert '<option value="" selected>Not known</option>' in english_form

    def post(language):
        customer.refresh_from_db()
        response = client.post(
            url,
            {
                "kind": "individual",
                "business_type": customer.business_type_id,
                "version": customer.version,
                "language": language,
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        customer.refresh_from_db()

    post("zh-hans")
    assert customer.language == "zh-hans"
    assert '<option value="zh-hans" selected>' in client.get(url).content.decode()
    profile = client.get(reverse("customers:tab", args=[customer.pk, "profile"])).content
    assert '语言</dt><dd class="col-sm-8">简体中文</dd>' in profile.decode()

    post("")
    assert customer.language == ""
    profile = client.get(reverse("customers:tab", args=[customer.pk, "profile"])).content
    assert '语言</dt><dd class="col-sm-8">—</dd>' in profile.decode()


def test_the_create_form_takes_the_language_of_an_individual(north):
    _manager, owner = north
    response = client_in(owner, "en").post(
        reverse("customers:create"),
        {
            "kind": "individual",
            "name": "王芳",
            "business_type": BusinessType.objects.get(code="other").pk,
            "phone": mobile(),
            "language": "en",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get().language == "en"


def test_the_create_form_refuses_an_unknown_language(north):
    _manager, owner = north
    response = client_in(owner, "en").post(
        reverse("customers:create"),
        {
            "kind": "individual",
            "name": "王芳",
            "business_type": BusinessType.objects.get(code="other").pk,
            "phone": mobile(),
            "language": "fr",
        },
    )
    assert response.status_code == 200
    assert "language" in response.context["form"].errors
    assert not Customer.objects.exists()


# --- the API ------------------------------------------------------------------------------

CREATE = {
    "kind": "individual",
    "name": "李娜",
    "business_type": "other",
    "phone": "13900003333",
}


def test_the_api_round_trips_the_language(north):
    _manager, owner = north
    api = api_client_for(owner)
    created = api.post("/api/v1/customers/", {**CREATE, "language": "zh-hans"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["language"] == "zh-hans"
    pk = created.json()["id"]
    got = api.get(f"/api/v1/customers/{pk}/").json()
    assert got["language"] == "zh-hans"

    patched = api.patch(
        f"/api/v1/customers/{pk}/", {"version": got["version"], "language": "en"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["language"] == "en"
    assert Customer.objects.get(pk=pk).language == "en"

    cleared = api.patch(
        f"/api/v1/customers/{pk}/",
        {"version": patched.json()["version"], "language": ""},
        format="json",
    )
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["language"] == ""
    assert Customer.objects.get(pk=pk).language == ""


def test_the_api_refuses_an_unknown_language_and_leaves_it_blank_when_not_given(north):
    _manager, owner = north
    api = api_client_for(owner)
    refused = api.post("/api/v1/customers/", {**CREATE, "language": "fr"}, format="json")
    assert refused.status_code == 400 and "language" in refused.json()
    assert not Customer.objects.exists()
    created = api.post("/api/v1/customers/", CREATE, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["language"] == ""


# --- the import ---------------------------------------------------------------------------


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.CRM_UPLOAD_DIR = tmp_path
    return tmp_path


@pytest.mark.parametrize(
    ("header", "cell", "language"),
    [
        ("语言", "en", "en"),
        ("语言", "English", "en"),
        ("language", "ENGLISH", "en"),
        ("语言", "zh-hans", "zh-hans"),
        ("language", "zh-Hans", "zh-hans"),
        ("语言", "中文", "zh-hans"),
        ("语言", "简体中文", "zh-hans"),
        ("语言", "Simplified Chinese", "zh-hans"),
        ("语言", "", ""),
    ],
)
def test_the_import_reads_the_optional_language_column(
    django_capture_on_commit_callbacks, upload_dir, header, cell, language
):
    rows = [["名称", "类型", "手机", "业种", header], ["王芳", "个人", mobile(), "other", cell]]
    job = run_import(django_capture_on_commit_callbacks, rep(), rows)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.rows_imported == 1
    assert Customer.objects.get().language == language


def test_the_import_without_the_column_leaves_the_language_not_known(
    django_capture_on_commit_callbacks, upload_dir
):
    rows = [["名称", "类型", "手机", "业种"], ["王芳", "个人", mobile(), "other"]]
    job = run_import(django_capture_on_commit_callbacks, rep(), rows)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert Customer.objects.get().language == ""


def test_the_import_refuses_an_unknown_language_naming_the_column(
    django_capture_on_commit_callbacks, upload_dir
):
    rows = [
        ["名称", "类型", "手机", "业种", "语言"],
        ["王芳", "个人", mobile(), "other", "French"],
        ["李娜", "个人", mobile(), "other", "zh"],
    ]
    job = run_import(django_capture_on_commit_callbacks, rep(), rows, dry_run=True)
    assert sorted((e["line"], e["column"]) for e in job.errors) == [
        (2, "language"),
        (3, "language"),
    ]
    with translation.override("en"):
        shown = import_error_rows(job.errors)
    assert {row["named"] for row in shown} == {"语言"}  # as the file named it
    assert {row["message"] for row in shown} == {
        "Unknown language; use en (English) or zh-hans (简体中文, 中文)."
    }
    assert not Customer.objects.exists()


def test_the_row_by_row_import_path_writes_the_language():
    """The fallback path (``write``) of a batch that met a raced duplicate."""
    checker = imports.CustomerChecker(rep())
    cells = {
        "name": "王芳",
        "kind": "个人",
        "phone": mobile(),
        "business_type": "other",
        "language": "简体中文",
    }
    row = checker.check(2, cells)
    assert row.errors == []
    checker.write(row)
    assert Customer.objects.get().language == "zh-hans"


# --- campaigns ----------------------------------------------------------------------------


def test_each_customer_gets_the_footer_and_page_in_their_own_language(
    north, client, mailoutbox, django_capture_on_commit_callbacks
):
    manager, member = north
    customer_with(member, email="zh@example.com", consents=MARKETING, language="zh-hans")
    customer_with(member, email="en@example.com", consents=MARKETING, language="en")
    english = new_campaign(manager)  # written in English
    assert campaigns.campaign_language(english) == "en"
    send_now(manager, english, django_capture_on_commit_callbacks)
    messages = by_address(mailoutbox)
    assert set(messages) == {"zh@example.com", "en@example.com"}

    to_chinese = messages["zh@example.com"]
    assert chinese(ENGLISH_FOOTER) in to_chinese.body and ENGLISH_FOOTER not in to_chinese.body
    assert to_chinese.body.startswith(english.body)  # the message itself is as written
    html = to_chinese.alternatives[0][0]
    assert '<p lang="zh-hans"' in html and chinese("Unsubscribe") in html
    page = page_of(client, to_chinese, accept="en")
    assert '<html lang="zh-hans">' in page and chinese(ENGLISH_TITLE) in page

    to_english = messages["en@example.com"]
    assert ENGLISH_FOOTER in to_english.body and chinese(ENGLISH_FOOTER) not in to_english.body
    assert '<p lang="en"' in to_english.alternatives[0][0]
    page = page_of(client, to_english, accept="zh-hans")
    assert '<html lang="en">' in page and ENGLISH_TITLE in page


def test_a_chinese_message_to_an_english_reader_has_an_english_footer(
    north, client, mailoutbox, django_capture_on_commit_callbacks
):
    manager, member = north
    customer_with(member, email="en@example.com", consents=MARKETING, language="en")
    campaign = new_campaign(manager, subject="春季新品", body="尊敬的客户：春季新品已到店。")
    send_now(manager, campaign, django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    assert ENGLISH_FOOTER in message.body and chinese(ENGLISH_FOOTER) not in message.body
    assert '<html lang="en">' in page_of(client, message, accept="zh-hans")


@pytest.mark.parametrize(
    ("subject", "body", "language"),
    [
        ("春季新品", "尊敬的客户：春季新品已到店。", "zh-hans"),
        ("What is new this spring", "Dear customer,\nour spring range is here.", "en"),
    ],
)
def test_a_customer_whose_language_is_not_known_reads_the_messages_language(
    north, client, mailoutbox, django_capture_on_commit_callbacks, subject, body, language
):
    manager, member = north
    customer_with(member, email="someone@example.com", consents=MARKETING)
    campaign = new_campaign(manager, subject=subject, body=body)
    send_now(manager, campaign, django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    footer = chinese(ENGLISH_FOOTER) if language == "zh-hans" else ENGLISH_FOOTER
    assert footer in message.body
    other = "zh-hans" if language == "en" else "en"
    assert f'<html lang="{language}">' in page_of(client, message, accept=other)


def test_the_unsubscribe_page_follows_a_language_set_after_sending(
    north, client, mailoutbox, django_capture_on_commit_callbacks
):
    """The page reads the card when it opens: a language recorded since the message went
    out is the one the customer reads now."""
    manager, member = north
    customer = customer_with(member, email="li@example.com", consents=MARKETING)
    send_now(manager, new_campaign(manager), django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    assert '<html lang="en">' in page_of(client, message, accept="en")
    services.customer_update(
        actor=member, customer_id=customer.pk, version=1, changes={"language": "zh-hans"}
    )
    page = page_of(client, message, accept="en")
    assert '<html lang="zh-hans">' in page and chinese(ENGLISH_TITLE) in page
    done = client.post(LINK.search(message.body).group(0), HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200
    assert chinese("You are unsubscribed") in done.content.decode()


def test_the_unsubscribe_page_of_a_merged_card_reads_the_surviving_cards_language(north):
    manager, member = north
    survivor = customer_with(member, email="a@example.com", consents=MARKETING, language="en")
    duplicate = customer_with(
        member, email="a2@example.com", consents=MARKETING, language="zh-hans"
    )
    token = campaigns.unsubscribe_token(duplicate, new_campaign(manager))
    assert campaigns.unsubscribe_language(token) == "zh-hans"
    services.customer_merge(actor=manager, survivor_id=survivor.pk, duplicate_id=duplicate.pk)
    assert campaigns.unsubscribe_language(token) == "en"


def test_unsubscribe_language_falls_back_to_the_campaign_then_to_none(north):
    manager, member = north
    customer = customer_with(member, email="a@example.com", consents=MARKETING)
    written_in_chinese = new_campaign(manager, subject="中秋问候", body="祝您中秋快乐。")
    token = campaigns.unsubscribe_token(customer, written_in_chinese)
    assert campaigns.unsubscribe_language(token) == "zh-hans"
    assert campaigns.unsubscribe_language(campaigns.unsubscribe_token(customer, 999999)) is None
    assert campaigns.unsubscribe_language(token[:-2] + "xx") is None


def test_recipient_language_prefers_a_known_customer_language():
    english = Campaign(subject="Spring", body="Our spring range is here.")
    written_in_chinese = Campaign(subject="春季", body="春季新品已到店。")
    assert campaigns.recipient_language(english, "zh-hans") == "zh-hans"
    assert campaigns.recipient_language(written_in_chinese, "en") == "en"
    assert campaigns.recipient_language(english, "") == "en"
    assert campaigns.recipient_language(written_in_chinese, "") == "zh-hans"
    # A code the site no longer speaks (settings changed) counts as not known.
    assert campaigns.recipient_language(english, "fr") == "en"


def test_customers_languages_add_no_query_to_sending(north, mailoutbox, assert_queries):
    """The language comes with the consent check's row: sending to customers with a
    language runs exactly the queries of sending to customers without one."""
    manager, member = north

    def send_to(languages: list[str]):
        campaign = new_campaign(manager, name=f"News {len(mailoutbox)}")
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
        with assert_queries() as counts:
            result = campaigns.campaign_send(campaign_id=campaign.pk)
        assert result["sent"] == len(languages)
        return counts.as_dict()

    first = [customer_with(member, email=f"b{n}@example.com", consents=MARKETING) for n in range(3)]
    without_languages = send_to(["", "", ""])
    for customer, language in zip(first, ["zh-hans", "en", "zh-hans"], strict=True):
        services.customer_update(
            actor=member, customer_id=customer.pk, version=1, changes={"language": language}
        )
    with_languages = send_to(["zh-hans", "en", "zh-hans"])
    assert with_languages == without_languages
    footers = sorted(ENGLISH_FOOTER in m.body for m in mailoutbox[-3:])
    assert footers == [False, False, True]


# --- the demo -----------------------------------------------------------------------------


def test_the_demo_gives_its_chinese_named_customers_chinese():
    call_command("seed_demo", stdout=io.StringIO())
    organisations = Customer.objects.filter(kind=Customer.Kind.ORGANISATION)
    assert set(organisations.values_list("language", flat=True)) == {"zh-hans"}
    individuals = Customer.objects.filter(kind=Customer.Kind.INDIVIDUAL)
    assert individuals.filter(language="zh-hans").count() == 19
    assert individuals.filter(language="").count() == 3  # not known: the message's language
