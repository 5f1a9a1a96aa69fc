"""The audit console's pickers and rows in Chinese: every object type by a translated name of
its own, the object column named as in the picker, deactivated users marked as such."""

from __future__ import annotations

import html
import re

import pytest
from django.apps import apps
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from audit.filters import actor_choices
from audit.services import record_event
from customers.tests.factories import company_people

pytestmark = pytest.mark.django_db

CONSOLE = "/audit/events/"
OPTION = re.compile(r'<option value="([^"]*)"[^>]*>(.*?)</option>', re.S)


def picker(page: str, name: str) -> list[tuple[str, str]]:
    """The (value, label) of each option of the console's picker ``name``, but "any"."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)
    return [(value, html.unescape(label)) for value, label in OPTION.findall(select) if value]


def product_app(value: str) -> bool:
    """Not one of the test suite's own apps (``tests.testapp``…), absent in production."""
    app_label = value.split(".", 1)[0]
    return not apps.get_app_config(app_label).name.startswith("tests.")


@pytest.fixture
def people():
    return company_people()


@pytest.fixture
def dpo_in_chinese(client, people):
    client.force_login(people["dpo"])
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    return client


def test_every_object_type_has_a_chinese_name_of_its_own(dpo_in_chinese):
    page = dpo_in_chinese.get(CONSOLE).content.decode()
    options = [(value, label) for value, label in picker(page, "object_type") if product_app(value)]
    labels = dict(options)

    assert len(options) > 80
    english = sorted(label for label in labels.values() if label.isascii())
    assert english == []
    assert len(set(labels.values())) == len(labels)
    # DRF's token and its admin proxy, the API token, the recovery codes and TOTP apart.
    assert labels["security.apitoken"] == "API 令牌"
    assert labels["authtoken.token"] == "旧版 API 令牌"
    assert labels["authtoken.tokenproxy"] == "旧版 API 令牌（管理视图）"
    assert labels["otp_static.statictoken"] == "恢复码"
    assert labels["otp_totp.totpdevice"] == "身份验证器应用（TOTP）"
    # The project's own models, by their verbose names.
    assert labels["crm.counter"] == "编号计数器"
    assert labels["crm.idempotencyrecord"] == "幂等记录"
    assert labels["customers.customeruserobjectpermission"] == "客户访问授权（用户）"
    assert labels["customers.customergroupobjectpermission"] == "客户访问授权（组）"
    assert labels["axes.accessattempt"] == "登录失败尝试"
    assert labels["guardian.userobjectpermission"] == "对象权限（用户）"


def test_the_object_column_names_the_model_as_the_picker_does(dpo_in_chinese, people):
    device = StaticDevice.objects.create(user=people["dpo"], name="backup")
    record_event(action="auth.two_factor_enrolled", actor=people["dpo"], obj=device)

    page = dpo_in_chinese.get(CONSOLE, {"object_type": "otp_static.staticdevice"})

    assert page.content.decode().count("data-event-row") == 1
    assert f"恢复码组 {device.pk}</td>" in page.content.decode()


def test_a_deactivated_user_is_marked_inactive_in_the_user_picker(client, people, dpo_in_chinese):
    service = people["service"]
    service.first_name, service.last_name, service.is_active = "颖", "王", False
    service.save(update_fields=["first_name", "last_name", "is_active"])
    owner = people["owner"]
    owner.first_name, owner.last_name = "军", "孙"
    owner.save(update_fields=["first_name", "last_name"])

    users = dict(picker(dpo_in_chinese.get(CONSOLE).content.decode(), "actor"))

    assert users[str(service.pk)] == f"王颖 ({service.username}) — 已停用"
    assert users[str(owner.pk)] == f"孙军 ({owner.username})"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    users = dict(picker(client.get(CONSOLE).content.decode(), "actor"))
    assert users[str(service.pk)] == f"王颖 ({service.username}) — inactive"


def test_the_user_picker_is_one_query_with_inactive_users(people, django_assert_num_queries):
    for role in ("service", "south_rep", "auditor"):
        people[role].is_active = False
        people[role].save(update_fields=["is_active"])

    with django_assert_num_queries(1):
        choices = actor_choices()

    inactive = [label for _role, users in choices for _pk, label in users if "inactive" in label]
    assert len(inactive) == 3
