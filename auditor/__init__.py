"""auditor: checks a containerised Next.js + nginx deployment against its security architecture."""
from __future__ import annotations

__version__ = "0.1.0"

# The garbage collector's thresholds for an audit (auditor.parallel.few_collections) and for the
# whole console-script process (auditor.cli.program). An audit allocates millions of small objects
# that live until the report is written (YAML nodes, model objects, findings, evidence) and makes
# almost no reference cycles; with the default thresholds the collector walks that growing heap
# over and over (a third of the CPU time of a 45,000-document manifest), and start-up's long-lived
# modules and classes 15 times. Young collections every 100,000 allocations instead of 700 keep
# cycles collected while costing a few percent.
AUDIT_GC_THRESHOLD = (100_000, 50, 100)
