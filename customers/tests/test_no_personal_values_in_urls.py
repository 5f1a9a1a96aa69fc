"""No personal value in URLs or logs (issue 6, item 6).

A search by phone and by ID number (the page's htmx POST, the API's POST, a GET that is
refused) and an export run with request logging on at DEBUG; neither value may appear in
any log record, in any URL the responses hold (Location, HX-Push-Url, links and form
targets of the HTML, ``next``/``previous`` of the API), and every response sends
``Referrer-Policy: same-origin``.
"""

from __future__ import annotations

import logging
import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.urls import reverse
from rest_framework.test import APIClient

from crm import roles
from crm.log_filters import StripQueryStrings, strip_query_strings
from crm.tests.factories import UserFactory
from customers.filters import is_identifier_term
from customers.services import DocumentInput
from customers.synthetic import resident_id
from customers.tests.factories import make_customer, rep

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
SEARCH_API = "/api/v1/customers/search/"
EXPORT_API = "/api/v1/customers/export/"
LOGGERS = ("", "django", "django.request", "django.server", "django.security")
URL_ATTRIBUTES = re.compile(r'(?:href|action|formaction|src|hx-get|hx-post|hx-push-url)="([^"]*)"')


@pytest.fixture
def logs(caplog):
    """Every record of the request loggers at DEBUG; ``django.server`` does not propagate."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    server = logging.getLogger("django.server")
    server.addHandler(caplog.handler)
    yield caplog
    server.removeHandler(caplog.handler)


def record_texts(records):
    for record in records:
        yield record.getMessage()
        yield repr(record.args)
        yield record.exc_text or ""


def urls_of(response) -> list[str]:
    found = [
        response.get(header, "")
        for header in ("Location", "HX-Push-Url", "HX-Redirect", "HX-Location", "Content-Location")
    ]
    content_type = response.get("Content-Type", "")
    if content_type.startswith("text/html") and not getattr(response, "streaming", False):
        found += URL_ATTRIBUTES.findall(response.content.decode())
    if content_type.startswith("application/json"):
        body = response.json()
        if isinstance(body, dict):
            found += [str(body.get("next") or ""), str(body.get("previous") or "")]
    return found


def test_search_and_export_by_phone_and_id_leave_no_value_in_urls_or_logs(client, logs):
    number = resident_id()
    owner = rep()
    customer = make_customer(
        owner,
        name="张明华",
        phone=PHONE,
        documents=[DocumentInput("resident_id", number)],
    )
    for _ in range(30):  # more than a page, so that the result has paging links
        make_customer(owner)
    gm = UserFactory(role=roles.GENERAL_MANAGER)
    client.force_login(gm)
    api = APIClient()
    api.force_authenticate(gm)
    values = (PHONE, number)
    responses = []

    for value in values:
        # The page: htmx POST of the filter form, then a plain POST (no JavaScript).
        for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
            page = client.post(reverse("customers:list"), {"q": value}, **headers)
            assert page.status_code == 200 and customer.code in page.content.decode()
            responses.append(page)
        # An old link with the term in the address: redirected without it.
        old_link = client.get(reverse("customers:list"), {"q": value, "status": "active"})
        assert old_link.status_code == 302 and value not in old_link["Location"]
        responses.append(old_link)
        # The API: POST finds it, GET refuses it and points to the POST endpoint.
        found = api.post(SEARCH_API, {"q": value}, format="json")
        assert [row["code"] for row in found.json()["results"]] == [customer.code]
        refused = api.get("/api/v1/customers/", {"q": value})
        assert refused.status_code == 400 and SEARCH_API in refused.json()["q"][0]
        responses += [found, refused]
        # Exports: POST with the filters in the body; a GET with filters is refused.
        html_export = client.post(reverse("customers:export"), {"format": "csv", "q": value})
        assert html_export.status_code == 200 and html_export["X-Export-Count"] == "1"
        api_export = api.post(EXPORT_API, {"format": "xlsx", "q": value}, format="json")
        assert api_export.status_code == 200 and api_export["X-Export-Count"] == "1"
        responses += [html_export, api_export]
        responses.append(client.get(reverse("customers:export"), {"format": "csv", "q": value}))
        responses.append(api.get(EXPORT_API, {"format": "csv", "q": value}))
        assert [r.status_code for r in responses[-2:]] == [405, 405]
        # A missing card (404) and a forbidden page (403) log their path as warnings.
        responses.append(client.get("/customers/999999/", {"q": value}))
        responses.append(client.get("/no/such/page/", {"q": value}))
        forbidden = UserFactory(role=roles.ADMIN)
        other = APIClient()
        other.force_authenticate(forbidden)
        responses.append(other.get("/api/v1/customers/", {"q": value}))
        responses.append(other.post(SEARCH_API, {"q": value}, format="json"))
        assert [r.status_code for r in responses[-4:]] == [404, 404, 403, 403]
        # The development server's request line, as ``runserver`` writes it.
        handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
        handler.request = None
        handler.requestline = f"GET /customers/?q={value}&page=2 HTTP/1.1"
        handler.log_request(200, 1234)

    # Paging the search result posts the form with the page: no link carries the term.
    second = client.post(reverse("customers:list"), {"q": "", "page": "2"}, HTTP_HX_REQUEST="true")
    assert 'name="page" value="1"' in second.content.decode()
    responses.append(second)

    assert logs.records, "request logging was on"
    assert any(r.name == "django.server" for r in logs.records)
    assert any(r.name == "django.request" and r.levelno == logging.WARNING for r in logs.records)
    for text in record_texts(logs.records):
        for value in values:
            assert value not in text
    for response in responses:
        assert response["Referrer-Policy"] == "same-origin"
        for url in urls_of(response):
            for value in values:
                assert value not in url, (response.request, url)
            assert "q=" not in url


def test_list_page_posts_its_search_and_never_pushes_it_into_the_address(client):
    owner = rep()
    make_customer(owner)
    client.force_login(owner)
    html = client.get(reverse("customers:list")).content.decode()
    form = re.search(r'<form id="customer-filter"[^>]*>', html).group(0)
    assert 'method="post"' in form and "hx-post=" in form
    assert "hx-push-url" not in form and "hx-get" not in form
    assert "csrfmiddlewaretoken" in html
    assert not re.search(r'href="[^"]*export', html)  # export buttons post a form


@pytest.mark.parametrize(
    ("term", "refused"),
    [
        ("13812345678", True),
        ("138 1234 5678", True),
        ("+86 138-1234-5678", True),
        ("１３８１２３４５６７８", True),  # full-width digits
        ("110101199003071234", True),
        ("E12345678", True),
        ("zhang@example.com", True),
        ("明华", False),
        ("C0000012", False),
        ("Acme Trading", False),
    ],
)
def test_identifier_shaped_terms(term, refused):
    assert is_identifier_term(term) is refused


def test_the_filter_strips_query_strings_from_messages_and_arguments():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /customers/?q={PHONE} HTTP/1.1", "200", 12),
        None,
    )
    assert StripQueryStrings().filter(record) is True
    assert record.getMessage() == '"GET /customers/ HTTP/1.1" 200 12'
    assert strip_query_strings(f"https://crm.example.com/x/?q={PHONE}#top") == (
        "https://crm.example.com/x/#top"
    )
    assert strip_query_strings("Why? Because.") == "Why? Because."
    wired = settings.LOGGING
    assert "strip_query_strings" in wired["handlers"]["console"]["filters"]
    for name in ("django.request", "django.server"):
        assert "strip_query_strings" in wired["loggers"][name]["filters"]
        assert any(isinstance(f, StripQueryStrings) for f in logging.getLogger(name).filters)


def test_gunicorn_logs_paths_without_query_or_referer(caplog):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "docker" / "gunicorn.conf.py"))
    access_format = conf["access_log_format"]
    assert "%(U)s" in access_format
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "{referer}i", "{query_string}e"):
        assert leaky not in access_format
    cfg = Config()
    cfg.set("access_log_format", access_format)
    cfg.set("accesslog", "-")
    log = Logger(cfg)
    conf["on_starting"](None)
    log.access_log.addHandler(caplog.handler)
    try:
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": f"/customers/?q={PHONE}",
            "PATH_INFO": "/customers/",
            "QUERY_STRING": f"q={PHONE}",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "10.0.0.1",
            "HTTP_REFERER": f"https://crm.example.com/customers/?q={PHONE}",
        }
        response = SimpleNamespace(status="200 OK", sent=12, headers=[])
        request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
        log.access(response, request, environ, timedelta(milliseconds=5))
    finally:
        log.access_log.removeHandler(caplog.handler)
    (record,) = [r for r in caplog.records if r.name == "gunicorn.access"]
    assert '"GET /customers/ HTTP/1.1" 200' in record.getMessage()
    assert PHONE not in record.getMessage() and PHONE not in repr(dict(record.args))
