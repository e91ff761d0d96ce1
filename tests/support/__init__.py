"""Helpers shared by the test suite (validators, builders); no tests of the product live here."""
from __future__ import annotations
