"""Validators for mainland China identifiers kept on customer records.

Every ``validate_*`` function raises :class:`django.core.exceptions.ValidationError` (with a
``code``) and returns the normalised value; every ``is_valid_*`` twin returns a boolean. The
functions are pure: no database, no network.

* **Resident identity card number** (GB 11643-1999): 18 characters. Characters 1-6 are the
  administrative region code (never starting with 0), 7-14 the birth date ``YYYYMMDD``,
  15-17 a sequence code (odd for men, even for women) and 18 a check character computed
  with ISO 7064 MOD 11-2: the 17 digits are weighted ``7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2``
  and the sum modulo 11 selects the check character from ``"10X98765432"``.
* **Unified social credit code** (GB 32100-2015): 18 characters from the 31-character
  alphabet ``"0123456789ABCDEFGHJKLMNPQRTUWXY"`` (digits and capital letters except I, O,
  S, V and Z). Character 1 is the registering authority, 2 the entity type, 3-8 the region
  code, 9-17 the organisation code and 18 a check character:
  ``31 - (sum(index * weight) mod 31)`` (31 becoming 0) over the first 17 characters with
  the weights ``1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28`` (3**i mod 31).
* **Mainland mobile number**: 11 digits ``1[3-9]\\d{9}``, optionally written with spaces,
  hyphens and a ``+86``/``86`` country prefix.
* **Passport number**: 5 to 20 ASCII letters and digits (formats differ by country).
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "birth_date_from_resident_id",
    "is_valid_mainland_mobile",
    "is_valid_passport",
    "is_valid_resident_id",
    "is_valid_social_credit_code",
    "normalise_mainland_mobile",
    "normalise_passport",
    "normalise_resident_id",
    "normalise_social_credit_code",
    "resident_id_check_character",
    "social_credit_code_check_character",
    "validate_mainland_mobile",
    "validate_passport",
    "validate_resident_id",
    "validate_social_credit_code",
]

_WHITESPACE = re.compile(r"\s+")

# --- resident identity card number (GB 11643-1999) ----------------------------------------

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARACTERS = "10X98765432"
RESIDENT_ID_EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
_RESIDENT_ID_FORMAT = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


def normalise_resident_id(value: str) -> str:
    """Remove whitespace and upper-case the check character (``x`` becomes ``X``)."""
    return _WHITESPACE.sub("", str(value)).upper()


def resident_id_check_character(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("The body of a resident ID is exactly 17 digits.")
    total = sum(
        int(digit) * weight for digit, weight in zip(body, RESIDENT_ID_WEIGHTS, strict=True)
    )
    return RESIDENT_ID_CHECK_CHARACTERS[total % 11]


def _parse_birth_date(number: str) -> datetime.date | None:
    try:
        return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def validate_resident_id(value: str) -> str:
    """Validate a mainland China resident identity card number; return it normalised."""
    number = normalise_resident_id(value) if value is not None else ""
    if not _RESIDENT_ID_FORMAT.fullmatch(number):
        raise ValidationError(
            _(
                "Enter a resident identity card number of 18 characters: 17 digits followed "
                "by a digit or X."
            ),
            code="invalid_resident_id_format",
        )
    if number[0] == "0":
        raise ValidationError(
            _("The resident identity card number does not start with a valid region code."),
            code="invalid_resident_id_region",
        )
    birth_date = _parse_birth_date(number)
    if (
        birth_date is None
        or birth_date < RESIDENT_ID_EARLIEST_BIRTH_DATE
        or birth_date > timezone.localdate()
    ):
        raise ValidationError(
            _("The resident identity card number does not contain a valid date of birth."),
            code="invalid_resident_id_birth_date",
        )
    if resident_id_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _(
                "The check character of the resident identity card number is wrong; "
                "please check the number for typing mistakes."
            ),
            code="invalid_resident_id_checksum",
        )
    return number


def is_valid_resident_id(value: str) -> bool:
    try:
        validate_resident_id(value)
    except ValidationError:
        return False
    return True


def birth_date_from_resident_id(value: str) -> datetime.date:
    """The date of birth encoded in a (valid) resident ID; raises ``ValidationError`` if not."""
    number = validate_resident_id(value)
    birth_date = _parse_birth_date(number)
    assert birth_date is not None  # checked by validate_resident_id
    return birth_date


# --- unified social credit code (GB 32100-2015) -------------------------------------------

SOCIAL_CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SOCIAL_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SOCIAL_CREDIT_CODE_FORMAT = re.compile(f"[{SOCIAL_CREDIT_CODE_ALPHABET}]{{18}}")


def normalise_social_credit_code(value: str) -> str:
    """Remove whitespace and upper-case."""
    return _WHITESPACE.sub("", str(value)).upper()


def social_credit_code_check_character(body: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    if len(body) != 17 or any(char not in SOCIAL_CREDIT_CODE_ALPHABET for char in body):
        raise ValueError("The body of a social credit code is 17 characters of its alphabet.")
    total = sum(
        SOCIAL_CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(body, SOCIAL_CREDIT_CODE_WEIGHTS, strict=True)
    )
    return SOCIAL_CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_social_credit_code(value: str) -> str:
    """Validate a unified social credit code; return it normalised."""
    code = normalise_social_credit_code(value) if value is not None else ""
    if not _SOCIAL_CREDIT_CODE_FORMAT.fullmatch(code):
        raise ValidationError(
            _(
                "Enter a unified social credit code of 18 characters, digits and capital "
                "letters other than I, O, S, V and Z."
            ),
            code="invalid_social_credit_code_format",
        )
    if social_credit_code_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _(
                "The check character of the unified social credit code is wrong; please "
                "check the code for typing mistakes."
            ),
            code="invalid_social_credit_code_checksum",
        )
    return code


def is_valid_social_credit_code(value: str) -> bool:
    try:
        validate_social_credit_code(value)
    except ValidationError:
        return False
    return True


# --- mainland mobile numbers --------------------------------------------------------------

_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")
_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)


def normalise_mainland_mobile(value: str) -> str:
    """The 11 digits of a mainland mobile number; raises ``ValidationError`` if invalid."""
    return validate_mainland_mobile(value)


def _strip_mobile(value: str) -> str:
    number = _MOBILE_SEPARATORS.sub("", str(value))
    if number.startswith("+86"):
        return number[3:]
    if len(number) == 13 and number.startswith("86"):
        return number[2:]
    return number


def validate_mainland_mobile(value: str) -> str:
    """Validate a mainland China mobile number; return its 11 digits."""
    number = _strip_mobile(value) if value is not None else ""
    if not _MAINLAND_MOBILE.fullmatch(number):
        raise ValidationError(
            _("Enter a mainland China mobile number of 11 digits starting with 13 to 19."),
            code="invalid_mainland_mobile",
        )
    return number


def is_valid_mainland_mobile(value: str) -> bool:
    try:
        validate_mainland_mobile(value)
    except ValidationError:
        return False
    return True


# --- passports ----------------------------------------------------------------------------

_PASSPORT = re.compile(r"[A-Z0-9]{5,20}", re.ASCII)


def normalise_passport(value: str) -> str:
    """Remove whitespace and upper-case."""
    return _WHITESPACE.sub("", str(value)).upper()


def validate_passport(value: str) -> str:
    """Validate a passport number (5 to 20 letters and digits); return it normalised."""
    number = normalise_passport(value) if value is not None else ""
    if not _PASSPORT.fullmatch(number):
        raise ValidationError(
            _("Enter a passport number of 5 to 20 letters and digits."),
            code="invalid_passport",
        )
    return number


def is_valid_passport(value: str) -> bool:
    try:
        validate_passport(value)
    except ValidationError:
        return False
    return True
