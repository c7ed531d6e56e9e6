"""Support phone numbers as administrators type them (core.phones)."""

from __future__ import annotations

import pytest

from cobrowse.core.phones import (
    PhoneNumber,
    check_phone_label,
    check_phone_number,
    dial_form,
)


@pytest.mark.parametrize(
    ("typed", "kept", "tel"),
    [
        ("+1 555 0100", "+1 555 0100", "+15550100"),
        ("  +44 (20)  7946-0958 ", "+44 (20) 7946-0958", "+442079460958"),
        ("0800 123 456", "0800 123 456", "0800123456"),
        ("112", "112", "112"),
    ],
)
def test_numbers_are_kept_as_typed_and_dialled_as_digits(typed: str, kept: str, tel: str) -> None:
    assert check_phone_number(typed) == kept
    assert PhoneNumber(kept).tel == tel
    assert dial_form(kept) == tel


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "cannot be empty"),
        ("call 555 0100", "only digits, spaces, dashes and parentheses"),
        ("555.0100", "only digits"),
        ("1+555", "only digits"),
        ("javascript:alert(1)", "only digits"),
        ("12", "has 2 digits"),
        ("+1 234 567 890 123 456", "has 16 digits"),
        ("1" + " -" * 20 + "1", "too long"),
    ],
)
def test_bad_numbers_are_refused_with_a_reason(typed: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check_phone_number(typed)


def test_labels_are_tidied_and_bounded() -> None:
    assert check_phone_label("  Sales \t team ") == "Sales team"
    for bad, says in (("   ", "cannot be empty"), ("x" * 65, "at most 64"), ("a\x00b", "control")):
        with pytest.raises(ValueError, match=says):
            check_phone_label(bad)
