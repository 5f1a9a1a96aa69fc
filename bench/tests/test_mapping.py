"""The bench's data mapping (hermetic, fast; not collected by ``make test``: run
``.venv/bin/pytest bench/tests``)."""

import hashlib
from pathlib import Path

from bench import crm_dataset, mapping
from customers.validators import (
    is_valid_mainland_mobile,
    is_valid_resident_id,
    is_valid_social_credit_code,
)

# sha256 of ../shared/bench/crm_dataset.py, copied as is (make bench also compares the two
# files when the shared one is present).
DATASET_SHA256 = "f559a19819c6453fc15ab3a3cd376471cc07ee2b5633521a69b1cca12cf7e097"


def test_vendored_dataset_is_the_shared_file():
    data = (Path(mapping.__file__).with_name("crm_dataset.py")).read_bytes()
    assert hashlib.sha256(data).hexdigest() == DATASET_SHA256


def test_card_order_is_a_permutation_with_30_percent_individuals():
    n = 1_000
    positions = [mapping.sequence_of_organisation(i) for i in range(n)]
    positions += [mapping.sequence_of_individual(j) for j in range(mapping.individuals_total(n))]
    assert sorted(positions) == list(range(n + n * 3 // 10))


def test_identifiers_are_valid_and_unique():
    cards = [mapping.organisation_card(r) for r in crm_dataset.generate(500)]
    people = [mapping.individual_card(j) for j in range(150)]
    for card in cards:
        assert is_valid_mainland_mobile(card["phone"])
        assert is_valid_mainland_mobile(card["contact"]["phone"])
        assert is_valid_social_credit_code(card["document"])
    for person in people:
        assert is_valid_mainland_mobile(person["phone"])
        assert is_valid_resident_id(person["document"])
    phones = [c["phone"] for c in cards] + [p["phone"] for p in people]
    documents = [c["document"] for c in cards] + [p["document"] for p in people]
    assert len(set(phones)) == len(phones)
    assert len(set(documents)) == len(documents)
    assert len({mapping.resident_id(j) for j in range(0, 40_000, 7)}) == len(range(0, 40_000, 7))


def test_search_term_is_counted_on_organisation_names():
    n = 2_000
    expected = sum(
        crm_dataset.SEARCH_TERM in mapping.organisation_card(r)["name"].lower()
        for r in crm_dataset.generate(n)
    )
    assert mapping.expected_name_hits(n) == expected > 0
