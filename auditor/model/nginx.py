"""The nginx model: one spliced directive tree per root config, with the *effective* settings of
every ``server`` and ``location`` computed once, after nginx's inheritance rules.

The inheritance facts encoded here (nginx source, ``*_merge_loc_conf`` of each module):
- array directives (``add_header``, ``proxy_set_header``, ``limit_req``, ``ssl_certificate``) are
  inherited all-or-nothing: a level with one of its own inherits none from above
  (https://nginx.org/en/docs/http/ngx_http_headers_module.html#add_header), unless
  ``add_header_inherit merge|off`` (nginx 1.29.3) says otherwise for headers;
- value directives (``ssl_protocols``, ``gzip``, ``expires``, ``root``, ``server_tokens`` ...)
  are inherited from the nearest level that sets them;
- handlers (``proxy_pass``) and location-level rewrite directives (``return``) are never
  inherited by nested locations, but a server-level ``return`` runs in the server-rewrite phase,
  before any location is chosen, so it answers every request of that server.
Blocks inside ``if`` and ``limit_except`` are conditional and do not count as the level's own;
but an ``if`` inside a location that declares ``add_header`` is a level of its own (nginx gives
the ``if`` its own location configuration: when the condition holds, its header list replaces the
location's), modelled as a ``Location`` with ``condition`` set.

Unknown is not absent. An include the parser did not read stays in the tree as an ``include``
directive with a ``reason``; ``Effective.unknown(key)`` lists the unread includes that could change
what a level sees for one directive:
- a value directive (``ssl_protocols``, ``server_tokens`` ...): unread includes at every level
  inside the one that sets it (at the setting level itself nginx would reject a duplicate), or at
  every level when none sets it;
- an array directive (``add_header``, ``limit_req``, ``ssl_certificate`` ...): for its *absence*,
  unread includes at the level that owns the list and inside it; for a header's *presence*
  (``add_header:drop``), only those strictly inside the owning level (one could declare
  ``add_header`` and drop the inherited list);
- ``return``: the level's own and its server's; ``listen``: the server's.
A stand-alone fragment of ``location`` blocks sits in a server that is not in the tree: that
server level is unknown (a synthetic unread include). A fragment of plain directives (a snippet)
is judged on what it writes only.

A server without a catch-all ``location /`` also answers from its own level (nginx's implicit
default location), so ``effective_locations`` includes that level next to the declared ones.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator and typing's NamedTuple; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import NamedTuple
else:
    from auditor.record import NamedTuple, dataclass, field

from auditor.model.span import Span
from auditor.patterns import on_first_use

# ---------------------------------------------------------------------------------------------
# Leaf records


@dataclass(frozen=True, slots=True)
class Directive:
    """One directive; ``block`` is ``None`` for simple directives and a tuple for blocks.

    ``span`` is the directive's own file and line: directives spliced in by ``include`` keep the
    included file's position."""

    name: str
    args: tuple[str, ...]
    span: Span
    block: tuple[Directive, ...] | None = None
    reason: str = ""  # set on an ``include`` the parser did not read: why
    may_set: frozenset[str] | None = None  # what an unread include can set (None: anything)

    @property
    def unread(self) -> bool:
        return self.name == "include" and bool(self.reason)

    @property
    def templated(self) -> bool:
        """An argument is an envsubst ``${VAR}`` of a template: its value is not known."""
        return is_template(self.span.path) and any("${" in arg for arg in self.args)

    def children(self, name: str) -> tuple[Directive, ...]:
        return tuple(child for child in self.block or () if child.name == name)

    def walk(self) -> Iterator[Directive]:
        """This directive and everything below it, in file order."""
        yield self
        for child in self.block or ():
            yield from child.walk()


_TEMPLATE_SUFFIXES = (".template", ".tpl")


def is_template(path: str) -> bool:
    """A file rendered before nginx reads it (the official image's envsubst templates)."""
    return path.lower().endswith(_TEMPLATE_SUFFIXES)


def templated(args: Iterable[str], span: Span) -> bool:
    return is_template(span.path) and any("${" in arg for arg in args)


@dataclass(frozen=True, slots=True)
class Setting:
    """The effective value of a value directive and the directive that set it."""

    args: tuple[str, ...]
    span: Span

    @property
    def templated(self) -> bool:
        return templated(self.args, self.span)

    @property
    def value(self) -> str:
        return " ".join(self.args)

    @property
    def is_on(self) -> bool:
        return self.value.lower() == "on"


@dataclass(frozen=True, slots=True)
class Header:
    """An ``add_header``: header names compare case-insensitively (``key``)."""

    name: str
    value: str
    always: bool
    span: Span

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def templated(self) -> bool:
        return templated((self.name, self.value), self.span)


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    """A ``proxy_set_header``."""

    name: str
    value: str
    span: Span

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Listen:
    """A ``listen``; ``port`` is ``None`` for unix sockets. ``implicit`` marks the ``*:80`` nginx
    assumes for a server without any ``listen``."""

    port: int | None
    ssl: bool
    span: Span
    address: str | None = None
    default_server: bool = False
    http2: bool = False
    implicit: bool = False

    @classmethod
    def parse(cls, args: tuple[str, ...], span: Span) -> Listen:
        address, port = _split_host_port(args[0] if args else "80", default_port=80,
                                         bare_number_is_port=True)
        if templated(args[:1], span):
            port = None  # `listen ${PORT}`: the port is chosen when the template is rendered
        flags = {arg.lower() for arg in args[1:]}
        return cls(port, "ssl" in flags, span, address,
                   bool(flags & {"default_server", "default"}), "http2" in flags)


