"""Parsers: turn bytes into the models in ``auditor.model``; they never raise on user input."""
