"""Identifier validators: resident IDs, social credit codes, mobile and passport numbers."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from customers.validators import (
    birth_date_from_resident_id,
    is_valid_mainland_mobile,
    is_valid_passport,
    is_valid_resident_id,
    is_valid_social_credit_code,
    normalise_mainland_mobile,
    normalise_resident_id,
    normalise_social_credit_code,
    validate_mainland_mobile,
    validate_passport,
    validate_resident_id,
    validate_social_credit_code,
)


def id_check(body: str) -> str:
    """Independent ISO 7064 MOD 11-2: check = (12 - sum(d * 2**(17-i) mod 11) mod 11) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def make_resident_id(region="110105", birth="19491231", sequence="002"):
    body = region + birth + sequence
    return body + id_check(body)


def assert_invalid(validator, value, code):
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    assert excinfo.value.code == code
    assert str(excinfo.value.message)


def test_independent_check_matches_the_public_sample():
    assert make_resident_id() == "11010519491231002X"


# --- resident identity card numbers -------------------------------------------------------


@pytest.mark.parametrize(
    "value, normalised",
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 110105 19491231 002X ", "11010519491231002X"),
        (
            make_resident_id("440305", "20000229", "123"),
            make_resident_id("440305", "20000229", "123"),
        ),
        (
            make_resident_id("650102", "19000101", "001"),
            make_resident_id("650102", "19000101", "001"),
        ),
    ],
)
def test_valid_resident_ids(value, normalised):
    assert validate_resident_id(value) == normalised
    assert is_valid_resident_id(value)
    assert normalise_resident_id(value) == normalised


def test_resident_id_born_today_is_valid():
    today = timezone.localdate().strftime("%Y%m%d")
    assert is_valid_resident_id(make_resident_id(birth=today))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1101051949123100",
        "11010519491231002XX",
        "110105194912310021 1",
        "1101051949123100AX",
        "X1010519491231002X",
        "11010519491231002Y",
        "１１0105194912310021",
        None,
    ],
)
def test_resident_id_wrong_length_or_format(value):
    assert_invalid(validate_resident_id, value, "invalid_resident_id_format")
    assert not is_valid_resident_id(value)


def test_resident_id_region_must_not_start_with_zero():
    assert_invalid(
        validate_resident_id, make_resident_id(region="010105"), "invalid_resident_id_region"
    )


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",  # no 30 February
        "19900431",  # April has 30 days
        "19001329",  # no month 13
        "19900100",  # no day 0
        "19000229",  # 1900 was not a leap year
        "18991231",  # before 1900
    ],
)
def test_resident_id_bad_birth_date(birth):
    value = make_resident_id(birth=birth)
    assert_invalid(validate_resident_id, value, "invalid_resident_id_birth_date")


def test_resident_id_public_sample_born_1880_is_refused():
    # 440524188001010014 has a correct check digit but a birth date before 1900.
    assert id_check("44052418800101001") == "4"
    assert_invalid(validate_resident_id, "440524188001010014", "invalid_resident_id_birth_date")


def test_resident_id_future_birth_date():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    value = make_resident_id(birth=tomorrow.strftime("%Y%m%d"))
    assert_invalid(validate_resident_id, value, "invalid_resident_id_birth_date")


@pytest.mark.parametrize("check", [c for c in "0123456789X" if c != "X"])
def test_resident_id_wrong_check_character(check):
    assert_invalid(
        validate_resident_id, "11010519491231002" + check, "invalid_resident_id_checksum"
    )


def test_resident_id_messages_differ():
    messages = set()
    for value in ("123", make_resident_id(birth="19900230"), "110105194912310021"):
        with pytest.raises(ValidationError) as excinfo:
            validate_resident_id(value)
        messages.add(str(excinfo.value.message))
    assert len(messages) == 3


def test_birth_date_from_resident_id():
    assert birth_date_from_resident_id("11010519491231002x") == datetime.date(1949, 12, 31)
    with pytest.raises(ValidationError):
        birth_date_from_resident_id("110105194912310021")