class UpstreamServer(NamedTuple):
    """``server host[:port]`` inside an ``upstream``; unpacks as ``(host, port, span)``."""

    host: str
    port: int | None
    span: Span


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    servers: tuple[UpstreamServer, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class LimitReqZone:
    """``limit_req_zone key zone=name:size rate=10r/s``; ``rate_per_second`` is ``None`` when
    the rate cannot be read."""

    name: str
    rate_per_second: float | None
    span: Span
    rate: str = ""
    key: str = ""


@dataclass(frozen=True, slots=True)
class LimitReq:
    """``limit_req zone=name [burst=n] [nodelay]``; ``zone`` is the matching ``limit_req_zone``
    or ``None`` when no zone of that name is defined."""

    zone_name: str
    span: Span
    zone: LimitReqZone | None = None
    burst: int | None = None
    nodelay: bool = False


@dataclass(frozen=True, slots=True)
class ProxyPass:
    """``proxy_pass URL`` split into its parts; ``upstream`` is the named ``upstream`` block when
    the host names one. ``has_variables`` marks URLs nginx resolves at request time."""

    url: str
    span: Span
    scheme: str
    host: str
    port: int | None
    upstream: Upstream | None = None

    @property
    def has_variables(self) -> bool:
        return "$" in self.url

    @property
    def templated(self) -> bool:
        return templated((self.url,), self.span)

    @property
    def ports(self) -> frozenset[int]:
        """The ports requests can go to: the upstream's servers', else the URL's."""
        if self.upstream is not None:
            return frozenset(server.port for server in self.upstream.servers
                             if server.port is not None)
        return frozenset({self.port}) if self.port is not None else frozenset()


@dataclass(frozen=True, slots=True)
class Return:
    """``return code [url|text]`` (or a catch-all ``rewrite ... permanent|redirect``)."""

    code: int | None
    target: str
    span: Span

    @property
    def is_redirect(self) -> bool:
        return self.code in (301, 302, 303, 307, 308)

    @property
    def redirects_to_https(self) -> bool:
        return self.is_redirect and self.target.lower().startswith("https://")

    @property
    def is_permanent(self) -> bool:
        return self.code in (301, 308)

    @property
    def serves_body(self) -> bool:
        """A 2xx ``return`` answers with content (``return 200 "ok"``); anything else (a 204
        preflight answer included) does not."""
        return self.code is not None and 200 <= self.code < 300 and self.code != 204

    @classmethod
    def parse(cls, args: tuple[str, ...], span: Span) -> Return:
        if not args:
            return cls(None, "", span)
        if args[0].isdigit():
            return cls(int(args[0]), " ".join(args[1:]), span)
        # ``return URL`` is a 302 (nginx docs, ngx_http_rewrite_module#return).
        return cls(302, args[0], span)


# ---------------------------------------------------------------------------------------------
# TLS ciphers

# Weak families and the OpenSSL cipher-string components that name them. NULL is split in two
# because ``!aNULL`` (anonymous key exchange) does not remove ``eNULL`` (no encryption).
_FAMILY_COMPONENTS: dict[str, frozenset[str]] = {
    "RC4": frozenset({"RC4"}),
    "DES": frozenset({"DES", "DES40"}),
    "3DES": frozenset({"3DES", "CBC3", "EDE"}),
    "MD5": frozenset({"MD5"}),
    "eNULL": frozenset({"ENULL", "NULL"}),
    "aNULL": frozenset({"ANULL", "ADH", "AECDH", "ANON"}),
    "EXPORT": frozenset({"EXP", "EXPORT", "EXPORT40", "EXPORT56", "EXP1024"}),
}
# Aliases that enable whole groups (OpenSSL ciphers(1)). ``HIGH`` and ``DEFAULT`` are safe on
# OpenSSL >= 1.1.0, where 3DES moved to MEDIUM and RC4/DES/EXPORT are no longer built.
_GROUP_FAMILIES: dict[str, frozenset[str]] = {
    "ALL": frozenset({"RC4", "DES", "3DES", "MD5", "aNULL", "EXPORT"}),
    "COMPLEMENTOFALL": frozenset({"eNULL"}),
    "LOW": frozenset({"DES", "EXPORT"}),
    "MEDIUM": frozenset({"RC4", "3DES"}),
    "SSLV3": frozenset({"RC4", "DES", "3DES", "MD5"}),
}
WEAK_CIPHER_NAMES: dict[str, frozenset[str]] = {
    # catalog name -> internal families
    "RC4": frozenset({"RC4"}), "DES": frozenset({"DES"}), "3DES": frozenset({"3DES"}),
    "MD5": frozenset({"MD5"}), "NULL": frozenset({"eNULL", "aNULL"}),
    "EXPORT": frozenset({"EXPORT"}),
}


@functools.lru_cache(maxsize=1024)  # a token's families: every config of a tree repeats its cipher list
def _cipher_families(token: str) -> frozenset[str]:
    upper = token.upper()
    if upper in _GROUP_FAMILIES:
        return _GROUP_FAMILIES[upper]
    components = set(re.split(r"[-+_]", upper))
    found = {family for family, names in _FAMILY_COMPONENTS.items() if components & names}
    if "3DES" in found:  # DES-CBC3-SHA is triple DES, not single DES
        found.discard("DES")
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class CipherList:
    """An OpenSSL cipher string (``ssl_ciphers``) read the way OpenSSL applies it: tokens in
    order, ``-X`` removes what is enabled so far, ``!X`` removes X for good."""

    raw: str
    span: Span
    enabled: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    weak_families: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, raw: str, span: Span) -> CipherList:
        enabled: set[str] = set()
        excluded: set[str] = set()
        families: set[str] = set()
        banned: set[str] = set()
        for token in (t for t in re.split(r"[:,\s]+", raw.strip().strip("'\"")) if t):
            prefix, name = (token[0], token[1:]) if token[0] in "!-+" else ("", token)
            if name.startswith("@") or not name:
                continue  # @STRENGTH, @SECLEVEL=n: ordering and policy, not membership
            if prefix == "!":
                excluded.add(name)
                banned |= _cipher_families(name)
            elif prefix == "-":
                enabled.discard(name)
                families -= _cipher_families(name)
            elif prefix == "":
                enabled.add(name)
                families |= _cipher_families(name)
        return cls(raw, span, frozenset(enabled - excluded), frozenset(excluded),
                   frozenset(families - banned))

    def weak_enabled(self, names: Iterable[str]) -> list[str]:
        """Which of the catalog's weak names (RC4, DES, 3DES, MD5, NULL, EXPORT) stay enabled."""
        return [name for name in names
                if WEAK_CIPHER_NAMES.get(name.upper(), frozenset({name})) & self.weak_families]


