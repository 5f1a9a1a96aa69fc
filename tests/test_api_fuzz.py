"""API fuzzing (issue 14 item 11): hypothesis-driven requests against every operation of
``/api/schema/`` that takes a JSON body or query parameters, signed in as a sales rep (the
customer's owner) and as a general manager.

For each operation a fixed, derandomised handful of bodies is drawn from the operation's
own request schema, every field filled from hostile values: over-long strings, wrong types,
emoji, right-to-left and zero-width marks, full-width digits, NUL, SQL and HTML. Each
answer must be no 500 (the test client re-raises a server error), and every 4xx must be a
JSON body; a 400 names the fields it refuses. Then HTML stored through the API must come
back escaped on the customer card and the customer list.

The people and objects the paths name come from the authorisation matrix's world (shared
by the module, built once, rolled back at the end).
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import connections, transaction
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from crm.security.tests.matrix_world import build_world
from tests.test_authorization_matrix import POLICY

EXAMPLES = 3  # per operation and role: the whole module must stay well under 90 s

HTML = '<script>alert(1)</script><img src=x onerror="alert(1)">'
NASTY_TEXT = [
    "",
    " ",
    "x" * 5000,  # over every max_length in the project
    "😀👍🏽🇨🇳",
    "\u202eevil\u202c",  # right-to-left override
    "a\u200bb\u200cc\u200dd\ufeff",  # zero-width marks
    "１２３４５６７８９０",  # full-width digits
    "１３８００１３８０００",  # a full-width mobile number
    "nul\x00byte",
    "'; DROP TABLE customers_customer; --",
    "' OR '1'='1",
    HTML,
    "{{ 7*7 }}{% debug %}",
    "../../etc/passwd",
    "%s%n%x",
    "\ud7ff\ue000",
]
WRONG_TYPES = [None, 0, -1, 2**63, 1.5e308, True, [], {}, ["x"], {"a": "b"}]
FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")

_GENERATOR_SCHEMA = None


def _schema() -> dict:
    global _GENERATOR_SCHEMA
    if _GENERATOR_SCHEMA is None:
        _GENERATOR_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
    return _GENERATOR_SCHEMA


def _deref(node: dict, schema: dict) -> dict:
    seen = 0
    while "$ref" in node and seen < 20:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
        seen += 1
    if "allOf" in node and len(node["allOf"]) == 1:
        return _deref(node["allOf"][0], schema)
    return node


def _value_strategy(node: dict, schema: dict, ids: list[int], depth: int = 0):
    """Hostile and plausible values for one field of the request schema."""
    node = _deref(node, schema)
    wrong = st.sampled_from(WRONG_TYPES)
    if "enum" in node:
        return st.one_of(
            st.sampled_from([v for v in node["enum"] if v is not None] or [""]),
            st.sampled_from(NASTY_TEXT),
            wrong,
        )
    kind = node.get("type")
    if kind == "string":
        plausible = {
            "date": st.sampled_from(["2026-02-30", "２０２６-01-01", "2026-11-01", "0000-00-00"]),
            "date-time": st.sampled_from(["2026-11-01T10:00:00+08:00", "yesterday", "2026-13-01"]),
            "decimal": st.sampled_from(["1e400", "-0.001", "１００", "NaN", "12.50", "9" * 40]),
            "email": st.sampled_from(["a@b.cn", "@@", "ａ@example.com"]),
            "uri": st.sampled_from(["javascript:alert(1)", "https://example.com", "http://"]),
        }.get(node.get("format"), st.sampled_from(NASTY_TEXT))
        return st.one_of(plausible, st.sampled_from(NASTY_TEXT), wrong)
    if kind in ("integer", "number"):
        return st.one_of(
            st.sampled_from(ids),
            st.integers(min_value=-(2**70), max_value=2**70),
            st.sampled_from(["１２", "12abc", "NaN"]),
            wrong,
        )
    if kind == "boolean":
        return st.one_of(st.booleans(), st.sampled_from(["yes", "１", 2]), wrong)
    if kind == "array":
        if depth > 2:
            return st.just([])
        items = _value_strategy(node.get("items", {}), schema, ids, depth + 1)
        return st.one_of(st.lists(items, max_size=3), wrong)
    if kind == "object" and "properties" in node and depth <= 2:
        return st.one_of(_body_strategy(node, schema, ids, depth + 1), wrong)
    return st.one_of(st.sampled_from(NASTY_TEXT), wrong)


def _body_strategy(node: dict, schema: dict, ids: list[int], depth: int = 0):
    node = _deref(node, schema)
    properties = node.get("properties", {})
    fields = {
        name: _value_strategy(child, schema, ids, depth)
        for name, child in properties.items()
        if not _deref(child, schema).get("readOnly")
    }
    required = [name for name in node.get("required", []) if name in fields]
    optional = {name: strategy for name, strategy in fields.items() if name not in required}
    return st.fixed_dictionaries({name: fields[name] for name in required}, optional=optional)


def _operations() -> list[tuple[str, str]]:
    schema = _schema()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            queries = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            if "application/json" in content or queries:
                found.append((method, path))
    return sorted(found)


OPERATIONS = _operations()
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _path_for(path_template: str, world) -> str:
    """Fill ``{id}`` & co. from the world, using the matrix's declared URL arguments."""
    probe = _PLACEHOLDER.sub(lambda m: "2026-10-01" if m.group(1) == "day" else "1", path_template)
    match = resolve(probe)
    if match.view_name not in POLICY:
        pytest.fail(f"{match.view_name} has no row in the authorisation matrix: declare it first")
    args = POLICY[match.view_name].args
    kwargs = {name: world.values[key] for name, key in args.items()}
    names = list(match.kwargs)
    values = iter(kwargs[name] for name in names)
    return _PLACEHOLDER.sub(lambda m: str(next(values)), path_template)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the module, inside one transaction per database, rolled back."""
    with django_db_blocker.unblock():
        atomics = [transaction.atomic(using=alias) for alias in connections]
        for block in atomics:
            block.__enter__()
        try:
            yield build_world()
        finally:
            for alias in connections:
                transaction.set_rollback(True, using=alias)
            for block in reversed(atomics):
                block.__exit__(None, None, None)


def _check_answer(response, sent: dict, where: str) -> None:
    status = response.status_code
    assert status < 500, f"{where}: {status} for {sent!r}"
    if 400 <= status < 500:
        assert response["Content-Type"].startswith("application/json"), (
            f"{where}: {status} is not JSON: {response.content[:200]!r}"
        )
        body = json.loads(response.content)
        assert isinstance(body, dict) and body, f"{where}: empty {status} body"
        if status == 400:
            # Field errors are keyed by field: those sent, or the record's own (a "status"
            # that forbids the action); only "detail"/"non_field_errors" may stand for none.
            assert all(FIELD_NAME.fullmatch(key) for key in body), f"{where}: {body}"
            assert all(body.values()), f"{where}: a field named without a message: {body}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "gm"])
@pytest.mark.parametrize(("method", "path_template"), OPERATIONS)
def test_hostile_input_never_breaks_the_api(world, role, method, path_template):
    schema = _schema()
    operation = schema["paths"][path_template][method]
    path = _path_for(path_template, world)
    client = APIClient()
    client.force_login(world.users[role])
    ids = [world.values["customer"], world.values["complaint"], 0, -1, 10**12]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        strategy = _body_strategy(content["application/json"]["schema"], schema, ids)
    else:
        params = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        strategy = st.fixed_dictionaries(
            {},
            optional={
                p["name"]: st.sampled_from([t for t in NASTY_TEXT if "\x00" not in t] + ["-1"])
                for p in params
            },
        )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(sent=strategy)
    def attempt(sent):
        from django.core.cache import cache

        cache.clear()  # rate limits are not what this fuzzes
        where = f"{method.upper()} {path} as {role}"
        if method == "get":
            response = client.get(path, sent)
        else:
            response = getattr(client, method)(path, sent, format="json")
        _check_answer(response, sent if method != "get" else {}, where)

    attempt()


@pytest.mark.django_db
def test_deep_json_and_wrong_content_type_are_json_400(world):
    client = APIClient()
    client.force_login(world.users["owner"])
    nested = "[" * 5000 + "]" * 5000
    response = client.generic("POST", "/api/v1/customers/", nested, content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    response = client.generic(
        "POST", "/api/v1/customers/", '{"name": "x",', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    response = client.generic("POST", "/api/v1/customers/", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert "detail" in response.json()


@pytest.mark.django_db
def test_stored_html_and_marks_are_rendered_escaped(world):
    owner = world.users["owner"]
    client = APIClient()
    client.force_login(owner)
    name = f"{HTML} 公司\u202e\u200b"
    response = client.post(
        "/api/v1/customers/",
        {
            "name": name,
            "kind": "organisation",
            "business_type": "other",
            "tier": "b",
            "phone": "13800138000",
            "headquarters_address": HTML,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["name"] == name  # stored as sent: the API returns JSON, not HTML

    for url in (f"/customers/{pk}/", "/customers/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "<script>alert(1)</script>" not in html
        assert 'onerror="alert(1)"' not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url

    refused = client.post(
        "/api/v1/customers/",
        {"name": "nul\x00name", "kind": "organisation", "business_type": "other", "tier": "b"},
        format="json",
    )
    assert refused.status_code == 400
    assert "name" in refused.json()
