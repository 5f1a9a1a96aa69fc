"""Object ids in URLs are ASCII digits only (issue 6, item 8).

``"²".isdigit()`` is true and ``int("²")`` raises (a 500); ``int("١٥")`` is 15 and
``int("１５")`` too (the card would open). Every URL of the project that takes a parameter
is walked, HTML pages, API and admin alike, and each id in it is replaced in turn by such
a value: the answer is 404, never 500 and never the object.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, get_resolver
from django.utils.regex_helper import normalize

from crm.ids import OBJECT_ID_REGEX, is_object_id
from crm.tests.factories import UserFactory
from customers.models import Customer
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

# URL parameters that are not object ids, with a value that matches them.
NOT_IDS = {
    "format": "json",
    "tab": "profile",
    "token": "x",
    "uidb64": "x",  # a set-password link's user, base64: an invalid one is the link's own page
    "app_label": None,
    "url": None,
}
# Admin models whose primary key is text: an unknown key sends back to the admin index.
TEXT_KEYS = ("/admin/authtoken/tokenproxy/",)


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        regex = pattern.pattern.regex.pattern.removeprefix("^")
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + regex)
        else:
            yield from normalize(prefix + regex)


def id_urls():
    """``(format string, id parameters, other parameters)`` of every URL that takes an id."""
    found = {}
    for template, params in _patterns(get_resolver().url_patterns):
        if any(NOT_IDS.get(name, "") is None for name in params):
            continue  # the admin's catch-all and app index
        ids = [name for name in params if name not in NOT_IDS]
        if ids:
            found[template] = ids
    return sorted(found.items())


def non_ascii_digits(number: int) -> list[str]:
    text = str(number)
    return [
        "²",
        "".join(chr(0x0660 + int(d)) for d in text),  # Arabic-Indic
        "".join(chr(0xFF10 + int(d)) for d in text),  # full-width
    ]


def test_every_id_url_is_walked():
    templates = dict(id_urls())
    assert "customers/%(pk)s/" in templates
    assert "api/v1/customers/%(pk)s/" in templates
    assert "api/v1/audit/events/%(sequence)s/" in templates
    assert "admin/customers/customer/%(object_id)s/change/" in templates
    assert len(templates) > 40


def test_ids_are_ascii_digits():
    assert is_object_id("15") and is_object_id(15)
    for value in ("²", "١٥", "１５", "", "1.0", "-1", " 1", True):
        assert not is_object_id(value)
    assert OBJECT_ID_REGEX == "[0-9]+"


def test_non_ascii_digits_in_any_id_give_404(client):
    customer = make_customer(name="张明华", phone="13812345678")
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    values = {"content_type_id": ContentType.objects.get_for_model(Customer).pk}
    failures = []
    for template, ids in id_urls():
        for bad_name in ids:
            for bad in non_ascii_digits(customer.pk):
                params = {name: str(values.get(name, customer.pk)) for name in ids}
                params |= {name: value for name, value in NOT_IDS.items() if value}
                params[bad_name] = bad
                url = "/" + template % params
                # Followed: the admin's ``<id>/`` only redirects to ``<id>/change/``.
                response = client.get(url, follow=True)
                text_key = url.startswith(TEXT_KEYS)  # unknown key: back to the admin index
                if response.status_code != 404 and not (text_key and response.status_code == 200):
                    failures.append((url, response.status_code))
                elif customer.code in response.content.decode():
                    failures.append((url, "shows the object"))
    assert failures == []
