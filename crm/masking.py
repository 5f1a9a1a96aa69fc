"""Masking of personal values for display (GB/T 35273 practice, DESIGN §3).

Each function takes the clear value and returns what a user without the right to see it
in clear is shown: ``138****5678``, ``110101********1234``, ``张*华``, ``z***@example.com``,
``北京市海淀区****``. The masks keep a fixed number of asterisks where the length itself
would say something.
"""

from __future__ import annotations

import re

HIDDEN = "****"


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if not digits:
        return ""
    if digits.startswith("0") and len(digits) >= 10:  # landline: keep the area code
        area = digits[:3] if digits[1] in "12" else digits[:4]
        return f"{area}****{digits[-4:]}"
    if len(digits) >= 11:
        return f"{digits[-11:-8]}****{digits[-4:]}"
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}" if len(digits) > 7 else f"****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_id_number(value: str) -> str:
    text = (value or "").strip().upper()
    if not text:
        return ""
    if len(text) >= 15:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    if len(text) > 4:
        return "*" * (len(text) - 4) + text[-4:]
    return "*" * len(text)


def mask_name(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    if " " in text:  # Latin names: keep each word's initial
        return " ".join(word[0] + "*" * (len(word) - 1) for word in text.split())
    if len(text) == 1:
        return "*"
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_email(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    local, at, domain = text.partition("@")
    if not at:
        return text[0] + "***"
    return f"{local[:1]}***@{domain}"


_DISTRICT_MARKERS = "区县旗"
_CITY_MARKERS = "市州盟"


def _region_prefix_length(text: str) -> int:
    """Length of the administrative prefix (province, city, district) of a Chinese address."""
    head = text[:16]
    districts = [head.find(m) for m in _DISTRICT_MARKERS if head.find(m) > 0]
    if districts:
        return min(districts) + 1
    for marker in _CITY_MARKERS:  # no district: keep the city, preferring 市
        if head.find(marker) > 0:
            return head.find(marker) + 1
    return 0


def mask_address(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    keep = _region_prefix_length(text)
    if 0 < keep < len(text):
        return text[:keep] + HIDDEN
    if "," in text:  # Latin addresses: keep the last part (city or country)
        return f"{HIDDEN}, {text.rsplit(',', 1)[-1].strip()}"
    return text[: max(len(text) // 3, 1)] + HIDDEN


def mask_text(value: str) -> str:
    return HIDDEN if value not in (None, "") else ""


def mask_date(value) -> str:
    if value in (None, ""):
        return ""
    return f"{str(value)[:4]}-**-**"


MASKS = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "name": mask_name,
    "email": mask_email,
    "address": mask_address,
    "text": mask_text,
    "date": mask_date,
}


def mask(kind: str, value) -> str:
    """Mask ``value`` by the rule ``kind`` (a key of ``MASKS``)."""
    if value is None:
        return ""
    return MASKS[kind](value if kind == "date" else str(value))
