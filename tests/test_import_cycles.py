"""auditor's modules import one another without a cycle.

The imports are read with ``ast`` (nothing is imported), at module level *and* inside functions:
a function-level import is how a cycle is usually hidden (``api`` <-> ``parallel`` and
``model.deployment`` <-> ``parsers.deployment`` were both written that way), and a module that
needs another at call time depends on it as much as one that needs it at import time, and the
order in which the two get imported then depends on which function runs first. Imports under
``if TYPE_CHECKING:`` are left out: they never run, and annotations that name each other's types
(``model.user`` takes a ``Dockerfile``, the Dockerfile model holds a ``UserSpec``) are how a model
of related things is typed, not a load-order dependency.

A cycle is a strongly connected set of modules; the test prints one shortest loop through each.
"""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path


PACKAGE = Path(__file__).resolve().parent.parent / "auditor"

def module_files(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    modules: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that ``name`` (a module, or a name inside one) lands in, if any."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the module except the bodies of ``if TYPE_CHECKING:`` (their ``else`` runs)."""
    nodes: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and _type_checking_only(node):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))
    return nodes


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``module`` imports when it runs, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(t for alias in node.names if (t := _target(alias.name, modules)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:  # `from auditor.report import sarif` imports the submodule
                target = _target(f"{source}.{alias.name}", modules) if f"{source}.{alias.name}" in modules \
                    else _target(source, modules)
                if target:
                    found.add(target)
    found.discard(module)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = module_files(package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm, iterative; only components of two or more modules (a cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(frozenset(component))
    return components


def shortest_loop(graph: dict[str, set[str]], component: frozenset[str]) -> list[str]:
    """One shortest import loop inside ``component``, as ``[a, b, ..., a]``."""
    loops = [_path_back(graph, component, start) for start in sorted(component)]
    return min((loop for loop in loops if loop), key=len, default=[])


def _path_back(graph: dict[str, set[str]], component: frozenset[str], start: str) -> list[str]:
    """The shortest loop from ``start`` back to itself within ``component`` (breadth first)."""
    parents: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if start in graph[node]:
            path = [node]
            while path[-1] != start:
                path.append(parents[path[-1]])
            return [start, *reversed(path[:-1]), start] if node != start else [start, start]
        for child in sorted(graph[node] & component):
            if child not in parents and child != start:
                parents[child] = node
                queue.append(child)
    return []


def describe(graph: dict[str, set[str]], components: list[frozenset[str]]) -> str:
    return "\n".join(" -> ".join(shortest_loop(graph, c)) for c in sorted(components, key=sorted))


GRAPH = import_graph()
CYCLES = strongly_connected(GRAPH)


def test_auditor_has_no_import_cycle() -> None:
    assert not CYCLES, "import cycles in auditor/:\n" + describe(GRAPH, CYCLES)


# What reads the model; the model (docs/architecture.md: in the middle, under every check) never
# reaches back up to them. It may use a leaf reader such as parsers/shell.py.
ABOVE_THE_MODEL = ("auditor.engine", "auditor.dispatch", "auditor.checks", "auditor.report", "auditor.commands",
                   "auditor.scanners", "auditor.api", "auditor.cli", "auditor.parallel", "auditor.external",
                   "auditor.parsers.project")


def test_the_model_imports_nothing_that_reads_it() -> None:
    model = {name: imports for name, imports in GRAPH.items() if name.startswith("auditor.model")}
    assert model, "no auditor.model modules found"
    upward = {name: sorted(i for i in imports if i.startswith(ABOVE_THE_MODEL)) for name, imports in model.items()}
    assert {name: found for name, found in upward.items() if found} == {}


def test_the_walk_reads_function_level_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "auditor"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import leaf\n")
    (package / "sub" / "leaf.py").write_text("def late() -> None:\n    from auditor import top\n")
    (package / "top.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                    "    from auditor import alone\nelse:\n    from auditor.sub.leaf import late\n"
                                    "import os\n")
    (package / "alone.py").write_text("import auditor.top\n")
    graph = import_graph(package)
    assert graph == {"auditor": set(), "auditor.alone": {"auditor.top"}, "auditor.sub": {"auditor.sub.leaf"},
                     "auditor.sub.leaf": {"auditor.top"}, "auditor.top": {"auditor.sub.leaf"}}
    components = strongly_connected(graph)
    assert components == [frozenset({"auditor.sub.leaf", "auditor.top"})]
    assert describe(graph, components) == "auditor.sub.leaf -> auditor.top -> auditor.sub.leaf"
