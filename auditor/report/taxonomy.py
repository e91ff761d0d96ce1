"""How sure each rule is, and which weakness (CWE) it guards against: the one place the output
formats (SARIF's ``precision`` and ``external/cwe/cwe-N`` tags, GitLab's identifiers) read it.

``precision`` follows GitHub's scale (very-high, high, medium, low), judged per rule by how the
check decides:

* very-high: a fact read from a parsed file (the final stage's USER, a compose key, a Kubernetes
  securityContext field, an nginx directive) or about the run itself (a file that did not parse,
  a scanner that could not run);
* high: a judgement over parsed text with a known blind spot (shell commands inside RUN, secret
  names and literals, cross-file joins, an advisory database's version ranges);
* medium: a heuristic or a mirror of another tool (a base image "is Alpine" by its tag, Trivy's
  misconfiguration checks, coverage of documented layers).

A CWE is listed only where the control prevents that weakness directly; hardening and
availability controls without one have none. A rule not listed here (a new rule, a rule of a
newer catalog) gets ``DEFAULT_PRECISION`` and no CWE.
"""
from __future__ import annotations

DEFAULT_PRECISION = "high"

# rule -> (precision, CWE number or None)
RULES: dict[str, tuple[str, int | None]] = {
    # the auditor's own outcomes
    "AUD001": ("very-high", None), "AUD002": ("very-high", None), "AUD003": ("very-high", None),
    "AUD004": ("very-high", None),
    # compose
    "DC001": ("very-high", None),
    "DC002": ("very-high", 250),  # Execution with Unnecessary Privileges
    "DC003": ("very-high", 250),
    "DC004": ("very-high", 250),
    "DC005": ("very-high", 770),  # Allocation of Resources Without Limits or Throttling
    "DC006": ("high", None), "DC007": ("very-high", None), "DC008": ("high", None),
    "DC009": ("very-high", 250),
    "DC010": ("high", 798),  # Use of Hard-coded Credentials
    "DC011": ("high", None),
    # Dockerfile
    "DF001": ("high", None),
    "DF002": ("medium", None),  # "Alpine-based" read from the image name and tag
    "DF003": ("very-high", 494),  # Download of Code Without Integrity Check (a mutable tag)
    "DF004": ("very-high", None),
    "DF005": ("high", None), "DF006": ("high", None), "DF007": ("high", None),
    "DF008": ("very-high", 250),
    "DF009": ("high", 250),
    "DF010": ("high", None), "DF011": ("very-high", None), "DF012": ("very-high", None),
    "DF013": ("high", None), "DF014": ("very-high", None),
    "DF015": ("high", 798),
    "DF016": ("high", None),
    "DF017": ("high", 494),
    "DF018": ("very-high", None),
    "DF019": ("high", 538),  # Insertion of Sensitive Information into Externally-Accessible File
    # Kubernetes
    "KS001": ("very-high", 250), "KS002": ("very-high", None), "KS003": ("very-high", 250),
    "KS004": ("very-high", 250),
    "KS005": ("very-high", 770), "KS006": ("very-high", None), "KS007": ("high", None),
    "KS008": ("very-high", 494),
    "KS009": ("high", 319),  # Cleartext Transmission of Sensitive Information
    "KS010": ("very-high", 770),
    "KS011": ("very-high", None), "KS012": ("high", None),
    "KS013": ("high", 798),
    # nginx
    "NG001": ("very-high", 319),
    "NG002": ("very-high", 327),  # Use of a Broken or Risky Cryptographic Algorithm
    "NG003": ("very-high", 319),
    "NG004": ("very-high", 319),
    "NG005": ("high", None),
    "NG006": ("very-high", 1021),  # Improper Restriction of Rendered UI Layers or Frames
    "NG007": ("very-high", None),
    "NG008": ("very-high", 770),
    "NG009": ("very-high", None), "NG010": ("high", None), "NG011": ("high", None),
    "NG012": ("very-high", 200),  # Exposure of Sensitive Information (the server's version)
    "NG013": ("high", None),
    # Next.js
    "NX001": ("high", None), "NX002": ("high", None),
    "NX003": ("very-high", 200),
    "NX004": ("high", None),
    # external scanners
    "SC001": ("high", 1395),  # Dependency on Vulnerable Third-Party Component
    "SC002": ("medium", None),
    "SC003": ("high", 1395),
    "SC004": ("very-high", None),
    # cross-file
    "XF001": ("high", None), "XF002": ("high", None), "XF003": ("high", None),
    "XF004": ("high", None),
    "XF005": ("high", 540),  # Inclusion of Sensitive Information in Source Code
    "XF006": ("medium", None),
}

# Rules the external scanners report per advisory (one SARIF rule per CVE/GHSA): the control
# they belong to in the catalog.
ADVISORY_CONTROLS = ("SC001", "SC003")


def precision(rule_id: str) -> str:
    return RULES.get(rule_id, (DEFAULT_PRECISION, None))[0]


def cwe(rule_id: str) -> int | None:
    return RULES.get(rule_id, (DEFAULT_PRECISION, None))[1]


def tag(text: str) -> str:
    """One spelling per tag: lower case, words joined by hyphens (``cross_file`` and
    ``cross-file`` are the same tag)."""
    return "-".join(text.strip().lower().replace("_", "-").split())
