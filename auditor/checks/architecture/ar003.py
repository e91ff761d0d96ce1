"""AR003: a security header the architecture document promises that no nginx configuration sends."""
from __future__ import annotations

from collections.abc import Iterator
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing

from auditor.checks.architecture._document import against_document, at, not_read, said
from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.nginx import Directive
from auditor.model.project import Project
from auditor.params import Params

if TYPE_CHECKING:
    from auditor.architecture.document import DocumentFacts

ID = "AR003"
NODES = "document"


@against_document
def check(project: Project, facts: DocumentFacts, params: Params) -> Iterator[Outcome]:
    promised = {key.removeprefix("header."): s for key, s in facts.promises().items() if key.startswith("header.")}
    if not promised or not project.nginx_configs:
        return  # no nginx at all is AR005's finding (the missing layer), not one per header
    sent: dict[str, Directive] = {}
    unread = not_read(project, "nginx")  # a header may be sent from there
    for config in project.nginx_configs:
        for top in config.directives:
            for directive in top.walk():
                if directive.name == "add_header" and directive.args:
                    sent.setdefault(directive.args[0].lower(), directive)
                    if "${" in directive.args[0]:
                        unread.append(f"add_header {directive.args[0]} at {directive.span.path}:"
                                      f"{directive.span.line} (a template variable)")
                elif directive.unread and (directive.may_set is None or "add_header" in directive.may_set):
                    unread.append(f"include {directive.args[0] if directive.args else ''} at "
                                  f"{directive.span.path}:{directive.span.line} {directive.reason}")
    for header, statement in sorted(promised.items()):
        sending = sent.get(header.lower())
        if sending is not None:
            yield Pass(sending, f"nginx sends {header}, as {said(facts, statement, header)}")
        elif unread:  # what was not read may send it: unknown, not missing
            yield Unknown(at(facts, statement), f"{said(facts, statement, header)}; no nginx configuration the "
                                                f"audit read sends it, and it may be sent by what it could not read: "
                                                f"{'; '.join(unread[:3])}" + (f"; and {len(unread) - 3} more"
                                                                              if len(unread) > 3 else ""))
        else:
            yield Fail(at(facts, statement), f"{said(facts, statement, header)}, but no nginx configuration "
                                             f"({', '.join(c.path for c in project.nginx_configs)}) sends it; "
                                             f"add_header {header} ... always, or correct the document")