# ---------------------------------------------------------------------------------------------
# Effective configuration


@dataclass(frozen=True, slots=True)
class Effective:
    """The settings that apply at one level (http, server or location) after inheritance.

    ``headers_from`` is the span of the block whose ``add_header`` list is in effect (``None``
    when no level sets any); ``lost_headers`` are the parent's headers this level dropped by
    declaring ``add_header`` of its own, each with the span where the parent set it."""

    headers: tuple[Header, ...] = ()
    headers_from: Span | None = None
    lost_headers: tuple[Header, ...] = ()
    header_inherit: str = "on"
    proxy_set_headers: tuple[ProxyHeader, ...] = ()
    limit_reqs: tuple[LimitReq, ...] = ()
    ssl_protocols: Setting | None = None
    ssl_ciphers: CipherList | None = None
    ssl_certificates: tuple[Setting, ...] = ()
    ssl_certificate_keys: tuple[Setting, ...] = ()
    gzip: Setting | None = None
    gzip_types: Setting | None = None
    expires: Setting | None = None
    server_tokens: Setting | None = None
    root: Setting | None = None
    alias: Setting | None = None
    try_files: Setting | None = None
    proxy_pass: ProxyPass | None = None
    return_: Return | None = None
    unread: tuple[tuple[str, tuple[Directive, ...]], ...] = ()

    def unknown(self, *keys: str) -> tuple[Directive, ...]:
        """The unread includes that could change what this level sees for ``keys`` (see the
        module docstring), in file order, each once."""
        if not self.unread:  # the usual answer: every include of the tree was read
            return ()
        pending = dict(self.unread)
        if len(keys) == 1:  # the usual question, asked per location by several controls
            found = pending.get(keys[0], ())
            return tuple(dict.fromkeys(found)) if found else ()
        return tuple(dict.fromkeys(d for key in keys for d in pending.get(key, ())))

    def header(self, name: str) -> Header | None:
        """The first effective header called ``name`` (any case) with a non-empty value."""
        wanted = name.lower()
        for header in self.headers:
            if header.value and header.name.lower() == wanted:
                return header
        return None

    def has_proxy_header(self, name: str) -> bool:
        wanted = name.lower()
        for header in self.proxy_set_headers:
            if header.name.lower() == wanted:
                return True
        return False

    @property
    def ssl_certificate(self) -> Setting | None:
        return self.ssl_certificates[0] if self.ssl_certificates else None

    @property
    def ssl_certificate_key(self) -> Setting | None:
        return self.ssl_certificate_keys[0] if self.ssl_certificate_keys else None


_STATIC_EXTENSIONS = on_first_use(r"\b(js|css|png|jpe?g|gif|svg|ico|woff2?|ttf|webp|avif|map)\b")
# Locations whose answers are not pages a browser renders: APIs, Next.js build assets and image
# optimiser, ACME challenges, health and status endpoints.
_NOT_HTML = re.compile(
    r"^[\^]?/(api|_next/(static|image|data)|\.well-known/acme-challenge|"
    r"(api/)?(health|healthz|healthcheck|livez|readyz|ready|ping|status|nginx_status|"
    r"stub_status|metrics))(\b|/|$)", re.IGNORECASE)
