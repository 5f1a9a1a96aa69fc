"""Issue 13's defects that span the apps, each with the test that fails if it comes back:
home pages that repeated the menu as tiles, strings shown untranslated (sort options,
roles, admin group names, stage names, any word on the demo's pages in Chinese), a noisy
`make run`, the project's own 403 page in development, README links leaving the repository,
demo users without Chinese names. The table of every defect and its test is in
docs/workspace.md ("Defects and their tests")."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from crm import roles
from crm.models import User
from crm.tests.factories import TeamFactory, UserFactory
from customers.models import Customer
from customers.tests.factories import make_customer, manager_of, rep

pytestmark = pytest.mark.django_db

BASE = Path(settings.BASE_DIR)


def _visible(html: str) -> str:
    """The text a reader sees: no scripts, styles, tags, URLs or e-mail addresses."""
    html = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<!--.*?-->", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    html = re.sub(r"https?://\S+|\S+@\S+|&[a-z]+;", " ", html)
    return re.sub(r"\s+", " ", html)


# --- item 1: every home page repeated the menu as tiles ------------------------------------


@pytest.mark.parametrize(
    ("role", "panel"),
    [
        (roles.SALES_REP, "by-stage"),
        (roles.SALES_MANAGER, "team-table"),
        (roles.GENERAL_MANAGER, "company-figures"),
        (roles.SERVICE_STAFF, "shared"),
        (roles.DPO, "privacy-figures"),
        (roles.AUDITOR, "privacy-figures"),
    ],
)
def test_no_home_page_repeats_the_menu_as_tiles(client, role, panel):
    team = TeamFactory(name="North")
    user = manager_of(team) if role == roles.SALES_MANAGER else UserFactory(role=role, team=team)
    make_customer(rep(team=team))
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert f'data-testid="{panel}"' in html
    assert "What you can open" not in html and 'class="card h-100 text-decoration-none"' not in html


def test_the_reps_stages_are_named_in_his_language(client):
    owner = rep(team=TeamFactory(name="North"))
    make_customer(owner)
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("home")).content.decode()
    table = html[html.index('data-testid="by-stage"') :]
    table = table[: table.index("</table>")]
    assert "咨询" in table and "Inquiry" not in table


# --- item 2: the list was 962 px wide on a 390 px phone --------------------------------------


def test_the_list_is_a_stack_of_cards_below_768_px(client):
    """The browser test measures the overflow at 390 px (tests/test_browser_workspace.py);
    this one keeps the rule that makes it, without a browser."""
    owner = rep(team=TeamFactory(name="North"))
    make_customer(owner)
    client.force_login(owner)
    html = client.get(reverse("customers:list")).content.decode()
    assert "css/workspace.css" in html and "customer-table" in html
    css = (BASE / "static/css/workspace.css").read_text()
    phone = css[css.index("@media (max-width: 767.98px)") :]
    phone = phone[: phone.index("\n}")]
    assert ".customer-table thead { display: none; }" in phone
    assert "display: block; width: 100%;" in phone and "td.optional-mobile" in phone


# --- item 6/7: group codes and untranslated role names --------------------------------------


def test_sales_manager_reads_销售经理():
    with translation.override("zh-hans"):
        assert roles.label(roles.SALES_MANAGER) == "销售经理"
        assert roles.label(roles.SALES_REP) == "销售代表"


def test_admin_names_roles_not_group_codes(client):
    admin = UserFactory(role=roles.ADMIN, is_staff=True)
    target = UserFactory(role=roles.SALES_MANAGER)
    client.force_login(admin)
    codes = [code for code in roles.ROLES if "_" in code]
    pages = [
        reverse("admin:crm_user_changelist"),
        reverse("admin:crm_user_change", args=[target.pk]),
        reverse("admin:auth_group_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _visible(response.content.decode())
        assert "Sales manager" in text, url
        assert not [code for code in codes if code in text], url


# --- item 7: sort options and every word of the demo's pages in Chinese ---------------------


def test_sort_options_are_translated():
    from customers.filters import CustomerFilter

    with translation.override("zh-hans"):
        labels = [str(label) for value, label in CustomerFilter().form.fields["ordering"].choices]
    assert len(labels) == 9
    assert [label for label in labels if re.search("[A-Za-z]", label)] == []


# Words that are data or names, not interface text: the company's and the teams' names,
# file formats, currency and product codes, the language switch's "English", and the
# test-only plugin app's tab (tests.plugin_app).
ALLOWED_WORDS = {"API", "CSV", "XLSX", "Excel", "CNY", "LED", "ABC", "English"}
ALLOWED_WORDS |= {"Ticket", "Tickets", "tickets", "count"}


def _pages(customer) -> dict[str, list[str]]:
    from customers import card_tabs

    card = reverse("customers:detail", args=[customer.pk])
    tabs = [reverse("customers:tab", args=[customer.pk, tab.key]) for tab in card_tabs.tabs()]
    return {
        "rep1": [
            reverse("home"),
            reverse("customers:list"),
            card,
            *tabs,
            reverse("customers:board"),
            reverse("customers:visit-plan"),
        ],
        "manager1": [reverse("home"), reverse("credit:inbox")],
        "gm": [reverse("home"), reverse("analytics:reports") + "?report=abc"],
        "service1": [reverse("home"), reverse("complaints:board")],
        "dpo": [
            reverse("home"),
            reverse("audit:request-list"),
            reverse("audit:incident-list"),
            reverse("audit:retention"),
            reverse("audit:monitoring"),
        ],
    }


def test_the_demo_pages_in_chinese_show_no_untranslated_words(client):
    """A string shown without a translation fails here, wherever it comes from (a template,
    a choice label, a registry, a panel): every page each demo user opens first, in
    Chinese, holds no English word but names and codes."""
    call_command("seed_demo", stdout=io.StringIO())
    customer = Customer.objects.filter(owner__username="rep1").order_by("code").first()
    allowed = set(ALLOWED_WORDS)
    allowed |= set(re.findall("[A-Za-z]+", settings.CRM["COMPANY_NAME"]))
    for username in User.objects.values_list("username", flat=True):
        allowed |= set(re.findall("[A-Za-z]+", username))
    from crm.models import Team

    for name in Team.objects.values_list("name", flat=True):
        allowed |= set(re.findall("[A-Za-z]+", name))
    found = {}
    for username, urls in _pages(customer).items():
        client.force_login(User.objects.get(username=username))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            text = _visible(response.content.decode())
            # Codes such as C0000001, PO-A-1, D-OIL are data.
            text = re.sub(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)+-?\b|\b[A-Z]+\d+\b", " ", text)
            words = set(re.findall(r"[A-Za-z][A-Za-z'’]{2,}", text)) - allowed
            if words:
                found[f"{username} {url}"] = sorted(words)
    assert found == {}, "\n".join(f"{page}: {words}" for page, words in found.items())


def test_import_errors_name_the_column_as_the_file_named_it(
    client, django_capture_on_commit_callbacks, settings, tmp_path
):
    from customers.models import ImportJob
    from customers.selectors import import_error_rows
    from customers.tests.test_imports import csv_file, run_import

    settings.CRM_UPLOAD_DIR = tmp_path
    owner = rep(team=TeamFactory(name="North"))
    rows = [
        ["名称", "类型", "手机", "证件号码", "业种", "email"],
        ["客户甲", "个人", "12345", "", "other", "not-an-address"],
    ]
    job = run_import(django_capture_on_commit_callbacks, owner, csv_file(rows))
    assert job.status == ImportJob.Status.FAILED or job.rows_invalid == 1
    rows = {row["column"]: row.get("named") for row in import_error_rows(job.errors)}
    assert rows["phone"] == "手机"  # as the file named it, beside the key
    assert rows["email"] is None  # a header that is the key needs no other name
    client.force_login(owner)
    html = client.get(reverse("customers:import-detail", args=[job.pk])).content.decode()
    assert "<code>手机</code>" in html and "<code>phone</code>" not in html


def test_campaign_footer_and_unsubscribe_page_in_the_customers_language(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    """A campaign written in Chinese gets a Chinese footer, and its unsubscribe page opens
    in Chinese whatever the browser asks for; one in English stays English."""
    from customers.tests.test_campaigns import (
        LINK,
        MARKETING,
        customer_with,
        new_campaign,
        send_now,
    )

    team = TeamFactory(name="North")
    manager, member = manager_of(team), rep(team=team)
    customer_with(member, email="li@example.com", consents=MARKETING)
    footer = "You receive this message from"
    with translation.override("zh-hans"):
        chinese_footer = translation.gettext("To stop receiving them, open this link:")
        chinese_title = translation.gettext("Unsubscribe")
    assert chinese_footer != "To stop receiving them, open this link:"

    chinese = new_campaign(manager, subject="春季新品", body="尊敬的客户：春季新品已到店。")
    send_now(manager, chinese, django_capture_on_commit_callbacks)
    message = mailoutbox[-1]
    assert chinese_footer in message.body and footer not in message.body
    link = LINK.search(message.body).group(0)
    page = client.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in page and chinese_title in page

    english = new_campaign(manager, name="Autumn")
    send_now(manager, english, django_capture_on_commit_callbacks)
    message = mailoutbox[-1]
    assert footer in message.body and chinese_footer not in message.body
    link = LINK.search(message.body).group(0)
    page = client.get(link, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in page


# --- item 8: newcomer polish ----------------------------------------------------------------


def test_make_run_is_quiet_and_ends_with_the_logins():
    makefile = (BASE / "Makefile").read_text()
    run = makefile[makefile.index("\nrun:") : makefile.index("\n\n", makefile.index("\nrun:"))]
    for step in ("generate_env", "migrate --noinput --database keys", "seed_demo --if-empty"):
        line = next(line for line in run.splitlines() if step in line)
        assert "$(call quietly," in line, step
    # The logins come once the server listens, so after its banner, however slow the start.
    assert "demo_logins --wait-for 127.0.0.1:8000 &" in run and "exec" in run
    # A manage.py command prints no start-up banner of its own (django-axes').
    env = {**os.environ, "CRM_ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "crm.settings"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_logins"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stderr == ""
    assert result.stdout.rstrip().splitlines()[-1].strip().startswith("Open http")
    assert settings.LOGGING["loggers"]["django.utils.autoreload"]["level"] == "WARNING"


def test_demo_logins_waits_for_the_server_then_prints_the_table():
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        out = io.StringIO()
        call_command("demo_logins", wait_for=f"127.0.0.1:{server.getsockname()[1]}", stdout=out)
    assert "rep1" in out.getvalue() and "Password for every demo login" in out.getvalue()


def test_own_403_page_even_in_development(client, settings):
    settings.DEBUG = True
    client.force_login(UserFactory(role=roles.ADMIN))
    response = client.get(reverse("customers:list"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You are not allowed to open this page" in html and "Traceback" not in html


def test_readme_and_docs_link_only_inside_the_repository():
    outside = []
    for document in [BASE / "README.md", *sorted((BASE / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                if "DESIGN.md" in target or "/shared/" in target:
                    outside.append(f"{document.name}: {target}")
                continue
            path = (document.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(BASE.resolve()) or not path.exists():
                outside.append(f"{document.name}: {target}")
    assert outside == []


def test_demo_users_show_their_chinese_names(client):
    call_command("seed_demo", stdout=io.StringIO())
    rep1 = User.objects.get(username="rep1")
    customer = Customer.objects.filter(owner=rep1).order_by("code").first()
    client.force_login(rep1)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "孙军" in _visible(html)
    owner_line = html[html.index("Owner") :][:200]
    assert "孙军" in owner_line and "rep1" not in owner_line
    # The card's tabs name staff the same way: never the login.
    for tab in ("stages", "consents", "interactions", "timeline", "identity"):
        text = _visible(
            client.get(reverse("customers:tab", args=[customer.pk, tab])).content.decode()
        )
        assert "孙军" in text and "rep1" not in text, tab
    latin = UserFactory(first_name="Jun", last_name="Sun")
    assert latin.get_full_name() == "Jun Sun"  # Latin names keep Django's order
