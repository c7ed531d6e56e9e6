"""Primary interactions, the pure part: what a customer reference may be."""

from __future__ import annotations

import pytest

from cobrowse.core.interactions import check_customer_reference


def test_a_reference_is_kept_as_given_without_surrounding_blanks() -> None:
    assert check_customer_reference("  CRM-48213 ") == "CRM-48213"
    assert check_customer_reference("Müller, Jürgen (ticket 7)") == "Müller, Jürgen (ticket 7)"


def test_no_reference_or_a_blank_one_is_none() -> None:
    assert check_customer_reference(None) is None
    assert check_customer_reference("   ") is None


def test_a_reference_has_at_most_200_characters() -> None:
    assert check_customer_reference("x" * 200) == "x" * 200
    with pytest.raises(ValueError, match="at most 200"):
        check_customer_reference("x" * 201)


@pytest.mark.parametrize("reference", ["line one\nline two", "tab\there", "nul\x00"])
def test_control_characters_are_refused(reference: str) -> None:
    with pytest.raises(ValueError, match="control characters"):
        check_customer_reference(reference)