_CATCH_ALL_LOCATION_REGEXES = frozenset({"^", "^/", "/", ".*", "^.*", "^.*$", "^/.*", "^/.*$",
                                         "(.*)", "^(.*)$", "^/(.*)$", "^/?(.*)$"})


@dataclass(frozen=True, slots=True)
class Location:
    """A ``location`` (nested ones too, with ``parent``), or the implicit server-level location
    of a server that declares none (``implicit``)."""

    span: Span
    modifier: str | None
    uri: str
    parent: Location | None
    effective: Effective
    directives: tuple[Directive, ...] = ()  # the block as written, `if` blocks included
    implicit: bool = False
    condition: str | None = None  # an `if (...)` level inside ``parent``: its condition

    @property
    def named(self) -> bool:
        return self.uri.startswith("@")

    @property
    def proxies_to_app(self) -> bool:
        """Requests here go to an upstream: ``proxy_pass`` and no ``return`` answering first."""
        return self.effective.proxy_pass is not None and self.effective.return_ is None

    @property
    def serves_content(self) -> bool:
        """A response body comes from here: proxied, a file (root/alias/try_files, or nginx's
        default ``html`` root) or a 2xx ``return``. Redirects, error returns, ``deny all`` and
        ACME challenge locations serve nothing a browser reads."""
        if self.effective.return_ is not None:
            return self.effective.return_.serves_body
        if self.acme_challenge:
            return False  # challenge tokens for the certificate authority, not content
        return not _denies_everyone(self.directives)

    @property
    def acme_challenge(self) -> bool:
        return ".well-known/acme-challenge" in self.uri

    @property
    def serves_static_assets(self) -> bool:
        """Meant for build assets: ``/_next/static``, ``/static/`` or a regex on asset suffixes."""
        if "_next/static" in self.uri or self.uri.startswith("/static"):
            return True
        return self.modifier in ("~", "~*") and "html" not in self.uri and bool(
            _STATIC_EXTENSIONS.search(self.uri))

    @property
    def catches_all(self) -> bool:
        """``location /`` (or a regex matching every URI): no request falls through to the
        server's own level."""
        if self.condition is not None or self.parent is not None:
            return False
        if self.modifier in (None, "^~"):
            return self.uri == "/"
        return self.modifier in ("~", "~*") and self.uri in _CATCH_ALL_LOCATION_REGEXES

    @property
    def serves_html(self) -> bool:
        """Content that a browser may render as a page: not static assets, APIs, the image
        optimiser, ACME challenges, health endpoints or ``return``-only answers."""
        if not self.serves_content or self.serves_static_assets:
            return False
        if self.effective.return_ is not None or _NOT_HTML.search(self.uri.strip()):
            return False
        return not any(d.name == "stub_status" for d in self.directives)

    @property
    def label(self) -> str:
        """How a message names this location: ``location /api`` or ``the server block``."""
        if self.condition is not None and self.parent is not None:
            return f"if {self.condition} in {self.parent.label}"
        if self.implicit:
            return "the server block"
        return "location " + " ".join(part for part in (self.modifier, self.uri) if part)


@dataclass(frozen=True, slots=True)
class Server:
    """A ``server`` block of the http context. ``implicit`` marks the stand-in wrapped around a
    stand-alone fragment of ``location`` blocks that nothing includes."""

    span: Span
    listens: tuple[Listen, ...]
    server_names: tuple[str, ...]
    locations: tuple[Location, ...]
    effective: Effective
    directives: tuple[Directive, ...] = ()  # the block as written, `if` blocks included
    implicit: bool = False
    snippet: bool = False  # a fragment of plain directives: judged on what it writes only

    @property
    def effective_listens(self) -> tuple[Listen, ...]:
        """The declared listens, or the ``*:80`` nginx assumes without one (running as root)."""
        if self.listens or self.implicit:
            return self.listens
        return (Listen(80, False, self.span, None, implicit=True),)

    @property
    def ports(self) -> frozenset[int]:
        return frozenset(listen.port for listen in self.effective_listens if listen.port is not None)

    @property
    def uses_tls(self) -> bool:
        """Any ``listen ... ssl`` (or the legacy ``ssl on``). A stand-alone location fragment is
        assumed to belong to the HTTPS server, the only one that serves content in the
        reference architecture."""
        if self.implicit:
            return True
        legacy = any(d.name == "ssl" and d.args[:1] == ("on",) for d in self.directives)
        return legacy or any(listen.ssl for listen in self.listens)

    @property
    def effective_locations(self) -> tuple[Location, ...]:
        """Every location a request can end in: the declared ones, and the server's own level
        (nginx's implicit default location) unless a ``location /`` catches every request. A
        stand-alone fragment of locations answers only through them."""
        if any(location.catches_all for location in self.locations) or (
                self.implicit and self.locations):
            return self.locations
        default = Location(self.span, None, "", None, self.effective, (), implicit=True)
        return self.locations + (default,)

    @property
    def serves_content(self) -> bool:
        return any(location.serves_content for location in self.effective_locations)

    @property
    def label(self) -> str:
        if self.implicit:
            return f"the server that includes {self.span.path}"
        names = " ".join(n for n in self.server_names if n and n != "_")
        return f"server {names}" if names else f"the server block at line {self.span.line}"


