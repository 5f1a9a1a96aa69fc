"""Masking examples (GB/T 35273 practice, DESIGN §3) and the personal-data registry."""

import datetime

import pytest

from crm import masking, personal_data


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "+86 138-1234-5678", "138****5678"),
        ("phone", "010-12345678", "010****5678"),
        ("phone", "0571-87654321", "0571****4321"),
        ("phone", "", ""),
        ("id_number", "110101199003071234", "110101********1234"),
        ("id_number", "11010519491231002x", "110105********002X"),
        ("id_number", "91350100M000100Y43", "913501********0Y43"),
        ("id_number", "E12345678", "*****5678"),
        ("name", "张明华", "张*华"),
        ("name", "张三", "张*"),
        ("name", "欧阳明华", "欧**华"),
        ("name", "John Smith", "J*** S****"),
        ("email", "zhang@example.com", "z***@example.com"),
        ("email", "a@b.cn", "a***@b.cn"),
        ("address", "北京市海淀区中关村大街27号", "北京市海淀区****"),
        ("address", "广东省深圳市南山区科技园1号", "广东省深圳市南山区****"),
        ("address", "浙江省杭州市西湖路8号", "浙江省杭州市****"),
        ("address", "12 Baker Street, London", "****, London"),
        ("text", "allergic to penicillin", "****"),
        ("date", datetime.date(1990, 3, 7), "1990-**-**"),
    ],
)
def test_mask_examples(kind, value, shown):
    assert masking.mask(kind, value) == shown


def test_mask_of_none_is_empty():
    assert masking.mask("phone", None) == ""


def test_encrypted_fields_register_themselves_with_category_and_mask():
    entry = personal_data.get("testapp.person", "id_number")
    assert entry.is_sensitive and entry.mask == "id_number"
    assert personal_data.get("testapp.person", "phone").category == personal_data.PERSONAL
    assert personal_data.get("testapp.person", "code") is None
    # History models are not registered twice.
    assert not personal_data.fields_of("testapp.historicalperson")


def test_register_refuses_unknown_mask_and_category():
    with pytest.raises(ValueError):
        personal_data.register("testapp.person", "code", category="secret", mask="text")
    with pytest.raises(ValueError):
        personal_data.register("testapp.person", "code", category="personal", mask="nope")
