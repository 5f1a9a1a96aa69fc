"""Synthetic but valid identifiers, for demo data and tests (never real people)."""

from __future__ import annotations

import datetime
import random

from customers.validators import (
    SOCIAL_CREDIT_CODE_ALPHABET,
    resident_id_check_character,
    social_credit_code_check_character,
)


def resident_id(
    *,
    region: str = "110105",
    born: datetime.date | None = None,
    serial: int | None = None,
    rng: random.Random | None = None,
) -> str:
    rng = rng or random.Random()  # noqa: S311 (synthetic data)
    born = born or datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(16000))
    serial = rng.randrange(1000) if serial is None else serial
    body = f"{region}{born:%Y%m%d}{serial:03d}"
    return body + resident_id_check_character(body)


def social_credit_code(*, rng: random.Random | None = None) -> str:
    rng = rng or random.Random()  # noqa: S311 (synthetic data)
    organisation = "".join(rng.choice(SOCIAL_CREDIT_CODE_ALPHABET) for _ in range(9))
    region = f"{rng.choice(['110', '310', '440', '330', '350'])}{rng.randrange(1000):03d}"
    body = f"91{region}{organisation}"
    return body + social_credit_code_check_character(body)


def mobile(*, rng: random.Random | None = None) -> str:
    rng = rng or random.Random()  # noqa: S311 (synthetic data)
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
