"""tree-sitter grammars, loaded for what the parsers use: the compiled language and nothing else.

A grammar package (``tree_sitter_bash``, ``tree_sitter_javascript``, ``tree_sitter_typescript``)
is a compiled ``_binding`` module that returns the language, and an ``__init__`` that also offers
the grammar's highlight queries through ``importlib.resources``. Importing that (with the
``zipfile`` and ``tempfile`` machinery behind it) is two thirds of the package's import, and the
auditor never reads a query. So the binding is loaded from the installed package's own folder
(the one ``import`` would find; nothing of the audited tree takes part) without running the
``__init__``; a later ``import`` of the package finds the same binding in ``sys.modules`` (the
package then works as ever, but lacks the attribute ``_binding``, which the import system sets only
on the child it loads itself: nothing reads it but ``from ._binding import language``, which goes
through ``sys.modules``). Where the folder holds no loadable binding (another layout, a frozen
application) the package is imported as usual.

The core library is loaded the same way (``binding("tree_sitter")``: ``Parser``, ``Language``,
``Node``): its ``__init__`` re-exports the binding's classes and defines a ``typing.Protocol``, and
``typing`` is an import a scan otherwise does without.
"""
from __future__ import annotations

import _thread
import importlib
import os
import sys
from types import ModuleType

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from tree_sitter import Parser


def binding(package: str) -> ModuleType:
    """``package``'s compiled ``_binding`` module (``language()``, or ``language_tsx()`` and
    ``language_typescript()``), or the package itself if it is imported already or its binding
    cannot be loaded on its own."""
    loaded = _loaded.get(package)
    if loaded is not None:
        return loaded
    # One thread loads at a time (the scanners' thread parses a Dockerfile while the main thread
    # parses the tree), and a module another thread is importing is taken through ``import``,
    # which waits for that import to finish: its entry in sys.modules is then half made.
    with _loading:
        loaded = _loaded.get(package)
        if loaded is None:
            loaded = _loaded[package] = _load(package)
    return loaded


def _load(package: str) -> ModuleType:
    name = f"{package}._binding"
    for imported in (name, package):
        if imported in sys.modules:
            return importlib.import_module(imported)
    try:
        return _load_binding(package, name) or importlib.import_module(package)
    except ImportError:
        return importlib.import_module(package)  # raises the usual error when it is not installed


_loaded: dict[str, ModuleType] = {}  # package -> its binding (or the package), wholly loaded
_loading = _thread.allocate_lock()  # (``_thread``: built in; ``threading`` is an import a scan does without)
# A worker forked while another thread loads a binding (npm audit's thread parses a Dockerfile as
# the pool starts) would inherit the lock held by a thread it does not have, and wait for it
# forever (the time budget counts CPU time, which waiting does not use): the fork waits for the
# load to finish, and the child starts with the lock free.
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_loading.acquire, after_in_parent=_loading.release,
                        after_in_child=_loading.release)


def _load_binding(package: str, name: str) -> ModuleType | None:
    from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
    from importlib.util import find_spec, module_from_spec, spec_from_file_location

    spec = find_spec(package)  # finds the package without running it
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        for suffix in EXTENSION_SUFFIXES:
            path = os.path.join(folder, f"_binding{suffix}")
            if not os.path.isfile(path):
                continue
            loader = ExtensionFileLoader(name, path)
            binding_spec = spec_from_file_location(name, path, loader=loader)
            if binding_spec is None:
                return None
            module = module_from_spec(binding_spec)
            loader.exec_module(module)
            sys.modules[name] = module
            return module
    return None


def parser_for(language: object) -> Parser:
    """A tree-sitter parser of ``language`` (what a grammar's binding returns), made with the core
    library's binding (``Parser``, ``Language``) rather than its package, which imports ``typing``."""
    core = binding("tree_sitter")
    made: Parser = core.Parser(core.Language(language))
    return made


__all__ = ["binding", "parser_for"]
