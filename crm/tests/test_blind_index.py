"""Blind indexes and bigram tokens: look-up without decryption (DESIGN §3)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm.blind_index import bigram_tokens, bigrams, blind_index, current_version, index_keys
from crm.encryption import generate_key


def test_same_value_in_different_spellings_gives_the_same_index():
    assert blind_index("phone", "138 1234 5678") == blind_index("phone", "+86-13812345678")
    assert blind_index("email", " Zhang@Example.COM ") == blind_index("email", "zhang@example.com")
    assert blind_index("id_number", "11010519491231002x") == blind_index(
        "id_number", "11010519491231002X"
    )


def test_index_is_keyed_and_never_the_value(settings):
    digest = blind_index("phone", "13812345678")
    assert "13812345678" not in digest and len(digest) == 32
    settings.BLIND_INDEX_KEY = generate_key()
    assert blind_index("phone", "13812345678") != digest


def test_kinds_do_not_collide_and_empty_is_empty():
    assert blind_index("phone", "123") != blind_index("id_number", "123")
    assert blind_index("phone", "") == ""


def test_bigram_search_finds_names_containing_the_query():
    stored = set(bigram_tokens("张明华"))
    assert set(bigram_tokens("张明")) <= stored
    assert set(bigram_tokens("明华")) <= stored
    assert not set(bigram_tokens("张华")) <= stored
    assert bigrams("Acme Trading") == sorted(
        {"ac", "cm", "me", "et", "tr", "ra", "ad", "di", "in", "ng"}
    )


def test_one_character_gives_one_token():
    assert len(bigram_tokens("张")) == 1
    assert bigram_tokens("") == []


def test_the_key_carries_a_version_and_a_bare_key_is_v1(settings):
    old, new = generate_key(), generate_key()
    settings.BLIND_INDEX_KEYS = []
    settings.BLIND_INDEX_KEY = old
    assert current_version() == "v1"
    v1_digest = blind_index("phone", "13812345678")
    settings.BLIND_INDEX_KEY = f"v1:{old}"
    assert current_version() == "v1" and blind_index("phone", "13812345678") == v1_digest
    settings.BLIND_INDEX_KEYS = [f"v2:{new}", f"v1:{old}"]  # wins over BLIND_INDEX_KEY
    assert [key.version for key in index_keys()] == ["v2", "v1"]
    assert blind_index("phone", "13812345678") != v1_digest
    assert blind_index("phone", "13812345678", index_keys()[1]) == v1_digest


@pytest.mark.parametrize("keys", [["v2:not base64!"], ["v2:" + "a" * 8], ["v1:{k}", "v1:{k}"]])
def test_malformed_or_repeated_versions_are_refused(settings, keys):
    key = generate_key()
    settings.BLIND_INDEX_KEYS = [text.format(k=key) for text in keys]
    with pytest.raises(ImproperlyConfigured):
        index_keys()
