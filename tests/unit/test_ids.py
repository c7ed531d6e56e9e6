"""Session IDs people read out over the phone, and the secret tokens the store never keeps."""

from __future__ import annotations

import hashlib
import re

import pytest

from cobrowse.core.ids import (
    new_public_id,
    new_session_id,
    new_token,
    normalize_session_id,
    token_digest,
)

NINE_DIGITS = re.compile(r"[1-9][0-9]{8}")
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


class ScriptedRandom:
    def __init__(self, *values: int) -> None:
        self._values = list(values)
        self.calls = 0

    def __call__(self, bound: int) -> int:
        self.calls += 1
        value = self._values.pop(0)
        assert 0 <= value < bound
        return value


# new_session_id ---------------------------------------------------------------------


def test_new_session_id_is_nine_digits_not_starting_with_zero() -> None:
    for _ in range(200):
        assert NINE_DIGITS.fullmatch(new_session_id(set()))


@pytest.mark.parametrize(
    ("drawn", "expected"), [(0, "100000000"), (123, "100000123"), (899_999_999, "999999999")]
)
def test_new_session_id_covers_all_nine_digit_ids(drawn: int, expected: str) -> None:
    assert new_session_id(set(), ScriptedRandom(drawn)) == expected


def test_new_session_id_skips_taken_ids() -> None:
    randbelow = ScriptedRandom(1, 2, 3)
    assert new_session_id({"100000001", "100000002"}, randbelow) == "100000003"
    assert randbelow.calls == 3


def test_new_session_id_draws_once_when_nothing_collides() -> None:
    randbelow = ScriptedRandom(42, 43)
    assert new_session_id({"100000043"}, randbelow) == "100000042"
    assert randbelow.calls == 1


# normalize_session_id ---------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "123456789",
        "123 456 789",
        "123-456-789",
        " 123456789 ",
        "123 - 456 - 789",
        "1 2 3 4 5 6 7 8 9",
        "123\t456\n789",
    ],
)
def test_typed_id_with_spaces_or_dashes_is_accepted(typed: str) -> None:
    assert normalize_session_id(typed) == "123456789"


@pytest.mark.parametrize("session_id", ["100000000", "999999999", "905123456"])
def test_valid_ids_come_back_unchanged(session_id: str) -> None:
    assert normalize_session_id(session_id) == session_id


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "12345678",
        "1234567890",
        "012345678",
        "000000000",
        "12345678a",
        "123.456.789",
        "123_456_789",
        "123/456/789",
        "+123456789",
        "-123456789-0",
        "１２３４５６７８９",  # noqa: RUF001 - full-width digits are not ASCII digits
        "١٢٣٤٥٦٧٨٩",
    ],
)
def test_text_that_is_not_a_session_id_is_rejected(typed: str) -> None:
    assert normalize_session_id(typed) is None


# Tokens -----------------------------------------------------------------------------


def test_token_is_url_safe_and_carries_256_bits() -> None:
    token = new_token()
    assert URL_SAFE.fullmatch(token)
    # 32 random bytes in unpadded base64 are 43 characters.
    assert len(token) == 43


def test_tokens_do_not_repeat() -> None:
    tokens = {new_token() for _ in range(500)}
    assert len(tokens) == 500


def test_token_digest_is_the_sha256_hex_of_the_token() -> None:
    assert token_digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_token_digest_is_deterministic_and_hides_the_token() -> None:
    token = new_token()
    digest = token_digest(token)
    assert digest == token_digest(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert token not in digest


def test_different_tokens_have_different_digests() -> None:
    assert token_digest("token-a") != token_digest("token-b")


def test_public_ids_carry_their_prefix_and_120_random_bits() -> None:
    ids = {new_public_id("int") for _ in range(100)}
    assert len(ids) == 100
    for made in ids:
        assert re.fullmatch(r"int_[a-z2-7]{24}", made)
