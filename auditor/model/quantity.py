"""Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource:
``<signedNumber><suffix>``): the one reader of ``500m``, ``2Gi``, ``1e3``, used by the Kubernetes
parser for manifests and by checks for their ceilings (KS005 ``max_cpu``/``max_memory``)."""
from __future__ import annotations

import re
from fractions import Fraction

# The exponent form must be tried before the bare `E` (exa) suffix: `1e3` is 1000, `1E` is 10**18.
_QUANTITY = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?")
_BINARY_SUFFIXES: dict[str, int] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES: dict[str, Fraction] = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "k": Fraction(10**3),
    "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12), "P": Fraction(10**15),
    "E": Fraction(10**18)}
# Kubernetes itself caps quantities far below this; the bound keeps `1e999999999` from building
# a number with a billion digits.
_MAX_EXPONENT = 64
_MAX_DIGITS = 64


class QuantityError(ValueError):
    """Text that is not a Kubernetes resource quantity."""


def parse_quantity(quantity: str | int | float) -> Fraction:
    """The exact value of a Kubernetes quantity in base units (cores, bytes).

    ``parse_quantity("500m") == Fraction(1, 2)``, ``parse_quantity("2Gi") == 2**31``,
    ``parse_quantity("1e3") == 1000``. YAML numbers (``cpu: 2``, ``cpu: 0.5``) are accepted.
    Raises ``QuantityError`` on anything else.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, (str, int, float)):
        raise QuantityError(f"{quantity!r} is not a quantity")
    if isinstance(quantity, int):
        return Fraction(quantity)
    text = repr(quantity) if isinstance(quantity, float) else quantity.strip()
    match = _QUANTITY.fullmatch(text)
    if match is None or len(match["number"]) > _MAX_DIGITS:
        raise QuantityError(f"{text!r} is not a quantity (expected e.g. 500m, 2, 1.5, 2Gi, 512Mi, 1G)")
    value = Fraction(match["number"])
    suffix = match["suffix"] or ""
    if suffix[:1] in ("e", "E") and suffix not in _BINARY_SUFFIXES and len(suffix) > 1:
        exponent = int(suffix[1:])
        if abs(exponent) > _MAX_EXPONENT:
            raise QuantityError(f"{text!r}: exponent {exponent} is out of range")
        value *= Fraction(10) ** exponent
    elif suffix in _BINARY_SUFFIXES:
        value *= _BINARY_SUFFIXES[suffix]
    elif suffix:
        value *= _DECIMAL_SUFFIXES[suffix]
    return -value if match["sign"] == "-" else value


def cpu_cores(quantity: str | int | float) -> float:
    """``"500m"`` -> 0.5, ``2`` -> 2.0."""
    return float(parse_quantity(quantity))


def memory_bytes(quantity: str | int | float) -> int:
    """``"2Gi"`` -> 2147483648, ``"2G"`` -> 2000000000; fractions of a byte round up."""
    value = parse_quantity(quantity)
    return -((-value.numerator) // value.denominator)
