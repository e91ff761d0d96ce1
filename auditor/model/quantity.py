"""Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource:
``<signedNumber><suffix>``): the one reader of ``500m``, ``2Gi``, ``1e3``, used by the Kubernetes
parser for manifests and by checks for their ceilings (KS005 ``max_cpu``/``max_memory``)."""
from __future__ import annotations

import math
import re
import sys

# The exponent form must be tried before the bare `E` (exa) suffix: `1e3` is 1000, `1E` is 10**18.
_QUANTITY = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?")
_BINARY_SUFFIXES: dict[str, int] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_EXPONENTS: dict[str, int] = {
    "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# Kubernetes itself caps quantities far below this; the bound keeps `1e999999999` from building
# a number with a billion digits.
_MAX_EXPONENT = 64
_MAX_DIGITS = 64


class QuantityError(ValueError):
    """Text that is not a Kubernetes resource quantity."""


_HASH_MODULUS = sys.hash_info.modulus


class Exact:
    """An exact rational number in lowest terms: what ``fractions.Fraction`` holds, for what a
    quantity needs (comparing, negating, ``float``, ``numerator``/``denominator``; no arithmetic:
    the checks only compare quantities). The ``fractions`` module, with the ``decimal`` and
    ``numbers`` modules it imports, is 2.5% of a cold one-project scan. Compares and hashes as
    ``Fraction`` does with an ``int``, a ``float`` (infinities and NaN included) or a ``Fraction``."""

    __slots__ = ("numerator", "denominator")
    numerator: int
    denominator: int

    def __init__(self, numerator: int, denominator: int = 1) -> None:
        if denominator <= 0:
            raise ValueError(f"denominator {denominator} is not positive")
        divisor = math.gcd(numerator, denominator)
        object.__setattr__(self, "numerator", numerator // divisor)
        object.__setattr__(self, "denominator", denominator // divisor)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Exact is immutable (cannot set {name})")

    def __reduce__(self) -> tuple[type[Exact], tuple[int, int]]:
        return Exact, (self.numerator, self.denominator)

    def _cross(self, other: object) -> tuple[int | float, int | float] | None:
        """``(self's numerator x other's denominator, other's numerator x self's denominator)``:
        the two sides of any comparison; None for what is not a number. An infinite or NaN float
        is compared with 0.0 instead of this number, as ``Fraction`` does (any finite value is
        below infinity, and nothing equals NaN)."""
        if isinstance(other, float):
            if not math.isfinite(other):
                return 0.0, other
            numerator, denominator = other.as_integer_ratio()
            return self.numerator * denominator, numerator * self.denominator
        # int (its denominator is 1), Exact, Fraction and any other numbers.Rational
        top, bottom = getattr(other, "numerator", None), getattr(other, "denominator", None)
        if not isinstance(top, int) or not isinstance(bottom, int):
            return None
        return self.numerator * bottom, top * self.denominator

    def __eq__(self, other: object) -> bool:
        sides = self._cross(other)
        if sides is None:
            return NotImplemented
        return sides[0] == sides[1]

    def __lt__(self, other: object) -> bool:
        sides = self._cross(other)
        if sides is None:
            return NotImplemented
        return sides[0] < sides[1]

    def __le__(self, other: object) -> bool:
        sides = self._cross(other)
        if sides is None:
            return NotImplemented
        return sides[0] <= sides[1]

    def __gt__(self, other: object) -> bool:
        sides = self._cross(other)
        if sides is None:
            return NotImplemented
        return sides[0] > sides[1]

    def __ge__(self, other: object) -> bool:
        sides = self._cross(other)
        if sides is None:
            return NotImplemented
        return sides[0] >= sides[1]

    def __hash__(self) -> int:
        # Python's hash of a rational number (fractions.Fraction.__hash__, the numeric types'
        # documented algorithm): equal numbers of every type hash alike
        try:
            inverse = pow(self.denominator, -1, _HASH_MODULUS)
        except ValueError:  # the denominator is a multiple of the modulus
            value = sys.hash_info.inf
        else:
            value = hash(hash(abs(self.numerator)) * inverse)
        value = value if self.numerator >= 0 else -value
        return -2 if value == -1 else value

    def __neg__(self) -> Exact:
        return Exact(-self.numerator, self.denominator)

    def __float__(self) -> float:
        return self.numerator / self.denominator  # int / int rounds correctly, as Fraction does

    def __bool__(self) -> bool:
        return self.numerator != 0

    def __repr__(self) -> str:
        return f"Exact({self.numerator}, {self.denominator})"

    def __str__(self) -> str:
        return str(self.numerator) if self.denominator == 1 else f"{self.numerator}/{self.denominator}"


def parse_quantity(quantity: str | int | float) -> Exact:
    """The exact value of a Kubernetes quantity in base units (cores, bytes).

    ``parse_quantity("500m") == Exact(1, 2)`` (``== 0.5``), ``parse_quantity("2Gi") == 2**31``,
    ``parse_quantity("1e3") == 1000``. YAML numbers (``cpu: 2``, ``cpu: 0.5``) are accepted.
    Raises ``QuantityError`` on anything else.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, (str, int, float)):
        raise QuantityError(f"{quantity!r} is not a quantity")
    if isinstance(quantity, int):
        return Exact(quantity)
    text = repr(quantity) if isinstance(quantity, float) else quantity.strip()
    match = _QUANTITY.fullmatch(text)
    if match is None or len(match["number"]) > _MAX_DIGITS:
        raise QuantityError(f"{text!r} is not a quantity (expected e.g. 500m, 2, 1.5, 2Gi, 512Mi, 1G)")
    whole, _, decimals = match["number"].partition(".")
    numerator, exponent = int(whole + decimals or "0"), -len(decimals)  # 1.25 -> 125 x 10**-2
    multiplier = 1
    suffix = match["suffix"] or ""
    if suffix[:1] in ("e", "E") and suffix not in _BINARY_SUFFIXES and len(suffix) > 1:
        written = int(suffix[1:])
        if abs(written) > _MAX_EXPONENT:
            raise QuantityError(f"{text!r}: exponent {written} is out of range")
        exponent += written
    elif suffix in _BINARY_SUFFIXES:
        multiplier = _BINARY_SUFFIXES[suffix]
    elif suffix:
        exponent += _DECIMAL_EXPONENTS[suffix]
    numerator *= multiplier * 10 ** max(exponent, 0)
    if match["sign"] == "-":
        numerator = -numerator
    return Exact(numerator, 10 ** max(-exponent, 0))


def cpu_cores(quantity: str | int | float) -> float:
    """``"500m"`` -> 0.5, ``2`` -> 2.0."""
    return float(parse_quantity(quantity))


def memory_bytes(quantity: str | int | float) -> int:
    """``"2Gi"`` -> 2147483648, ``"2G"`` -> 2000000000; fractions of a byte round up."""
    value = parse_quantity(quantity)
    return -((-value.numerator) // value.denominator)