@st.composite
def resident_id_bodies(draw):
    region = draw(st.integers(min_value=100000, max_value=999999))
    birth = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=timezone.localdate()))
    sequence = draw(st.integers(min_value=0, max_value=999))
    return f"{region}{birth:%Y%m%d}{sequence:03d}"


@given(body=resident_id_bodies())
def test_property_only_the_computed_check_character_validates(body):
    check = id_check(body)
    assert validate_resident_id(body + check) == body + check
    assert validate_resident_id(body + check.lower()) == body + check
    for other in "0123456789X":
        if other != check:
            assert not is_valid_resident_id(body + other)


# --- unified social credit codes ----------------------------------------------------------

SCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def scc_check(body: str) -> str:
    total = sum(SCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return SCC_ALPHABET[-total % 31]


@pytest.mark.parametrize(
    "value, normalised",
    [
        ("91350100M000100Y43", "91350100M000100Y43"),
        ("91110000600037341L", "91110000600037341L"),
        ("91110000600037341l", "91110000600037341L"),
        (" 9135 0100 M000 100Y 43 ", "91350100M000100Y43"),
        ("12100000" + "40001234X" + scc_check("1210000040001234X"), None),
    ],
)
def test_valid_social_credit_codes(value, normalised):
    normalised = normalised or value
    assert validate_social_credit_code(value) == normalised
    assert normalise_social_credit_code(value) == normalised
    assert is_valid_social_credit_code(value)


def test_social_credit_code_check_character_zero():
    # Find a body whose sum is a multiple of 31: the check character is then "0", not "Y"+1.
    body = next(
        f"9111000060003{n:04d}" for n in range(10000) if scc_check(f"9111000060003{n:04d}") == "0"
    )
    assert is_valid_social_credit_code(body + "0")


@pytest.mark.parametrize(
    "value", [c for c in ["91350100M000100Y4" + x for x in SCC_ALPHABET] if c[-1] != "3"]
)
def test_social_credit_code_wrong_check_character(value):
    assert_invalid(validate_social_credit_code, value, "invalid_social_credit_code_checksum")


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_social_credit_code_forbidden_letters(letter):
    body = "91350100M000100Y4"
    for position in (8, 17):
        value = (body + "3")[:position] + letter + (body + "3")[position + 1 :]
        assert_invalid(validate_social_credit_code, value, "invalid_social_credit_code_format")


@pytest.mark.parametrize(
    "value", ["", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100Y4-", None]
)
def test_social_credit_code_wrong_length(value):
    assert_invalid(validate_social_credit_code, value, "invalid_social_credit_code_format")
    assert not is_valid_social_credit_code(value)


# --- mainland mobile numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("19912345678", "19912345678"),
    ],
)
def test_valid_mainland_mobiles(value, expected):
    assert validate_mainland_mobile(value) == expected
    assert normalise_mainland_mobile(value) == expected
    assert is_valid_mainland_mobile(value)


def test_normalise_mainland_mobile():
    assert normalise_mainland_mobile("+86 138-1234-5678") == "13812345678"


@pytest.mark.parametrize(
    "value",
    [
        "12812345678",  # second digit 2
        "1381234567",  # 10 digits
        "23812345678",  # does not start with 1
        "138123456789",  # 12 digits
        "86138123456789",  # 86 + 12 digits
        "+85213812345678",  # not +86
        "1381234567a",
        "",
        None,
    ],
)
def test_invalid_mainland_mobiles(value):
    assert_invalid(validate_mainland_mobile, value, "invalid_mainland_mobile")
    assert not is_valid_mainland_mobile(value)


# --- passports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, normalised",
    [
        ("E12345678", "E12345678"),
        ("e1234", "E1234"),
        ("ab 1234567", "AB1234567"),
        ("9" * 20, "9" * 20),
    ],
)
def test_valid_passports(value, normalised):
    assert validate_passport(value) == normalised
    assert is_valid_passport(value)


@pytest.mark.parametrize("value", ["", "E123", "9" * 21, "E1234-567", "É12345678", None])
def test_invalid_passports(value):
    assert_invalid(validate_passport, value, "invalid_passport")
    assert not is_valid_passport(value)
