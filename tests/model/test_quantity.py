"""``auditor.model.quantity.Exact``: the exact value of a Kubernetes quantity, which behaves as
``fractions.Fraction`` does for what quantities need (it replaced it to keep ``fractions`` and
``decimal`` out of start-up), checked against ``Fraction`` itself."""
from __future__ import annotations

import pickle
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model.quantity import Exact, parse_quantity

rationals = st.tuples(st.integers(-10**30, 10**30), st.integers(1, 10**30))


@given(rationals, rationals)
def test_compares_hashes_and_converts_as_fraction_does(left: tuple[int, int], right: tuple[int, int]) -> None:
    ours, theirs = Exact(*left), Fraction(*left)
    other_ours, other_theirs = Exact(*right), Fraction(*right)
    assert (ours.numerator, ours.denominator) == (theirs.numerator, theirs.denominator)
    assert hash(ours) == hash(theirs) and float(ours) == float(theirs) and str(ours) == str(theirs)
    assert ours == theirs and theirs == ours and -ours == -theirs and bool(ours) == bool(theirs)
    for compare in ("__eq__", "__lt__", "__le__", "__gt__", "__ge__"):
        expected = getattr(theirs, compare)(other_theirs)
        assert getattr(ours, compare)(other_ours) is expected
        assert getattr(ours, compare)(other_theirs) is expected  # against a Fraction, too
    float_value = float(other_theirs)
    assert (ours < float_value) is (theirs < float_value) and (ours == float_value) is (theirs == float_value)


def test_whole_numbers_equal_and_hash_as_ints_and_floats() -> None:
    assert Exact(4, 2) == 2 and hash(Exact(4, 2)) == hash(2) == hash(2.0) and Exact(1, 2) == 0.5
    assert {Exact(1, 2): "half"}[Fraction(1, 2)] == "half"
    assert Exact(2) > 1 and Exact(-1, 3) < 0 and not Exact(0)
    for special in (float("inf"), float("-inf"), float("nan")):
        for compare in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
            assert getattr(Exact(1, 2), compare)(special) is getattr(Fraction(1, 2), compare)(special)
        assert (Exact(-3) < special) is (Fraction(-3) < special) and (special > Exact(5)) is (special > Fraction(5))
    assert (Exact(1, 2) == "1/2") is False


def test_is_immutable_and_pickles() -> None:
    value = Exact(6, 4)
    with pytest.raises(AttributeError):
        value.numerator = 1  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(value)) == Exact(3, 2) and repr(value) == "Exact(3, 2)"
    with pytest.raises(ValueError, match="not positive"):
        Exact(1, 0)


@given(st.integers(0, 10**12), st.integers(0, 12),
       st.sampled_from(["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
                        "e3", "E-2", "e0", "e-9"]), st.booleans())
def test_parse_quantity_is_the_exact_value_fractions_would_compute(digits: int, decimals: int, suffix: str,
                                                                  negative: bool) -> None:
    number = str(digits)
    if decimals:
        number = number.rjust(decimals + 1, "0")
        number = f"{number[:-decimals]}.{number[-decimals:]}"
    text = f"{'-' if negative else ''}{number}{suffix}"
    multipliers = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "k": 10**3,
                   "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20,
                   "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
    if suffix not in multipliers and len(suffix) > 1:  # an exponent
        multiplier = Fraction(10) ** int(suffix[1:])
    else:
        multiplier = multipliers.get(suffix, 1)
    expected = Fraction(number) * multiplier * (-1 if negative else 1)
    parsed = parse_quantity(text)
    assert parsed == expected and (parsed.numerator, parsed.denominator) == (expected.numerator, expected.denominator)
