"""Formatters: render an ``AuditResult``; they decide nothing."""

# GitHub's limit of results per SARIF run (auditor.report.sarif keeps the most severe; the text
# report says so): here, so that the text report does not import the SARIF writer to read it.
SARIF_MAX_RESULTS = 25_000
