"""Facts about an nginx model that several NG checks need: which locations to look at, where a
missing header belongs, how a header value is judged."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from auditor.findings import Fail, Outcome, Pass, Unknown
from auditor.model.nginx import Directive, Header, Location, NginxConfig, Server
from auditor.model.span import Span


def serves_content(server: Server, location: Location, *, tls_only: bool = False,
                   html_only: bool = False) -> bool:
    """Whether the location answers with content (not a redirect): pages only with
    ``html_only``, in a server that uses TLS only with ``tls_only``."""
    if tls_only and not server.uses_tls:
        return False
    return location.serves_html if html_only else location.serves_content


def header_anchor(server: Server, location: Location) -> Span:
    """Where a missing header belongs: the block whose ``add_header`` list is in effect there
    (a header added anywhere else would not reach this location), else the server."""
    if location.effective.headers_from is not None:
        return location.effective.headers_from
    # A stand-alone fragment's server is not in the tree: the location is the place to fix.
    return location.span if server.implicit else server.span


def value_anchor(doc: NginxConfig, server: Server) -> Directive | Server:
    """Where an unset value directive (gzip, server_tokens) belongs: ``http {}`` when there is
    one, so a single line fixes every server."""
    return doc.http if doc.http is not None else server


def file_line(span: Span) -> str:
    """``nginx.conf:18``, for messages."""
    return f"{span.path}:{span.line}"


def located(location: Location) -> str:
    """``location /api (nginx.conf:18)`` for messages."""
    return f"{location.label} ({file_line(location.span)})"



def header_home(server: Server, location: Location) -> str:
    """Names the block of ``header_anchor`` for messages: ``in location /api``."""
    span = header_anchor(server, location)
    block = next((loc for loc in server.locations if loc.span == span), None)
    if block is not None:
        return f"in {block.label}"
    return f"in {server.label}" if span == server.span else "in http {}"


def header_subject(server: Server, location: Location) -> str:
    """Who lacks the header, for messages: the location itself when it owns its add_header set,
    else the owning block and the location that inherits from it."""
    if header_anchor(server, location) == location.span:
        return location.label
    return f"{header_home(server, location)[3:]} (inherited by {location.label})"


def unread_text(unread: Iterable[Directive]) -> str:
    """What was not read, with where it was written: ``include /etc/x.conf at nginx.conf:9
    points outside the audited tree; not read``."""
    unread = list(dict.fromkeys(unread))
    text = "; ".join(directive.reason if not directive.args else
                     f"include {directive.args[0]} at {file_line(directive.span)} {directive.reason}"
                     for directive in unread[:3])
    return text + (f"; and {len(unread) - 3} more" if len(unread) > 3 else "")


def unknown(node: object, subject: str, what: str, unread: Iterable[Directive]) -> Unknown:
    """Unknown is not absent: ``what`` may be set by an include that was not read."""
    return Unknown(node, f"{subject}: {what} may be set by what the audit could not read "
                         f"({unread_text(unread)})")


def templated(node: object, subject: str, what: str) -> Unknown:
    return Unknown(node, f"{subject}: {what} comes from a template variable (${{...}}) that is "
                         "only known when the template is rendered")


def missing_header(server: Server, location: Location, names: str,
                   fail: Fail) -> Iterator[Outcome]:
    """A header the location lacks: ``fail``, or Unknown when an unread include could add it;
    nothing for a snippet (judged on what it writes)."""
    if server.snippet:
        return
    unread = location.effective.unknown("add_header")
    if unread:
        yield unknown(header_anchor(server, location), header_subject(server, location), names, unread)
    else:
        yield fail


def header_outcome(doc: NginxConfig, server: Server, location: Location, header: Header,
                   judge: Callable[[Header], Outcome]) -> Outcome:
    """A header present at ``location`` judged by ``judge`` on each value it can take (a
    ``map`` variable's values). A templated value, or a variable the tree does not define, is
    unknown; a pass is unknown while an unread include inside the owning level could drop it."""
    subject = header_subject(server, location)
    if header.templated:
        return templated(header, subject, header.name)
    values = doc.header_values(header)
    if values is None:
        return Unknown(header, f"{subject}: {header.name} is {header.value}, a variable the "
                               "audited tree does not define with a map, so its value is only "
                               "known at request time")
    if not values:
        return Fail(header, f"{header.name} {header.value} is empty for every response, so nginx "
                            "never sends it; give it a value")
    outcomes = [judge(value) for value in values]
    for kind in (Fail, Unknown):
        found = next((o for o in outcomes if isinstance(o, kind)), None)
        if found is not None:
            return found
    judged = outcomes[0] if len(outcomes) == 1 else Pass(
        header, "; ".join(o.evidence for o in outcomes if isinstance(o, Pass)))
    unread = location.effective.unknown("add_header:drop")
    if unread:
        return unknown(header_anchor(server, location), subject,
                       f"an add_header that drops {header.name}", unread)
    return judged

