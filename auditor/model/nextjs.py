"""The Next.js application model: package.json, package-lock.json, next.config.* and API routes.

Everything here is read statically; nothing from the audited tree is ever executed.
"""
from __future__ import annotations

from collections.abc import Mapping
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass, field
    from typing import Any
else:
    from auditor.record import dataclass, field
from types import MappingProxyType

from auditor.model.span import Span

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY

#: Value of a ``ConfigValue`` or a JSON scalar the model keeps.
Scalar = str | bool | int | float | None


@dataclass(frozen=True, slots=True)
class JsonEntry:
    """One ``"key": value`` of a package.json section (a dependency or a script)."""

    name: str
    value: str | None  # the version range or command; None when the JSON value is not a string
    span: Span  # the key


@dataclass(frozen=True, slots=True)
class PackageJson:
    span: Span  # the whole file
    name: str | None
    version: str | None
    dependencies: Mapping[str, JsonEntry] = field(default_factory=_empty)
    dev_dependencies: Mapping[str, JsonEntry] = field(default_factory=_empty)
    scripts: Mapping[str, JsonEntry] = field(default_factory=_empty)
    workspaces: tuple[str, ...] = ()
    #: Top-level key -> span of the key, so a rule can point at ``"name"`` or ``"scripts"``.
    key_spans: Mapping[str, Span] = field(default_factory=_empty)

    def span_of(self, key: str) -> Span:
        """The span of a top-level key, or the whole file when the key is absent."""
        return self.key_spans.get(key, self.span)

    def depends_on(self, package_name: str) -> bool:
        return package_name in self.dependencies or package_name in self.dev_dependencies


@dataclass(frozen=True, slots=True)
class LockedPackage:
    name: str
    version: str | None
    line: int  # of the entry's key in package-lock.json
    #: Install folder, the v2/v3 lockfile key: "node_modules/a/node_modules/b" (v1 nesting is
    #: translated to the same form).
    path: str


@dataclass(frozen=True, slots=True)
class Lockfile:
    span: Span  # the whole file
    name: str | None
    name_span: Span  # the top-level "name" key (the file when absent)
    lockfile_version: int | None
    #: Package name -> its shallowest (hoisted) install; nested duplicates are in ``installs``.
    packages: Mapping[str, LockedPackage] = field(default_factory=_empty)
    installs: tuple[LockedPackage, ...] = ()
    #: Workspace directory (relative to the lockfile's directory) -> the name npm recorded for it.
    workspace_names: Mapping[str, str | None] = field(default_factory=_empty)

    def line_of(self, package_name: str) -> int | None:
        """Line of the package's hoisted entry, where an ``npm audit`` finding is anchored."""
        locked = self.packages.get(package_name)
        return locked.line if locked else None

    def span_of(self, package_name: str) -> Span:
        line = self.line_of(package_name)
        return Span(self.span.path, line) if line else self.span


@dataclass(frozen=True, slots=True)
class ConfigValue:
    """One property of the next.config object."""

    #: The literal value; None for ``null``/``undefined`` and for anything not a literal.
    value: Scalar
    span: Span  # the whole ``key: value`` pair
    literal: bool = True  # False: a function, a call, ``process.env.X``, a template with ``${}``
    #: Nested properties when the value is an object literal (``images: {...}``).
    properties: Mapping[str, ConfigValue] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True)
class NextConfig:
    span: Span  # the exported object literal (where a missing key goes), else the file
    properties: Mapping[str, ConfigValue] = field(default_factory=_empty)
    #: False for a function-form config, an unresolvable export or a syntax error: then absent
    #: properties prove nothing, and rules report "not checked" rather than pass or fail.
    statically_readable: bool = True
    reason: str = ""

    def get(self, name: str) -> ConfigValue | None:
        return self.properties.get(name)


@dataclass(frozen=True, slots=True)
class ApiRoute:
    route: str  # URL path, e.g. "/api/health"
    span: Span  # the route file (line 1)
    router: str = "pages"  # "pages" (pages/api/*) or "app" (app/api/**/route.*)
    #: HTTP methods an App Router handler exports (``GET``, ``POST`` ...); None when every method
    #: reaches the handler (Pages Router) or the exports could not be read.
    methods: tuple[str, ...] | None = None

    def handles(self, method: str) -> bool:
        # Next.js answers HEAD with the GET handler when there is no HEAD export.
        if self.methods is None:
            return True
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)


@dataclass(frozen=True, slots=True)
class NextApp:
    """One Next.js application: a directory with a package.json depending on ``next`` (or one that
    did not parse), with a next.config.* file, or holding ``pages/api``/``app/api`` route files
    outside any other app. ``dir`` is relative to the scan root ('' for the root itself)."""

    dir: str
    span: Span  # package.json; else the next.config file; else the first route file
    package: PackageJson | None
    lockfile: Lockfile | None
    config: NextConfig | None
    api_routes: tuple[ApiRoute, ...] = ()
    #: Directory of ``lockfile`` (relative to the scan root): ``dir`` itself, or an enclosing npm
    #: workspace root whose lockfile covers this app. None when there is no lockfile.
    lockfile_dir: str | None = None
    config_files: tuple[str, ...] = ()  # every next.config.* present, first wins

    def route(self, url_path: str) -> ApiRoute | None:
        wanted = url_path.rstrip("/") or "/"
        return next((r for r in self.api_routes if r.route == wanted), None)
