"""A cheap ``@dataclass``: the same classes as the standard library's decorator, built faster.

The standard decorator compiles each generated method with its own ``exec`` and, with
``slots=True``, builds the class a second time; that is about half a millisecond a class on
Python 3.11, and the auditor defines more than a hundred of them at import (a third of a cold
one-project scan). This one makes ``__repr__``, ``__eq__``, ``__hash__``, the frozen
``__setattr__``/``__delattr__`` and the pickling state from closures, and compiles ``__init__``
only when the class is first used (many never are in a run), from one code template per layout
of fields shared by every class of that layout (see _LazyInit): a class costs a few tens of
microseconds.

What it builds is what ``dataclasses.dataclass`` builds for the options the auditor uses
(``init``, ``repr``, ``eq``, ``frozen``, ``slots``, ``match_args``; ``field()`` with ``default``,
``default_factory``, ``init``, ``repr``, ``hash``, ``compare``, ``metadata``): the same
``__init__`` signature, defaults and ``__post_init__`` call, the same ``repr`` text, equality and
hash, ``FrozenInstanceError``, the same ``__slots__`` and pickled state, ``__match_args__`` and
``__doc__``; ``__dataclass_fields__`` and ``__dataclass_params__`` hold the standard library's own
``Field`` and parameter objects, so ``dataclasses.fields``, ``replace``, ``asdict``, ``astuple``
and ``is_dataclass`` work unchanged. Anything else (``order``, ``unsafe_hash``, ``kw_only``,
``weakref_slot``, ``ClassVar``/``InitVar``/``KW_ONLY`` annotations, a class whose signature needs
``inspect``) is handed to the standard decorator itself. tests/test_record.py defines the same
classes both ways and compares them.

For mypy the modules import ``dataclass`` and ``field`` from ``dataclasses`` under
``TYPE_CHECKING``, so the type checker sees the standard decorator.

``NamedTuple`` here is ``typing.NamedTuple``'s class syntax without the type check of each
annotation (which compiles each annotation string); the modules import typing's for mypy the same
way.
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import sys
from _thread import get_ident
from dataclasses import MISSING, Field, FrozenInstanceError, field
from operator import attrgetter
from types import CellType, CodeType, FunctionType, MemberDescriptorType
TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["NamedTuple", "dataclass", "field"]

_FIELD = getattr(dataclasses, "_FIELD")
_PARAMS_TYPE = getattr(dataclasses, "_DataclassParams")
_HAS_DEFAULT_FACTORY = getattr(dataclasses, "_HAS_DEFAULT_FACTORY")
_UNSUPPORTED_WORDS = ("ClassVar", "InitVar", "KW_ONLY")
# The fast path builds the standard library's private parameter and field objects as Python 3.11
# lays them out (``_DataclassParams`` takes four more arguments from 3.12 on, and its methods are
# generated differently there): on any other version the standard decorator builds every class.
FAST = sys.version_info[:2] == (3, 11)


def dataclass(cls: type | None = None, /, *, init: bool = True, repr: bool = True, eq: bool = True,
              order: bool = False, unsafe_hash: bool = False, frozen: bool = False,
              match_args: bool = True, kw_only: bool = False, slots: bool = False,
              weakref_slot: bool = False) -> Any:
    """``dataclasses.dataclass`` with the same parameters and the same result."""
    options = {"init": init, "repr": repr, "eq": eq, "order": order, "unsafe_hash": unsafe_hash,
               "frozen": frozen, "match_args": match_args, "kw_only": kw_only, "slots": slots,
               "weakref_slot": weakref_slot}

    def wrap(kind: type) -> type:
        return _process(kind, options)

    return wrap if cls is None else wrap(cls)


def _process(cls: type, options: dict[str, Any]) -> type:
    _refuse_special_names_bound_for_the_type_checker_only(cls)
    if not FAST or options["order"] or options["unsafe_hash"] or options["kw_only"] or options["weakref_slot"] \
            or not options["init"] or not _plain(cls):
        made: type = dataclasses.dataclass(cls, **options)
        return made
    init, frozen, slots, eq = options["init"], options["frozen"], options["slots"], options["eq"]
    cls.__dataclass_params__ = _PARAMS_TYPE(init, options["repr"], eq, False, False,  # type: ignore[attr-defined]
                                            frozen)
    fields: dict[str, Field[Any]] = {}
    any_frozen_base = has_dataclass_bases = False
    for base in cls.__mro__[-1:0:-1]:
        base_fields = getattr(base, "__dataclass_fields__", None)
        if base_fields is not None:
            has_dataclass_bases = True
            for item in base_fields.values():
                fields[item.name] = item
            if getattr(base, "__dataclass_params__").frozen:
                any_frozen_base = True
    annotations = cls.__dict__.get("__annotations__", {})
    for name, kind in annotations.items():
        item = _field(cls, name, kind)
        fields[name] = item
        if isinstance(getattr(cls, name, None), Field):
            if item.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, item.default)
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    if has_dataclass_bases:
        if any_frozen_base and not frozen:
            raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
        if not any_frozen_base and frozen:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    cls.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    class_hash = cls.__dict__.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    listed = list(fields.values())
    if init:
        _set_new(cls, "__init__", _init_fn(cls, listed, frozen, slots))
    names = tuple(item.name for item in listed)
    if options["repr"]:
        _set_new(cls, "__repr__", _repr_fn(tuple(item.name for item in listed if item.repr)))
    if eq:
        _set_new(cls, "__eq__", _eq_fn(tuple(item.name for item in listed if item.compare)))
    if frozen:
        for function in _frozen_fns(cls, names):
            if _set_new(cls, function.__name__, function):
                raise TypeError(f"Cannot overwrite attribute {function.__name__} in class {cls.__name__}")
    if eq and not explicit_hash:
        if frozen:
            hashed = tuple(item.name for item in listed
                           if (item.compare if item.hash is None else item.hash))
            setattr(cls, "__hash__", _qualified(cls, _hash_fn(hashed)))
        else:
            setattr(cls, "__hash__", None)
    if not getattr(cls, "__doc__"):
        cls.__doc__ = cls.__name__ + _signature_text(listed).replace(" -> None", "")
    if options["match_args"]:
        _set_new(cls, "__match_args__", tuple(item.name for item in listed if item.init))
    if slots:
        cls = _add_slots(cls, names, frozen)
    abc.update_abstractmethods(cls)
    return cls


def _refuse_special_names_bound_for_the_type_checker_only(cls: type) -> None:
    """The standard decorator tells a ``ClassVar``, ``InitVar`` or ``KW_ONLY`` annotation written
    as a string from a field by looking the name up in the class's module at run time. The
    auditor's modules import typing's names under ``TYPE_CHECKING`` only, where it would find
    nothing and make the class constant a field, silently: refused instead."""
    annotations = cls.__dict__.get("__annotations__", {})
    module = sys.modules.get(cls.__module__)
    bound = vars(module) if module is not None else {}
    for name, kind in annotations.items():
        for word in _UNSUPPORTED_WORDS:
            if type(kind) is str and word in kind and not {word, "typing", "dataclasses"} & bound.keys():
                raise TypeError(f"{cls.__qualname__}.{name} is annotated {kind!r}, but {cls.__module__} "
                                f"binds {word} for the type checker only: import it at run time, or make "
                                f"the value a module constant")


def _plain(cls: type) -> bool:
    """Whether this class needs nothing the fast path leaves to the standard decorator: every
    annotation a string (``from __future__ import annotations``) naming no ``ClassVar``,
    ``InitVar`` or ``KW_ONLY``; a plain metaclass, no ``__new__`` and no ``__init__`` of its own
    (``__doc__`` gets the signature of the generated ``__init__``, written here without
    ``inspect``)."""
    annotations = cls.__dict__.get("__annotations__", {})
    if not all(type(kind) is str for kind in annotations.values()):
        return False
    text = " ".join(annotations.values())
    if any(word in text for word in _UNSUPPORTED_WORDS):
        return False
    return type(cls) is type and "__init__" not in cls.__dict__ \
        and all("__new__" not in base.__dict__ for base in cls.__mro__[:-1])


def _field(cls: type, name: str, kind: str) -> Field[Any]:
    default: Any = getattr(cls, name, MISSING)
    if isinstance(default, Field):
        item = default
    else:
        if isinstance(default, MemberDescriptorType):  # a slot of a base class: no default
            default = MISSING
        item = field(default=default)
    item.name = name
    item.type = kind
    item._field_type = _FIELD  # type: ignore[attr-defined]
    if item.kw_only is MISSING:
        item.kw_only = False
    if item.default.__class__.__hash__ is None:
        raise ValueError(f"mutable default {type(item.default)} for field {name} is not allowed: "
                         "use default_factory")
    return item


def _set_new(cls: type, name: str, value: Any) -> bool:
    if name in cls.__dict__:
        return True
    setattr(cls, name, _qualified(cls, value))
    return False


def _qualified(cls: type, value: Any) -> Any:
    if isinstance(value, type(_qualified)):
        value.__qualname__ = f"{cls.__qualname__}.{value.__name__}"
    return value


def _init_fn(cls: type, fields: list[Field[Any]], frozen: bool, slots: bool) -> _LazyInit:
    """``__init__`` as the standard decorator writes it, built on first use (see _LazyInit)."""
    seen_default = False
    for item in fields:
        if item.init:
            if not (item.default is MISSING and item.default_factory is MISSING):
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {item.name!r} follows default argument")
    module = sys.modules.get(cls.__module__)
    return _LazyInit(f"{cls.__qualname__}.__init__", tuple(fields), frozen, slots,
                     hasattr(cls, "__post_init__"), module.__dict__ if module is not None else {})


class _LazyInit:
    """The generated ``__init__`` until something looks it up: the first lookup (a call of the
    class, ``cls.__init__``, ``inspect.signature``) compiles it, puts the function in the class in
    place of this descriptor and hands it over, so a class defined but never made in a run costs
    no compile. The function is the standard decorator's: same parameters, defaults, body and
    ``__post_init__`` call."""

    __slots__ = ("qualname", "fields", "frozen", "slots", "post_init", "globals")

    def __init__(self, qualname: str, fields: tuple[Field[Any], ...], frozen: bool, slots: bool,
                 post_init: bool, globals: dict[str, Any]) -> None:
        self.qualname, self.fields, self.frozen, self.slots = qualname, fields, frozen, slots
        self.post_init, self.globals = post_init, globals

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        kind = owner if owner is not None else type(obj)
        function = self.build()
        for holder in kind.__mro__:
            if holder.__dict__.get("__init__") is self:
                setattr(holder, "__init__", function)
                break
        return function if obj is None else function.__get__(obj, kind)

    def template_key(self) -> tuple[str, bool, bool, str]:
        """Which template this ``__init__`` is made from (see _template)."""
        return self._layout()[0]

    def _layout(self) -> tuple[tuple[str, bool, bool, str], dict[str, Any], list[Any]]:
        fields = self.fields
        names = [item.name for item in fields]
        self_name = "__dataclass_self__" if "self" in names else "self"
        shape = []
        env: dict[str, Any] = {"_HAS_DEFAULT_FACTORY": _HAS_DEFAULT_FACTORY, "__dataclass_builtins_object__": object}
        defaults = []
        for item in fields:
            if item.default_factory is not MISSING:
                env[f"_dflt_{item.name}"] = item.default_factory
                shape.append("f" if item.init else "F")
                if item.init:
                    defaults.append(_HAS_DEFAULT_FACTORY)
            elif item.init:
                shape.append("p")
                if item.default is not MISSING:
                    defaults.append(item.default)
            elif self.slots and item.default is not MISSING:
                env[f"_dflt_{item.name}"] = item.default
                shape.append("S")
            else:
                shape.append("-")
        return (self_name, self.frozen, self.post_init, "".join(shape)), env, defaults

    def build(self) -> Callable[..., None]:
        key, env, defaults = self._layout()
        names = [item.name for item in self.fields]
        template = _template(key)
        renamed = {f"_{index}": name for index, name in enumerate(names)}
        renamed.update({f"_dflt__{index}": f"_dflt_{name}" for index, name in enumerate(names)})
        code = template.replace(
            co_varnames=tuple(renamed.get(name, name) for name in template.co_varnames),
            co_freevars=tuple(renamed.get(name, name) for name in template.co_freevars),
            co_names=tuple(renamed.get(name, name) for name in template.co_names),
            co_consts=tuple(renamed.get(value, value) if isinstance(value, str) else value
                            for value in template.co_consts))
        function = FunctionType(code, self.globals, "__init__", tuple(defaults) or None,
                                tuple(CellType(env[name]) for name in code.co_freevars))
        function.__qualname__ = self.qualname
        # the annotations the standard decorator's ``name:_type_name`` parameters evaluate to
        function.__annotations__ = {**{item.name: item.type for item in self.fields if item.init}, "return": None}
        return function


_TEMPLATES: dict[tuple[str, bool, bool, str], CodeType] = {}


def _template(key: tuple[str, bool, bool, str]) -> CodeType:
    """The standard decorator's ``__init__`` for fields of this layout (``key``: the name of
    ``self``, frozen, whether it calls ``__post_init__``, and the fields' shape: ``p`` a
    parameter, ``f`` a parameter with a default factory, ``F`` a factory-made field outside
    ``__init__``, ``S`` a slot given its default, ``-`` a field ``__init__`` leaves alone), with
    the fields named ``_0``, ``_1``, ... (renamed for each class). Defaults are the function's
    ``__defaults__``, not code. The layouts of the auditor's own classes are written out in
    ``auditor/_record_templates.py`` (regenerated by ``python -m auditor.record``), which Python
    byte-compiles like any module; any other layout is compiled here, once per process."""
    found = _TEMPLATES.get(key)
    if found is not None:
        return found
    maker = _precompiled().get(key)
    if maker is None:
        namespace: dict[str, Any] = {}
        # a compiled code object, not the string: a Ctrl-C landing inside exec(str) makes CPython
        # end the process by SIGINT at exit, even when the interrupt was handled (exit 130 expected)
        exec(compile(_template_source(key), "<auditor.record>", "exec"), {}, namespace)
        maker = namespace["__create_fn__"]
    made: CodeType = next(value for value in maker.__code__.co_consts if isinstance(value, CodeType))
    _TEMPLATES[key] = made
    return made


_PRECOMPILED: list[dict[tuple[str, bool, bool, str], Callable[..., Any]]] = []


def _precompiled() -> dict[tuple[str, bool, bool, str], Callable[..., Any]]:
    if not _PRECOMPILED:
        written: dict[tuple[str, bool, bool, str], Callable[..., Any]] = {}
        try:
            from auditor import _record_templates
        except (ImportError, SyntaxError):  # a partial checkout, a damaged file: every layout compiled at run time
            pass
        else:
            written = getattr(_record_templates, "TEMPLATES", {})
        _PRECOMPILED.append(written)
    return _PRECOMPILED[0]


def _template_source(key: tuple[str, bool, bool, str], name: str = "__create_fn__") -> str:
    """``def name(<defaults' cells>): def __init__(...): ...; return __init__`` for ``key``."""
    self_name, frozen, post_init, shape = key
    body, params, free = [], [self_name], ["_HAS_DEFAULT_FACTORY", "__dataclass_builtins_object__"]
    for index, kind in enumerate(shape):
        name_, default = f"_{index}", f"_dflt__{index}"
        if kind in "fFS":
            free.append(default)
        if kind in "pf":
            params.append(name_)
        value = {"p": name_, "f": f"{default}() if {name_} is _HAS_DEFAULT_FACTORY else {name_}",
                 "F": f"{default}()", "S": default}.get(kind)
        if value is not None:
            body.append(f"__dataclass_builtins_object__.__setattr__({self_name},{name_!r},{value})" if frozen
                        else f"{self_name}.{name_}={value}")
    if post_init:
        body.append(f"{self_name}.__post_init__()")
    text = "\n".join(f"  {line}" for line in body or ["pass"])
    return f"def {name}({','.join(free)}):\n def __init__({','.join(params)}):\n{text}\n return __init__"


def render_templates(keys: set[tuple[str, bool, bool, str]]) -> str:
    """The text of ``auditor/_record_templates.py`` for these layouts."""
    lines = ['"""Generated by ``python -m auditor.record``: the ``__init__`` templates of the auditor\'s',
             "record classes (see ``auditor.record._template``). Do not edit; tests/test_record.py",
             'checks it is current."""', "# fmt: off", "# mypy: ignore-errors", "# flake8: noqa", ""]
    ordered = sorted(keys)
    for number, key in enumerate(ordered):
        lines += ["", _template_source(key, f"_t{number}"), ""]
    lines += ["", "TEMPLATES = {"]
    lines += [f"    {key!r}: _t{number}," for number, key in enumerate(ordered)]
    lines += ["}", ""]
    return "\n".join(lines)


def package_template_keys() -> set[tuple[str, bool, bool, str]]:
    """The layouts of every record class of the auditor package (importing all its modules)."""
    import importlib
    import pkgutil

    import auditor

    keys: set[tuple[str, bool, bool, str]] = set()
    for module in pkgutil.walk_packages(auditor.__path__, "auditor."):
        if module.name.endswith("__main__") or module.name == "auditor._record_templates":
            continue
        loaded = importlib.import_module(module.name)
        for value in list(vars(loaded).values()):
            if isinstance(value, type) and value.__module__ == loaded.__name__:
                keys.update(_class_keys(value))
    return keys | set(_TEMPLATES)  # with the classes made while their modules were imported


def _class_keys(kind: type) -> set[tuple[str, bool, bool, str]]:
    keys: set[tuple[str, bool, bool, str]] = set()
    init = kind.__dict__.get("__init__")
    if isinstance(init, _LazyInit):
        keys.add(init.template_key())
    for inner in vars(kind).values():  # nested classes
        if isinstance(inner, type) and inner.__qualname__.startswith(kind.__qualname__ + "."):
            keys.update(_class_keys(inner))
    return keys


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving the tuple ``(obj.a, obj.b, ...)`` (attrgetter of one name gives no tuple)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()


def _repr_fn(names: tuple[str, ...]) -> Callable[[Any], str]:
    values = _values(names)
    running: set[tuple[int, int]] = set()

    def __repr__(self: Any) -> str:
        key = id(self), get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            shown = ", ".join([f"{name}={value!r}" for name, value in zip(names, values(self))])
            return f"{self.__class__.__qualname__}({shown})"
        finally:
            running.discard(key)

    return __repr__


def _eq_fn(names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    values = _values(names)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash_fn(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _values(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _frozen_fns(cls: type, names: tuple[str, ...]) -> tuple[Callable[..., None], Callable[..., None]]:
    """The standard decorator's frozen ``__setattr__`` and ``__delattr__``; ``cls`` is the class
    as declared (before ``slots`` builds it again), as there."""
    declared: Any = cls

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is declared or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(declared, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is declared or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(declared, self).__delattr__(name)

    return __setattr__, __delattr__


def _signature_text(fields: list[Field[Any]]) -> str:
    """``str(inspect.signature(cls))`` for the generated ``__init__`` (string annotations)."""
    shown = []
    for item in fields:
        if not item.init:
            continue
        text = f"{item.name}: {item.type!r}"
        if item.default is not MISSING:
            text += f" = {item.default!r}"
        elif item.default_factory is not MISSING:
            text += f" = {_HAS_DEFAULT_FACTORY!r}"
        shown.append(text)
    return f"({', '.join(shown)}) -> None"


def _slots_of(cls: type) -> tuple[str, ...]:
    declared = cls.__dict__.get("__slots__")
    if declared is None:
        return ()
    if isinstance(declared, str):
        return (declared,)
    if hasattr(declared, "__next__"):
        raise TypeError(f"Slots of '{cls.__name__}' cannot be determined")
    return tuple(declared)


def _add_slots(cls: type, names: tuple[str, ...], frozen: bool) -> type:
    if "__slots__" in cls.__dict__:
        raise TypeError(f"{cls.__name__} already specifies __slots__")
    namespace = dict(cls.__dict__)
    inherited = {slot for base in cls.__mro__[1:-1] for slot in _slots_of(base)}
    namespace["__slots__"] = tuple(name for name in names if name not in inherited)
    for name in names:
        namespace.pop(name, None)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    qualname = getattr(cls, "__qualname__", None)
    cls = type(cls)(cls.__name__, cls.__bases__, namespace)
    if qualname is not None:
        cls.__qualname__ = qualname
    if frozen:
        if "__getstate__" not in namespace:
            setattr(cls, "__getstate__", _getstate_fn(names, getattr(cls, "__dataclass_fields__")))
        if "__setstate__" not in namespace:
            setattr(cls, "__setstate__", _setstate_fn(names, getattr(cls, "__dataclass_fields__")))
    return cls


def _getstate_fn(names: tuple[str, ...], own: dict[str, Any]) -> Callable[[Any], list[Any]]:
    """The state the standard decorator pickles (every field's value, in order). ``own``: the
    class's fields; a dataclass subclass that inherits this (a frozen one without slots) has more,
    read as the standard decorator reads them."""
    values = _values(names)

    def _dataclass_getstate(self: Any) -> list[Any]:
        if self.__dataclass_fields__ is not own:
            return [getattr(self, item.name) for item in dataclasses.fields(self)]
        return list(values(self))

    return _dataclass_getstate


def _setstate_fn(names: tuple[str, ...], own: dict[str, Any]) -> Callable[[Any, Any], None]:
    def _dataclass_setstate(self: Any, state: Any) -> None:
        fields_of = names if self.__dataclass_fields__ is own else \
            tuple(item.name for item in dataclasses.fields(self))
        for name, value in zip(fields_of, state):
            object.__setattr__(self, name, value)

    return _dataclass_setstate


# -- NamedTuple ---------------------------------------------------------------------------------

# What ``typing.NamedTuple``'s class syntax refuses to take from the class body, and what it leaves
_PROHIBITED_IN_TUPLE = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                                  "_field_defaults", "_make", "_replace", "_asdict", "_source"})
_NOT_COPIED_TO_TUPLE = frozenset({"__module__", "__name__", "__annotations__"})


class _NamedTupleMeta(type):
    """``typing.NamedTuple``'s class syntax without its type checks. Under ``from __future__ import
    annotations`` every field's annotation is a string, which typing turns into a ``ForwardRef`` by
    compiling it: three or four ``compile()`` calls a class, about 0.2 ms each class, 3 ms of a
    cold one-project scan for the auditor's 15. Here the annotations stay the strings they are; the
    class is the same ``collections.namedtuple`` with the body's methods, docstring and defaults."""

    def __new__(cls, typename: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        if bases != (_NamedTupleBase,):
            raise TypeError("a NamedTuple class inherits from NamedTuple alone (auditor.record)")
        annotations: dict[str, Any] = namespace.get("__annotations__", {})
        defaulted = [name for name in annotations if name in namespace]
        if defaulted and list(annotations)[-len(defaulted):] != defaulted:
            raise TypeError(f"{typename}: a field without a default follows a field with one")
        make: Any = collections.namedtuple  # (mypy checks namedtuple() calls of literal names only)
        made = make(typename, list(annotations), defaults=[namespace[name] for name in defaulted],
                    module=namespace["__module__"])
        made.__annotations__ = made.__new__.__annotations__ = dict(annotations)
        for key, value in namespace.items():
            if key in _PROHIBITED_IN_TUPLE:
                raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
            if key not in _NOT_COPIED_TO_TUPLE and key not in made._fields:
                setattr(made, key, value)
        return made


_NamedTupleBase = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})


def NamedTuple(typename: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (typing's name)
    """The base of ``class Name(NamedTuple):`` (the functional form is typing's alone)."""
    raise TypeError("auditor.record.NamedTuple supports the class syntax only; use typing.NamedTuple")


setattr(NamedTuple, "__mro_entries__", lambda bases: (_NamedTupleBase,))


if __name__ == "__main__":  # python -m auditor.record: rewrite auditor/_record_templates.py
    import os as _os

    from auditor import record as _record  # the module the package's classes are made by (not __main__)

    if not _record.FAST:  # the standard decorator makes every class there: no layout would be written
        raise SystemExit(f"python -m auditor.record writes the templates of Python 3.11's fast path; "
                         f"run it with Python 3.11 (this is {sys.version.split()[0]})")

    _target = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "_record_templates.py")
    _text = _record.render_templates(_record.package_template_keys())  # before the file is opened
    with open(_target, "w", encoding="utf-8") as _handle:
        _handle.write(_text)
    print(f"wrote {_target}")
