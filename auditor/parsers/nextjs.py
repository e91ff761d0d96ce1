"""Next.js apps of a scan: package.json, lockfile, next.config.* and API routes -> ``NextApp``.

next.config.* is read with tree-sitter and never executed: the exported object literal is found
through ``module.exports =`` / ``export default``, local ``const`` bindings, plugin wrappers
(``withX(withY({...}))``) and TypeScript ``satisfies``/``as``. A config that is a function (Next.js
calls it with the build phase) cannot be known without running it, so it is marked not statically
readable with a Note, never passed.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path, PurePosixPath
from types import MappingProxyType
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any

from auditor.model.nextjs import (
    ApiRoute,
    ConfigValue,
    Lockfile,
    NextApp,
    NextConfig,
    PackageJson,
)
from auditor.model.span import Note, NotChecked, ParseProblem, Span, file_span
from auditor.parsers.package_json import parse_lockfile, parse_package_json

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

# Next.js tries .js, .mjs, .ts in this order and loads the first it finds (CONFIG_FILES in
# next/src/shared/lib/constants.ts); .cjs comes last: some projects keep one, so it is read too.
CONFIG_FILE_NAMES = ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs")
_ROUTE_EXTENSIONS = (".tsx", ".ts", ".jsx", ".js", ".mjs")  # Next's default pageExtensions
_ROUTE_FOLDER = re.compile(r"(?:^|/)(?:src/)?(?:pages|app)/api/")
# Lockfiles of tens of megabytes exist; bigger than this is not a lockfile we should load.
_MAX_JSON_BYTES = 64 * 1024 * 1024
_MAX_CONFIG_BYTES = 1024 * 1024
# How deep wrapper calls / identifier hops are followed before giving up (cycles, silly inputs).
_MAX_HOPS = 32


def build_next_apps(
    root: Path, files: list[str]
) -> tuple[list[NextApp], list[ParseProblem], list[Note]]:
    """Every Next.js app under ``root``: a directory whose package.json depends on ``next`` or that
    holds a next.config.* file (a package.json that does not parse counts too, so the parse error
    surfaces as "not checked" instead of the app vanishing)."""
    problems: list[ParseProblem] = []
    notes: list[Note] = []
    by_dir: dict[str, dict[str, str]] = {}  # directory -> file name -> relative path
    for relative in files:
        directory, name = posixpath.split(relative)
        if name in ("package.json", "package-lock.json") or name in CONFIG_FILE_NAMES:
            by_dir.setdefault(directory, {})[name] = relative

    packages: dict[str, PackageJson | None] = {}
    lockfiles: dict[str, Lockfile | None] = {}
    for directory, names in by_dir.items():
        if "package.json" in names:
            packages[directory] = _read_json_model(root, names["package.json"], parse_package_json,
                                                   problems, notes)
        if "package-lock.json" in names:
            lockfiles[directory] = _read_json_model(root, names["package-lock.json"],
                                                    parse_lockfile, problems, notes)

    app_dirs = [
        directory
        for directory, names in by_dir.items()
        if any(name in names for name in CONFIG_FILE_NAMES)
        or ("package.json" in names
            and ((package := packages[directory]) is None or package.depends_on("next")))
    ]
    app_dirs = sorted(app_dirs + _route_only_app_dirs(app_dirs, files))
    routes = _api_routes_by_app(app_dirs, files)
    apps: list[NextApp] = []
    for directory in app_dirs:
        names = by_dir.get(directory, {})
        config_files = tuple(names[name] for name in CONFIG_FILE_NAMES if name in names)
        config = None
        if config_files:
            config = _read_config(root, config_files, problems, notes)
        lockfile_dir = _lockfile_dir(directory, lockfiles, packages)
        app_routes = tuple(_with_methods(root, route) for route in routes.get(directory, ()))
        anchor = (names.get("package.json") or (config_files[0] if config_files else None)
                  or app_routes[0].span.path)
        apps.append(NextApp(
            dir=directory,
            span=file_span(anchor),
            package=packages.get(directory),
            lockfile=lockfiles.get(lockfile_dir) if lockfile_dir is not None else None,
            config=config,
            api_routes=app_routes,
            lockfile_dir=lockfile_dir,
            config_files=config_files,
        ))
    return apps, problems, notes


# --- files ----------------------------------------------------------------------------------


def _read_text(
    root: Path, relative: str, limit: int, problems: list[ParseProblem], notes: list[Note]
) -> str | None:
    """The file's text, or None with a ParseProblem/Note saying why it was not read.

    Refuses paths that resolve outside the scan root (a symlinked package.json must not make
    the audit read /etc)."""
    path = root / relative
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(root.resolve()):
            notes.append(Note(file_span(relative), "points outside the scan root; not read"))
            return None
        if resolved.stat().st_size > limit:
            problems.append(NotChecked(file_span(relative), f"larger than {limit // 1024} KiB; not checked"))
            return None
        data = resolved.read_bytes()
    except OSError as error:
        problems.append(NotChecked(file_span(relative), f"cannot read: {error.strerror}; not checked"))
        return None
    try:
        return data.decode("utf-8-sig")  # editors on Windows add a BOM that json rejects
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problems.append(ParseProblem(Span(relative, line), "not valid UTF-8"))
        return None


def _read_json_model(root: Path, relative: str, parse: Any, problems: list[ParseProblem],
                     notes: list[Note]) -> Any:
    text = _read_text(root, relative, _MAX_JSON_BYTES, problems, notes)
    if text is None:
        return None
    model, found = parse(text, relative)
    problems.extend(found)
    return model


def _lockfile_dir(
    directory: str, lockfiles: Mapping[str, Lockfile | None],
    packages: Mapping[str, PackageJson | None],
) -> str | None:
    """The app's own lockfile dir, else that of the nearest enclosing npm workspace root whose
    lockfile records this app (npm writes one lockfile at the workspace root)."""
    if directory in lockfiles:
        return directory
    parent = directory
    while parent:
        parent = posixpath.dirname(parent)
        lockfile = lockfiles.get(parent)
        if parent in lockfiles:
            package = packages.get(parent)
            relative = posixpath.relpath(directory, parent or ".")
            recorded = lockfile is not None and relative in lockfile.workspace_names
            if recorded or (package is not None and package.workspaces):
                return parent
    return None


def _route_only_app_dirs(app_dirs: list[str], files: Iterable[str]) -> list[str]:
    """Folders holding ``pages/api`` or ``app/api`` route files outside every app found: a scan
    of part of a tree (or a repository keeping package.json elsewhere) still has an app there."""
    found: set[str] = set()
    for relative in files:
        match = _ROUTE_FOLDER.search(relative)
        if match is None:
            continue
        directory = relative[:match.start()].rstrip("/")
        if not any(_contains(app, directory) for app in app_dirs) and api_route(
                relative[match.start():].lstrip("/"), relative):
            found.add(directory)
    return sorted(found)


def _contains(folder: str, inner: str) -> bool:
    return not folder or inner == folder or inner.startswith(folder + "/")


def _api_routes_by_app(app_dirs: list[str], files: Iterable[str]) -> dict[str, list[ApiRoute]]:
    # Deepest app first, so a file in apps/web/pages/api belongs to apps/web, not to the root app.
    ordered = sorted(app_dirs, key=len, reverse=True)
    routes: dict[str, list[ApiRoute]] = {}
    for relative in files:
        for directory in ordered:
            prefix = f"{directory}/" if directory else ""
            if relative.startswith(prefix):
                route = api_route(relative[len(prefix):], relative)
                if route:
                    routes.setdefault(directory, []).append(route)
                break
    for found in routes.values():
        found.sort(key=lambda route: (route.route, route.span.path))
    return routes


def api_route(inside_app: str, relative: str) -> ApiRoute | None:
    """The URL an API route file serves, from its path inside the app directory, or None."""
    parts = PurePosixPath(inside_app).parts
    if parts[:1] == ("src",):
        parts = parts[1:]
    if len(parts) < 3 or parts[1] != "api" or parts[0] not in ("pages", "app"):
        return None
    stem, extension = posixpath.splitext(parts[-1])
    if extension not in _ROUTE_EXTENSIONS or stem.endswith(".d"):
        return None
    if parts[0] == "pages":
        segments = [*parts[1:-1], stem]
        if segments[-1] == "index":
            segments.pop()
        if any(segment.startswith("_") for segment in segments):
            return None
        return ApiRoute("/" + "/".join(segments), file_span(relative), "pages")
    if stem != "route":  # the App Router serves only route.* files
        return None
    segments = []
    for segment in parts[1:-1]:
        if segment.startswith("_"):  # private folder: excluded from routing
            return None
        if (segment.startswith("(") and segment.endswith(")")) or segment.startswith("@"):
            continue  # route groups and parallel-route slots are not part of the URL
        segments.append(segment)
    return ApiRoute("/" + "/".join(segments), file_span(relative), "app")


_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def _with_methods(root: Path, route: ApiRoute) -> ApiRoute:
    """An App Router handler answers only the methods it exports (others get 405), so read them.
    A file that cannot be read or parsed keeps ``methods=None``: the app code is not ours to
    report on, and an unknown set must not fail a health-route check."""
    if route.router != "app":
        return route
    ignored_problems: list[ParseProblem] = []
    ignored_notes: list[Note] = []
    text = _read_text(root, route.span.path, _MAX_CONFIG_BYTES, ignored_problems, ignored_notes)
    if text is None:
        return route
    methods = exported_methods(text.encode(), route.span.path)
    return ApiRoute(route.route, route.span, route.router, methods)


def exported_methods(source: bytes, path: str) -> tuple[str, ...] | None:
    """The HTTP method handlers a route file exports, or None when that cannot be known."""
    tree = _parser(_grammar_for(path)).parse(source)
    if tree.root_node.has_error:
        return None
    names: set[str] = set()
    for statement in tree.root_node.named_children:
        if statement.type != "export_statement":
            continue
        if statement.child_by_field_name("source") is not None and not any(
                child.type == "export_clause" for child in statement.named_children):
            return None  # export * from './handlers': names not visible here
        declaration = statement.child_by_field_name("declaration")
        if declaration is not None:
            names.update(_declared_names(declaration))
        for clause in (c for c in statement.named_children if c.type == "export_clause"):
            for specifier in clause.named_children:
                exported = specifier.child_by_field_name("alias") or specifier.child_by_field_name(
                    "name")
                if exported is not None:
                    names.add(_source(exported))
    return tuple(sorted(names & _HTTP_METHODS))


def _declared_names(declaration: Node) -> list[str]:
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        return [_source(d.child_by_field_name("name"))
                for d in declaration.named_children
                if d.type == "variable_declarator" and d.child_by_field_name("name") is not None]
    name = declaration.child_by_field_name("name")
    return [_source(name)] if name is not None else []


# --- next.config.* --------------------------------------------------------------------------


def _read_config(root: Path, config_files: tuple[str, ...], problems: list[ParseProblem],
                 notes: list[Note]) -> NextConfig:
    relative = config_files[0]
    for ignored in config_files[1:]:
        loaded = posixpath.basename(relative)
        notes.append(Note(file_span(ignored), f"Next.js loads {loaded} first; this one is ignored"))
    text = _read_text(root, relative, _MAX_CONFIG_BYTES, problems, notes)
    if text is None:
        return NextConfig(file_span(relative), statically_readable=False, reason="file not read")
    config, found_problems, found_notes = parse_next_config(text.encode(), relative)
    problems.extend(found_problems)
    notes.extend(found_notes)
    return config


def _grammar_for(path: str) -> str:
    if path.endswith(".tsx"):
        return "tsx"
    return "typescript" if path.endswith((".ts", ".mts", ".cts")) else "javascript"


@cache
def _parser(grammar: str) -> Parser:
    # Loaded on first use only: importing and building a grammar costs a few milliseconds.
    from auditor.parsers.grammars import binding, parser_for

    if grammar in ("typescript", "tsx"):
        typescript = binding("tree_sitter_typescript")
        return parser_for(typescript.language_tsx() if grammar == "tsx" else typescript.language_typescript())
    return parser_for(binding("tree_sitter_javascript").language())


def parse_next_config(
    source: bytes, path: str
) -> tuple[NextConfig, list[ParseProblem], list[Note]]:
    tree = _parser(_grammar_for(path)).parse(source)
    reader = _ConfigReader(source, path)
    if tree.root_node.has_error:
        bad = _first_error(tree.root_node)
        span = reader.span(bad) if bad is not None else file_span(path)
        problem = ParseProblem(Span(path, span.line, span.column), "syntax error in Next.js config")
        config = NextConfig(file_span(path), statically_readable=False,
                            reason=f"syntax error at line {span.line}")
        return config, [problem], []
    config = reader.read(tree.root_node)
    notes: list[Note] = []
    if reader.too_deep:  # the auditor's bound, not the file's meaning: fail closed (AUD003)
        return config, [NotChecked(config.span, f"{posixpath.basename(path)} {config.reason}; "
                                                "not checked")], notes
    if not config.statically_readable:
        notes.append(Note(config.span, f"{posixpath.basename(path)} {config.reason}; "
                                       "not statically checkable"))
    return config, [], notes


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error:
            found = _first_error(child)
            if found is not None:
                return found
    return None


class _NotStatic(Exception):
    """The exported config cannot be known without running the file; carries the reason."""


class _TooDeep(_NotStatic):
    """The export nests more wrapper calls or identifier hops than the reader follows."""


_FUNCTIONS = {"arrow_function", "function_expression", "function_declaration", "function",
              "generator_function", "generator_function_declaration"}
# Wrappers that do not change the value: (x), x satisfies T, x as T, x!, await x.
_TRANSPARENT = {"parenthesized_expression", "satisfies_expression", "as_expression",
                "non_null_expression", "type_assertion", "await_expression"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class _ConfigReader:
    """Finds the exported config object in one parsed file and reads its properties."""

    def __init__(self, source: bytes, path: str) -> None:
        self.source = source
        self.path = path
        self.bindings: dict[str, Node] = {}  # top-level name -> its initializer or declaration
        self.assignments: dict[str, list[Node]] = {}  # name -> `name.prop = value` statements
        self.line_starts = [0] + [match.end() for match in re.finditer(b"\n", source)]
        self.too_deep = False  # gave up on a bound (hops): the file is not checked, not "dynamic"

    def span(self, node: Node) -> Span:
        (line, column), (end_line, end_column) = node.start_point, node.end_point
        return Span(self.path, line + 1, self._column(line, column) + 1, end_line + 1,
                    self._column(end_line, end_column) + 1)

    def _column(self, row: int, byte_column: int) -> int:
        # tree-sitter counts bytes; reports count characters (differs after non-ASCII text).
        start = self.line_starts[row] if row < len(self.line_starts) else 0
        prefix = self.source[start:start + byte_column]
        return byte_column if prefix.isascii() else len(prefix.decode("utf-8", "replace"))

    def read(self, program: Node) -> NextConfig:
        exported = self._collect(program)
        if exported is None:
            return NextConfig(file_span(self.path), statically_readable=False,
                              reason="has no module.exports or export default")
        try:
            config_object, extra = self._config_object(exported, 0)
            extra = extra + self.assignments.get("module.exports", [])
            properties = self._properties(config_object, 0)
        except _NotStatic as reason:
            return NextConfig(self.span(exported), statically_readable=False, reason=str(reason))
        for assignment in extra:  # nextConfig.output = 'standalone' after the literal
            left = assignment.child_by_field_name("left")
            right = assignment.child_by_field_name("right")
            if left is None or right is None:
                continue
            name = _source(left.child_by_field_name("property"))
            properties[name] = self._value(assignment, right, 0)
        return NextConfig(self.span(config_object), MappingProxyType(properties))

    def _collect(self, program: Node) -> Node | None:
        """Record top-level bindings and return the last exported expression."""
        exported = None
        for statement in program.named_children:
            kind = statement.type
            if kind in ("lexical_declaration", "variable_declaration"):
                for declarator in statement.named_children:
                    name, value = (declarator.child_by_field_name("name"),
                                   declarator.child_by_field_name("value"))
                    if declarator.type == "variable_declarator" and name is not None and value:
                        self.bindings[_source(name)] = value
            elif kind == "function_declaration" and statement.child_by_field_name("name"):
                self.bindings[_source(statement.child_by_field_name("name"))] = statement
            elif kind == "expression_statement":
                expression = statement.named_children[0] if statement.named_children else None
                if expression is None or expression.type != "assignment_expression":
                    continue
                left = expression.child_by_field_name("left")
                if left is None:
                    continue
                if _is_module_exports(left):
                    exported = expression.child_by_field_name("right")
                elif left.type == "member_expression" and (owner := left.child_by_field_name("object")):
                    if owner.type == "identifier" or _is_module_exports(owner):
                        target = _source(owner).replace(" ", "")
                        self.assignments.setdefault(target, []).append(expression)
            elif kind == "export_statement":
                exported = self._export_default(statement) or exported
        return exported

    def _export_default(self, statement: Node) -> Node | None:
        if any(child.type == "default" for child in statement.children):
            value = statement.child_by_field_name("value") or statement.child_by_field_name(
                "declaration")
            if value is None:
                value = next((c for c in statement.named_children if c.type != "comment"), None)
            return value
        for clause in statement.named_children:  # export { nextConfig as default }
            if clause.type != "export_clause":
                continue
            for specifier in clause.named_children:
                alias = specifier.child_by_field_name("alias")
                if alias is not None and alias.text == b"default":
                    return specifier.child_by_field_name("name")
        return None

    def _config_object(self, node: Node, hops: int) -> tuple[Node, list[Node]]:
        """Follow identifiers, wrappers and plugin calls down to the object literal."""
        if hops > _MAX_HOPS:
            self.too_deep = True
            raise _TooDeep(f"nests wrappers more than {_MAX_HOPS} deep")
        # (x), x as T, x satisfies T, x!, await x: unwrapped in a loop, free of the hop bound
        while node.type in _TRANSPARENT:
            inner = next((c for c in node.named_children if c.type not in ("type_identifier",
                                                                           "comment")), None)
            if inner is None:
                raise _NotStatic(f"exports an unreadable {node.type}")
            node = inner
        kind = node.type
        if kind == "object":
            return node, []
        if kind in _FUNCTIONS:
            # Next.js calls a function config with (phase, { defaultConfig }); its result is
            # only known at build time.
            is_async = any(child.type == "async" for child in node.children)
            raise _NotStatic("exports an async function" if is_async else "exports a function")
        if kind == "identifier":
            name = _source(node)
            bound = self.bindings.get(name)
            if bound is None:
                raise _NotStatic(f"exports '{name}', which is not defined in this file")
            found, extra = self._config_object(bound, hops + 1)
            return found, extra + self.assignments.get(name, [])
        if kind == "call_expression":
            return self._wrapped(node, hops)
        raise _NotStatic(f"exports a {kind.replace('_', ' ')}, not an object literal")

    def _wrapped(self, call: Node, hops: int) -> tuple[Node, list[Node]]:
        """``withX(config, options)`` / ``withPlugins([...], config)``: the config is the first
        argument that is an object, a function, a call or a name; arrays and strings are options."""
        function = call.child_by_field_name("function")
        if function is not None and function.text in (b"require", b"import"):
            raise _NotStatic("exports a value loaded from another module")
        arguments = call.child_by_field_name("arguments")
        candidates = [argument for argument in (arguments.named_children if arguments else [])
                      if argument.type not in ("array", "string", "template_string", "comment",
                                               "number", "true", "false")]
        if not candidates:
            raise _NotStatic(f"exports the result of {_short(call)} with no config argument")
        return self._config_object(candidates[0], hops + 1)

    def _properties(self, obj: Node, depth: int) -> dict[str, ConfigValue]:
        properties: dict[str, ConfigValue] = {}
        for member in obj.named_children:
            kind = member.type
            if kind == "pair":
                key = self._key(member.child_by_field_name("key"))
                value = member.child_by_field_name("value")
                if key is not None and value is not None:
                    properties[key] = self._value(member, value, depth)
            elif kind == "shorthand_property_identifier":  # { output } with const output = ...
                bound = self.bindings.get(_source(member))
                properties[_source(member)] = (
                    self._value(member, bound, depth) if bound is not None
                    else ConfigValue(None, self.span(member), literal=False))
            elif kind == "method_definition":  # async headers() { ... }
                key = self._key(member.child_by_field_name("name"))
                if key is not None:
                    properties[key] = ConfigValue(None, self.span(member), literal=False)
            elif kind == "spread_element":
                spread = member.named_children[0] if member.named_children else None
                try:
                    source, _ = self._config_object(spread, depth + 1) if spread else (None, [])
                except _NotStatic:
                    source = None
                if source is not None and depth > _MAX_HOPS:
                    self.too_deep = True
                    raise _TooDeep(f"spreads objects into the config more than {_MAX_HOPS} deep")
                if source is None:
                    raise _NotStatic(f"spreads {_short(member)} into the config, which is not "
                                     "readable statically")
                properties.update(self._properties(source, depth + 1))
        return properties

    def _key(self, key: Node | None) -> str | None:
        if key is None:
            return None
        if key.type in ("property_identifier", "identifier", "number"):
            return _source(key)
        if key.type == "string":
            value = self._literal(key)
            return value if isinstance(value, str) else None
        return None  # [computed]: only known at run time

    def _value(self, anchor: Node, value: Node, depth: int) -> ConfigValue:
        span = self.span(anchor)
        while value.type in _TRANSPARENT and value.named_children:
            value = value.named_children[0]
        if value.type == "object" and depth < _MAX_HOPS:
            try:
                nested = self._properties(value, depth + 1)
            except _NotStatic:
                return ConfigValue(None, span, literal=False)
            return ConfigValue(None, span, literal=True, properties=MappingProxyType(nested))
        if value.type == "identifier" and value.text != b"undefined" and depth < _MAX_HOPS:
            bound = self.bindings.get(_source(value))
            if bound is not None and bound.type not in _FUNCTIONS:
                resolved = self._value(anchor, bound, depth + 1)
                return ConfigValue(resolved.value, span, resolved.literal, resolved.properties)
            return ConfigValue(None, span, literal=False)
        try:
            return ConfigValue(self._literal(value), span)
        except _NotStatic:
            return ConfigValue(None, span, literal=False)

    def _literal(self, node: Node) -> Any:
        """A JS literal's Python value; raises _NotStatic for anything computed."""
        kind = node.type
        if kind == "true":
            return True
        if kind == "false":
            return False
        if kind in ("null", "undefined") or (kind == "identifier" and node.text == b"undefined"):
            return None
        if kind == "number":
            return _number(_source(node))
        if kind in ("string", "template_string"):
            parts = []
            for child in node.named_children:
                if child.type == "string_fragment":
                    parts.append(_source(child))
                elif child.type == "escape_sequence":
                    parts.append(_unescape(_source(child)))
                else:  # ${substitution}: depends on run time
                    raise _NotStatic("template substitution")
            return "".join(parts)
        if kind == "unary_expression":
            operator = node.child_by_field_name("operator")
            operand = node.child_by_field_name("argument")
            if operand is None:
                raise _NotStatic(kind)
            argument = self._literal(operand)
            if operator is not None and operator.text == b"!":
                return not argument
            if operator is not None and operator.text == b"-" and isinstance(argument, int | float):
                return -argument
        raise _NotStatic(kind)


def _number(text: str) -> int | float:
    text = text.replace("_", "").rstrip("n")  # 1_000, BigInt 10n
    try:
        return int(text, 0)
    except ValueError:
        try:
            return float(text)
        except ValueError as error:
            raise _NotStatic("number") from error


def _unescape(sequence: str) -> str:
    letter = sequence[1:2]
    if letter in _ESCAPES:
        return _ESCAPES[letter]
    if letter in ("u", "x"):
        digits = sequence[2:].strip("{}")
        try:
            return chr(int(digits, 16))
        except ValueError:
            return sequence
    return sequence[1:]  # \' \" \\ and line continuations


def _is_module_exports(node: Node) -> bool:
    return node.type == "member_expression" and _source(node).replace(" ", "") == "module.exports"


def _short(node: Node) -> str:
    text = _source(node).split("\n", 1)[0]
    return text if len(text) <= 40 else text[:37] + "..."


def _source(node: Node | None) -> str:
    """A syntax node's source text ('' for a node the grammar left out)."""
    text = node.text if node is not None else None
    return text.decode(errors="replace") if text is not None else ""