@dataclass(frozen=True, slots=True)
class NginxConfig:
    """One root config with its includes spliced in. ``http`` is ``None`` for a stand-alone
    fragment (audited as if it sat inside ``http {}``). ``files`` lists every file that
    contributed, root first."""

    path: str
    directives: tuple[Directive, ...]
    http: Directive | None
    servers: tuple[Server, ...]
    upstreams: tuple[Upstream, ...]
    limit_req_zones: tuple[LimitReqZone, ...]
    files: tuple[str, ...] = ()
    http_effective: Effective = field(default_factory=Effective)
    maps: tuple[tuple[str, tuple[tuple[str, Span], ...]], ...] = ()
    # TLS servers on 443 in the tree's other root configs (a main nginx.conf and the site
    # fragments beside it are one deployment): "no server listens on 443" is false then.
    tls_elsewhere: tuple[Span, ...] = ()

    def header_values(self, header: Header) -> tuple[Header, ...] | None:
        """The values a header can take: itself, or for a value that is exactly a ``map``
        variable (h5bp's ``add_header X-Frame-Options $x_frame_options``), one Header per
        non-empty value of the map, at the map line (an empty value sends no header).
        ``None`` when the value holds a variable the tree does not define by a ``map``."""
        if "$" not in header.value:
            return (header,)
        defined = dict(self.maps)
        values = defined.get(header.value.strip())
        if values is None:
            return None
        return tuple(Header(header.name, value, header.always, span)
                     for value, span in values if value)

    @property
    def span(self) -> Span:
        return Span(self.path, 1)

    @property
    def http_unread(self) -> tuple[Directive, ...]:
        """Unread includes written at the http level: they could hold servers, zones, anything."""
        level = self.http.block if self.http is not None and self.http.block else \
            (() if self.servers and self.servers[0].implicit else self.directives)
        return tuple(d for d in level or () if d.unread and d.may_set is None)

    def upstream(self, name: str) -> Upstream | None:
        return next((u for u in self.upstreams if u.name == name), None)

    def zone(self, name: str) -> LimitReqZone | None:
        return next((z for z in self.limit_req_zones if z.name == name), None)

    def locations(self) -> Iterator[tuple[Server, Location]]:
        """Every (server, location) pair, implicit server-level locations included."""
        for server in self.servers:
            for location in server.effective_locations:
                yield server, location


# ---------------------------------------------------------------------------------------------
# Small parsers shared by the model and the checks

_TIME_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
               "M": 2592000, "y": 31536000}
_TIME_PART = on_first_use(r"(\d+)(ms|s|m|h|d|w|M|y)?")
# ``expires max`` sends ``Cache-Control: max-age=315360000`` (10 years).
EXPIRES_MAX_SECONDS = 315360000


