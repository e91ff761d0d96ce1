"""Formatters: render an ``AuditResult``; they decide nothing."""
