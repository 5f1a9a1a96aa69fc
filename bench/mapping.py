"""The shared data set's neutral records mapped onto our customer card (pure, no database).

Record ``i`` of ``crm_dataset`` becomes organisation ``i``; every value derived here
depends only on the record (and so on ``SEED`` and ``i``), so a larger N is a superset.
Identifiers are valid by the product's own rules (``customers.validators``):

* mainland mobiles: the card's phone ``13`` + 9 digits of ``i``, the contact's ``15`` + …,
  an individual's ``18`` + 9 digits of its own index ``j`` (unique, distinct prefixes);
* unified social credit codes: ``91`` + a region code + 9 characters that spell ``i`` in
  the code's 31-letter alphabet, + the GB 32100 check character;
* resident IDs: a region code + a birth date + a serial (unique per ``j``), + the
  GB 11643 check character.

Individuals (30 % of N) are interleaved with the organisations: after organisation ``i``
comes individual ``j`` whenever ``floor(3 (i+1) / 10)`` grows, so list pages hold both.
"""

from __future__ import annotations

import datetime
import random

from bench import crm_dataset

INDIVIDUAL_SHARE = (3, 10)  # 30 %
SOCIAL_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
REGIONS = ("110105", "310104", "440305", "330106", "510107")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "桂英",
    "建华",
    "晓东",
    "志强",
    "海燕",
    "国庆",
    "子轩",
    "雨涵",
    "浩然",
    "欣怡",
    "梓萱",
    "宇航",
]
CITIES = (
    "北京市海淀区中关村大街",
    "上海市浦东新区世纪大道",
    "广东省深圳市南山区科技园路",
    "浙江省杭州市西湖区文三路",
    "江苏省南京市鼓楼区中山路",
    "四川省成都市武侯区人民南路",
)
SUMMARIES = (
    "了解门店下季度采购计划，对新品感兴趣。",
    "客户反映上批货物包装破损，已安排补发。",
    "拜访店长，介绍促销方案，约定下周回访。",
    "电话确认付款计划，客户承诺月底结清。",
    "Discussed the price offer; the buyer asks for a second quote.",
    "Demo of the new range; follow up with samples.",
)


def individuals_before(i: int) -> int:
    """How many individuals come before organisation ``i`` in card order."""
    num, den = INDIVIDUAL_SHARE
    return (i * num) // den


def individuals_total(n: int) -> int:
    return individuals_before(n)


def sequence_of_organisation(i: int) -> int:
    """The 0-based position of organisation ``i`` in card order (its code is ``C`` + pos+1)."""
    return i + individuals_before(i)


def sequence_of_individual(j: int) -> int:
    """The position of individual ``j``: right after the organisation that made it due."""
    num, den = INDIVIDUAL_SHARE
    # The smallest i with individuals_before(i + 1) > j, i.e. floor(3(i+1)/10) >= j+1.
    i = -(-((j + 1) * den) // num) - 1
    return i + j + 1


def code(position: int) -> str:
    return f"C{position + 1:07d}"


def organisation_mobile(i: int) -> str:
    return f"13{i:09d}"


def contact_mobile(i: int) -> str:
    return f"15{i:09d}"


def individual_mobile(j: int) -> str:
    return f"18{j:09d}"


def _base31(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 31)
        digits.append(SOCIAL_CREDIT_ALPHABET[remainder])
    return "".join(reversed(digits))


def uscc_check(body: str) -> str:
    total = sum(
        SOCIAL_CREDIT_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True)
    )
    return SOCIAL_CREDIT_ALPHABET[(31 - total % 31) % 31]


def social_credit_code(i: int) -> str:
    body = f"91{REGIONS[i % len(REGIONS)]}{_base31(i, 9)}"
    return body + uscc_check(body)


def resident_id_check(body: str) -> str:
    total = sum(int(d) * w for d, w in zip(body, _RID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


BIRTH_SPAN_DAYS = 18_000  # 1950-01-01 .. 1999-04-13: every individual is an adult


def birth_date(j: int) -> datetime.date:
    return datetime.date(1950, 1, 1) + datetime.timedelta(days=j % BIRTH_SPAN_DAYS)


def resident_id(j: int) -> str:
    born = birth_date(j)
    serial = (j // BIRTH_SPAN_DAYS) % 1000
    body = f"{REGIONS[j % len(REGIONS)]}{born:%Y%m%d}{serial:03d}"
    return body + resident_id_check(body)


def organisation_card(record: dict) -> dict:
    """The card's values (clear) and related rows for one data set record."""
    company, contact = record["company"], record["contact"]
    i = company["index"]
    return {
        "index": i,
        "position": sequence_of_organisation(i),
        "name": company["name"],
        "phone": organisation_mobile(i),
        "email": company["email"],
        "headquarters_address": f"{company['address']}, {company['country'].upper()}",
        "managers": f"{contact['first_name']} {contact['last_name']} ({contact['title']})",
        "website": company["website"],
        "founded_on": company["created"].replace(year=company["created"].year - 5 - i % 20),
        "employees": 5 + (i * 37) % 2000,
        "registered_capital": 100_000 * (1 + i % 200),
        "industry_index": crm_dataset.INDUSTRIES.index(company["industry"]),
        "type_index": crm_dataset.CLIENT_TYPES.index(company["type"]),
        "lead_index": crm_dataset.LEAD_SOURCES.index(company["lead_source"]),
        "document": social_credit_code(i),
        "contact": {
            "name": f"{contact['first_name']} {contact['last_name']}",
            "phone": contact_mobile(i),
            "email": contact["email"],
            "role": contact["title"],
        },
    }


def individual_card(j: int, seed: int = crm_dataset.SEED) -> dict:
    rng = random.Random(seed * 7 + 1_000_000_007 + j)  # noqa: S311 (synthetic data)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return {
        "index": j,
        "position": sequence_of_individual(j),
        "name": name,
        "phone": individual_mobile(j),
        "email": f"person{j}@example.cn" if j % 3 else "",
        "address": f"{rng.choice(CITIES)}{rng.randrange(1, 300)}号",
        "birth_date": birth_date(j),
        "document": resident_id(j),
        "marketing": j % 2 == 1,
        "third_party": j % 5 == 0,
    }


def interaction(k: int, total_customers: int, seed: int = crm_dataset.SEED) -> dict:
    """Interaction ``k``: which card (by position) and what happened."""
    rng = random.Random(seed * 13 + k)  # noqa: S311 (synthetic data)
    return {
        "position": (k * 7_919) % total_customers,
        "kind": ("call", "visit", "meeting", "email", "message")[k % 5],
        "outcome": ("positive", "neutral", "negative", "no_result", "")[rng.randrange(5)],
        "summary": SUMMARIES[rng.randrange(len(SUMMARIES))],
        "days_ago": rng.randrange(1, 3 * 365),
        "follow_up_in": rng.randrange(0, 30) if rng.random() < 0.3 else None,
    }


def expected_name_hits(n: int, term: str = crm_dataset.SEARCH_TERM) -> int:
    """Customers whose name contains ``term``: organisations only (individuals' names are
    Chinese and never contain a Latin term)."""
    return crm_dataset.expected_search_hits(n, term)