def parse_time(text: str) -> float | None:
    """An nginx time (``1y``, ``30d``, ``1h30m``, ``600``) in seconds; ``None`` if unreadable."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if not text or _TIME_PART.sub("", text).strip():
        return None
    return sign * sum(int(n) * _TIME_UNITS[unit or "s"] for n, unit in _TIME_PART.findall(text))


def expires_seconds(args: tuple[str, ...]) -> float | None:
    """How long ``expires ...`` lets clients cache, in seconds; ``None`` for ``off``/variables."""
    values = [a for a in args if a != "modified"]
    if not values:
        return None
    value = values[0]
    if value == "max":
        return EXPIRES_MAX_SECONDS
    if value == "epoch":
        return 0
    if value == "off" or value.startswith(("$", "@")):
        return None
    return parse_time(value)


_RATE = re.compile(r"^(\d+(?:\.\d+)?)r/([sm])$")


def parse_rate(text: str) -> float | None:
    """``10r/s`` -> 10.0, ``600r/m`` -> 10.0; ``None`` if unreadable."""
    match = _RATE.match(text.strip())
    if not match:
        return None
    number = float(match.group(1))
    return number if match.group(2) == "s" else number / 60


def _split_host_port(text: str, default_port: int | None,
                     bare_number_is_port: bool = False) -> tuple[str | None, int | None]:
    if text.startswith("unix:"):
        return text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else default_port
    if bare_number_is_port and text.isdigit():
        return None, int(text)
    host, colon, port = text.rpartition(":")
    if colon and port.isdigit():
        return host or None, int(port)
    return text, default_port


_URL = re.compile(r"^(?P<scheme>[a-z]+)://(?P<hostport>[^/?#]*)", re.IGNORECASE)


def parse_proxy_pass(url: str, span: Span, upstreams: dict[str, Upstream]) -> ProxyPass:
    match = _URL.match(url)
    if not match:
        return ProxyPass(url, span, "", url, None)
    scheme = match.group("scheme").lower()
    hostport = match.group("hostport")
    upstream = upstreams.get(hostport)
    if upstream is not None:
        return ProxyPass(url, span, scheme, hostport, None, upstream)
    host, port = _split_host_port(hostport, 443 if scheme == "https" else 80)
    return ProxyPass(url, span, scheme, host or "", port, upstreams.get(host or ""))


def content_security_policy(value: str) -> dict[str, tuple[str, ...]]:
    """A CSP header value as {directive: sources}, directive names lower-cased."""
    policy: dict[str, tuple[str, ...]] = {}
    for part in value.split(";"):
        words = part.split()
        if words and words[0].lower() not in policy:  # the first occurrence wins (CSP3 §2.2)
            policy[words[0].lower()] = tuple(words[1:])
    return policy


# ---------------------------------------------------------------------------------------------
# Building the model from a spliced directive tree

_CONDITIONAL_BLOCKS = frozenset({"if", "limit_except"})
_VALUE_SETTINGS = ("ssl_protocols", "gzip", "gzip_types", "expires", "server_tokens", "root")
_VALUE_KEYS = _VALUE_SETTINGS + ("ssl_ciphers",)
_ARRAY_KEYS = ("ssl_certificate", "ssl_certificate_key", "proxy_set_header", "limit_req")
_MAIN_ONLY = frozenset({"http", "events", "stream", "mail", "user", "worker_processes", "pid",
                        "load_module", "worker_rlimit_nofile", "daemon", "master_process", "env",
                        "worker_cpu_affinity", "worker_priority"})
_CATCH_ALL_REGEXES = frozenset({"^", "^(.*)$", "^/(.*)$", "^/?(.*)$", ".*", "(.*)", "^.*$",
                                "^/.*$", "/"})


def _denies_everyone(directives: tuple[Directive, ...]) -> bool:
    access = [d for d in directives if d.name in ("allow", "deny")]
    return bool(access) and access[0].name == "deny" and access[0].args[:1] == ("all",)


def _own_return(directives: tuple[Directive, ...]) -> Return | None:
    for directive in directives:
        if directive.name == "return":
            return Return.parse(directive.args, directive.span)
        if (directive.name == "rewrite" and len(directive.args) >= 3
                and directive.args[0] in _CATCH_ALL_REGEXES
                and directive.args[2] in ("permanent", "redirect")):
            code = 301 if directive.args[2] == "permanent" else 302
            return Return(code, directive.args[1], directive.span)
    return None


def _first(directives: tuple[Directive, ...], name: str) -> Directive | None:
    return next((d for d in directives if d.name == name), None)


class _Builder:
    """Turns a spliced tree into servers and locations with their effective settings."""

    def __init__(self, upstreams: tuple[Upstream, ...], zones: tuple[LimitReqZone, ...]) -> None:
        self._upstreams = {u.name: u for u in upstreams}
        self._zones = {z.name: z for z in zones}

    def merge(self, parent: Effective, owner: Span, own: tuple[Directive, ...]) -> Effective:
        """``parent`` seen through one more level whose direct children are ``own``."""
        values: dict[str, object] = {}
        for name in _VALUE_SETTINGS:
            directive = _first(own, name)
            if directive is not None:
                values[name] = Setting(directive.args, directive.span)
        ciphers = _first(own, "ssl_ciphers")
        if ciphers is not None:
            values["ssl_ciphers"] = CipherList.parse(" ".join(ciphers.args), ciphers.span)
        for name, plural in (("ssl_certificate", "ssl_certificates"),
                             ("ssl_certificate_key", "ssl_certificate_keys")):
            settings = tuple(Setting(d.args, d.span) for d in own if d.name == name)
            if settings:
                values[plural] = settings
        proxy_headers = tuple(ProxyHeader(d.args[0] if d.args else "", " ".join(d.args[1:]),
                                          d.span) for d in own if d.name == "proxy_set_header")
        if proxy_headers:
            values["proxy_set_headers"] = proxy_headers
        limits = tuple(self._limit_req(d) for d in own if d.name == "limit_req")
        if limits:
            values["limit_reqs"] = limits
        values.update(self._headers(parent, owner, own))
        values["unread"] = _pending(parent, own, values.get("headers_from") == owner
                                    or values.get("header_inherit") == "off")
        # Never inherited: each level starts without them (see the module docstring).
        values.update(alias=None, try_files=None, proxy_pass=None, return_=None)
        alias, try_files, proxy = (_first(own, n) for n in ("alias", "try_files", "proxy_pass"))
        if alias is not None:
            values["alias"] = Setting(alias.args, alias.span)
        if try_files is not None:
            values["try_files"] = Setting(try_files.args, try_files.span)
        if proxy is not None and proxy.args:
            values["proxy_pass"] = parse_proxy_pass(proxy.args[0], proxy.span, self._upstreams)
        values["return_"] = _own_return(own)
        # fields named at run time, each value built for its field above: replace() cannot be
        # typed from a dict of names
        return replace(parent, **values)  # type: ignore[arg-type]

    def _headers(self, parent: Effective, owner: Span,
                 own: tuple[Directive, ...]) -> dict[str, object]:
        inherit_directive = _first(own, "add_header_inherit")
        inherit = inherit_directive.args[0].lower() if inherit_directive and \
            inherit_directive.args else parent.header_inherit
        headers = tuple(Header(d.args[0] if d.args else "", d.args[1] if len(d.args) > 1 else "",
                               "always" in d.args[2:], d.span)
                        for d in own if d.name == "add_header")
        if inherit == "merge":
            return {"headers": parent.headers + headers, "lost_headers": (),
                    "headers_from": owner if headers else parent.headers_from,
                    "header_inherit": inherit}
        if not headers and inherit != "off":
            return {"lost_headers": (), "header_inherit": inherit}
        own_keys = {h.key for h in headers}
        lost = tuple(h for h in parent.headers if h.key not in own_keys and h.value)
        return {"headers": headers, "headers_from": owner, "lost_headers": lost,
                "header_inherit": inherit}

    def _limit_req(self, directive: Directive) -> LimitReq:
        options = dict(_option(arg) for arg in directive.args)
        zone_name = options.get("zone", "")
        burst = options.get("burst", "")
        return LimitReq(zone_name, directive.span, self._zones.get(zone_name),
                        int(burst) if burst.isdigit() else None, "nodelay" in options)

    def server(self, http: Effective, directive: Directive, implicit: bool = False,
               snippet: bool = False) -> Server:
        own = _level_directives(directive.block or ())
        effective = self.merge(http, directive.span, own)
        server_unread = tuple(d for d in own if d.unread and (d.may_set is None
                                                               or "return" in d.may_set))
        locations: list[Location] = []
        for child in own:
            if child.name == "location":
                self._location(child, effective, None, effective.return_, server_unread,
                               locations)
        listens = tuple(Listen.parse(d.args, d.span) for d in own if d.name == "listen")
        names = tuple(name for d in own if d.name == "server_name" for name in d.args)
        return Server(directive.span, listens, names, tuple(locations), effective,
                      directive.block or (), implicit, snippet)

    def _location(self, directive: Directive, parent_effective: Effective,
                  parent: Location | None, server_return: Return | None,
                  server_unread: tuple[Directive, ...], into: list[Location]) -> None:
        own = _level_directives(directive.block or ())
        effective = self.merge(parent_effective, directive.span, own)
        if effective.return_ is None and server_return is not None:
            effective = replace(effective, return_=server_return)
        effective = _with_pending(effective, "return",
                                  effective.unknown("return") + server_unread)
        args = directive.args
        modifier, uri = (args[0], " ".join(args[1:])) if len(args) > 1 else (None, " ".join(args))
        location = Location(directive.span, modifier, uri, parent, effective,
                            directive.block or ())
        into.append(location)
        for child in directive.block or ():
            if child.name == "if" and child.block and any(
                    d.name in ("add_header", "add_header_inherit") for d in child.block):
                into.append(self._if_level(child, location))
        for child in own:
            if child.name == "location":
                self._location(child, effective, location, server_return, server_unread, into)

    def _if_level(self, directive: Directive, location: Location) -> Location:
        """``if (...) { add_header ...; }`` in a location: when the condition holds, the if's
        own header list is the one sent. It answers like its location (same handler)."""
        own = _level_directives(directive.block or ())
        effective = self.merge(location.effective, directive.span, own)
        effective = replace(effective, proxy_pass=None,
                            return_=effective.return_ or location.effective.return_,
                            alias=location.effective.alias,
                            try_files=location.effective.try_files)
        condition = "(" + " ".join(directive.args) + ")"
        return Location(directive.span, location.modifier, location.uri, location, effective,
                        directive.block or (), condition=condition)


def _pending(parent: Effective, own: tuple[Directive, ...],
             owns_headers: bool) -> tuple[tuple[str, tuple[Directive, ...]], ...]:
    """``Effective.unread`` for one more level (rules in the module docstring)."""
    unread = tuple(d for d in own if d.unread)
    pending = dict(parent.unread)
    names = {d.name for d in own}

    def here(key: str) -> tuple[Directive, ...]:
        name = key.split(":")[0]
        return tuple(d for d in unread if d.may_set is None or name in d.may_set)

    for key in _VALUE_KEYS:
        pending[key] = () if key in names else pending.get(key, ()) + here(key)
    for key in _ARRAY_KEYS:
        pending[key] = here(key) if key in names else pending.get(key, ()) + here(key)
    if owns_headers:
        pending["add_header"], pending["add_header:drop"] = here("add_header"), ()
    else:
        pending["add_header"] = pending.get("add_header", ()) + here("add_header")
        pending["add_header:drop"] = pending.get("add_header:drop", ()) + here("add_header")
    pending["return"] = here("return")
    pending["listen"] = here("listen")
    # the keys with something unread only: a missing key reads as nothing unread (``unknown``),
    # and a tree whose includes were all read leaves ``unread`` empty, asked about for free
    return tuple(item for item in pending.items() if item[1])


def _with_pending(effective: Effective, key: str, unread: tuple[Directive, ...]) -> Effective:
    pending = dict(effective.unread)
    pending[key] = tuple(dict.fromkeys(unread))
    return replace(effective, unread=tuple(item for item in pending.items() if item[1]))


def _level_directives(block: tuple[Directive, ...]) -> tuple[Directive, ...]:
    """A block's own directives: conditional sub-blocks (``if``) are not the level's own."""
    return tuple(d for d in block if d.name not in _CONDITIONAL_BLOCKS)


def _upstreams(http_directives: tuple[Directive, ...]) -> tuple[Upstream, ...]:
    upstreams = []
    for directive in http_directives:
        if directive.name != "upstream" or not directive.args:
            continue
        servers = []
        for child in directive.children("server"):
            if child.args:
                host, port = _split_host_port(child.args[0], default_port=80)
                servers.append(UpstreamServer(host or "", port, child.span))
        upstreams.append(Upstream(directive.args[0], tuple(servers), directive.span))
    return tuple(upstreams)


def _zones(http_directives: tuple[Directive, ...]) -> tuple[LimitReqZone, ...]:
    zones = []
    for directive in http_directives:
        if directive.name != "limit_req_zone":
            continue
        options = dict(a.split("=", 1) for a in directive.args if "=" in a)
        name = options.get("zone", "").split(":", 1)[0]
        rate = options.get("rate", "")
        key = directive.args[0] if directive.args and "=" not in directive.args[0] else ""
        zones.append(LimitReqZone(name, parse_rate(rate), directive.span, rate, key))
    return tuple(zones)


FRAGMENT_REASON = "is not in the audited tree (this file is a fragment nothing here includes)"


_MAP_KEYWORDS = frozenset({"hostnames", "volatile", "include"})


def _maps(http_directives: tuple[Directive, ...]
          ) -> tuple[tuple[str, tuple[tuple[str, Span], ...]], ...]:
    """``map $source $variable { key value; ... }`` blocks: each variable's possible values
    (``default`` included; without one the default is empty). A map that includes a file
    the audit did not read is left out (its values are unknown)."""
    maps = []
    for directive in http_directives:
        if directive.name != "map" or len(directive.args) < 2 or directive.block is None:
            continue
        entries = [d for d in directive.block if d.name not in _MAP_KEYWORDS]
        if any(d.unread for d in directive.block):
            continue
        values = [(d.args[0] if d.args else "", d.span) for d in entries]
        if not any(d.name == "default" for d in entries):
            values.append(("", directive.span))
        maps.append((directive.args[1], tuple(values)))
    return tuple(maps)


def build_config(path: str, directives: tuple[Directive, ...],
                 files: tuple[str, ...] = (), context: tuple[Directive, ...] = ()) -> NginxConfig:
    """The model of one spliced root config.

    A file with main-context directives (``http``, ``events`` ...) is a full config; one with
    ``server`` blocks is a fragment read as if inside the official image's stock ``http {}``
    (which sets none of the directives the controls read), or inside the tree's own main
    config's http level when the parser passes it as ``context``; a fragment whose top level holds
    ``location``/``listen``/``server_name`` (meant for inclusion inside a ``server``) gets an
    implicit server around it whose own level is unknown; any other fragment is a snippet of
    directives, checked in server context on what it writes."""
    http: Directive | None = None
    wrapper: Directive | None = None
    snippet = False
    if any(d.name in _MAIN_ONLY for d in directives):
        http = next((d for d in directives if d.name == "http" and d.block is not None), None)
        http_directives = http.block if http is not None and http.block else ()
    elif any(d.name in ("location", "listen", "server_name") for d in directives):
        enclosing = Directive("include", (), Span(path, 1), None,
                              f"the server that includes {path} {FRAGMENT_REASON}")
        wrapper = Directive("server", (), Span(path, 1), (enclosing,) + directives)
        http_directives = (wrapper,)
    elif any(d.name == "server" and d.block is not None for d in directives) or not directives:
        http_directives = context + directives
    else:
        wrapper = Directive("server", (), Span(path, 1), directives)
        http_directives = (wrapper,) + tuple(
            d for d in directives if d.name in ("upstream", "limit_req_zone"))
        snippet = True
    zone_source = http_directives if wrapper is None else http_directives + directives
    upstreams, zones = _upstreams(zone_source), _zones(tuple(dict.fromkeys(zone_source)))
    builder = _Builder(upstreams, zones)
    http_span = http.span if http is not None else Span(path, 1)
    http_level = () if snippet else _level_directives(http_directives)
    http_effective = builder.merge(Effective(), http_span, http_level)
    servers = tuple(builder.server(http_effective, d, implicit=d is wrapper,
                                   snippet=snippet and d is wrapper)
                    for d in http_directives if d.name == "server" and d.block is not None)
    return NginxConfig(path, directives, http, servers, upstreams, zones, files or (path,),
                       http_effective, _maps(zone_source))


def _option(arg: str) -> tuple[str, str]:
    """``zone=api`` -> ("zone", "api"); ``nodelay`` -> ("nodelay", "")."""
    name, _, value = arg.partition("=")
    return name, value
