"""A cheap ``@dataclass``: the same classes as the standard library's decorator, built faster.

The standard decorator compiles each generated method with its own ``exec`` and, with
``slots=True``, builds the class a second time; that is about half a millisecond a class on
Python 3.11, and the auditor defines more than a hundred of them at import (a third of a cold
one-project scan). This one compiles ``__init__`` alone (one ``exec`` a class) and makes
``__repr__``, ``__eq__``, ``__hash__``, the frozen ``__setattr__``/``__delattr__`` and the
pickling state from closures, so a class costs a few tens of microseconds.

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
"""

from __future__ import annotations

import abc
import dataclasses
import sys
from types import MemberDescriptorType
from _thread import get_ident
from dataclasses import MISSING, Field, FrozenInstanceError, field
from operator import attrgetter
from typing import Any, Callable

__all__ = ["dataclass", "field"]

_FIELD = getattr(dataclasses, "_FIELD")
_PARAMS_TYPE = getattr(dataclasses, "_DataclassParams")
_HAS_DEFAULT_FACTORY = getattr(dataclasses, "_HAS_DEFAULT_FACTORY")
_UNSUPPORTED_WORDS = ("ClassVar", "InitVar", "KW_ONLY")


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
    if options["order"] or options["unsafe_hash"] or options["kw_only"] or options["weakref_slot"] \
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


def _plain(cls: type) -> bool:
    """Whether this class needs nothing the fast path leaves to the standard decorator: every
    annotation a string (``from __future__ import annotations``) naming no ``ClassVar``,
    ``InitVar`` or ``KW_ONLY``; a plain metaclass, no ``__new__`` and no ``__init__`` of its own
    (``__doc__`` gets the signature of the generated ``__init__``, written here without
    ``inspect``)."""
    for kind in cls.__dict__.get("__annotations__", {}).values():
        if not isinstance(kind, str) or any(word in kind for word in _UNSUPPORTED_WORDS):
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


def _init_fn(cls: type, fields: list[Field[Any]], frozen: bool, slots: bool) -> Callable[..., None]:
    """``__init__`` as the standard decorator writes it, compiled in one ``exec``."""
    seen_default = False
    for item in fields:
        if item.init:
            if not (item.default is MISSING and item.default_factory is MISSING):
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {item.name!r} follows default argument")
    self_name = "__dataclass_self__" if "self" in {item.name for item in fields} else "self"
    local: dict[str, Any] = {"_HAS_DEFAULT_FACTORY": _HAS_DEFAULT_FACTORY,
                             "__dataclass_builtins_object__": object}
    body = []
    for item in fields:
        line = _field_init(item, frozen, local, self_name, slots)
        if line:
            body.append(line)
    if hasattr(cls, "__post_init__"):
        body.append(f"{self_name}.__post_init__()")
    params = [self_name] + [_init_param(item) for item in fields if item.init]
    text = "\n".join(f"  {line}" for line in body or ["pass"])
    names = ", ".join(local)
    source = (f"def __create_fn__({names}):\n"
              f" def __init__({','.join(params)}):\n{text}\n"
              f" return __init__")
    namespace: dict[str, Any] = {}
    module = sys.modules.get(cls.__module__)
    exec(source, module.__dict__ if module is not None else {}, namespace)
    function: Callable[..., None] = namespace["__create_fn__"](**local)
    # the annotations the standard decorator's ``name:_type_name`` parameters evaluate to
    function.__annotations__ = {**{item.name: item.type for item in fields if item.init}, "return": None}
    return function


def _init_param(item: Field[Any]) -> str:
    if item.default is MISSING and item.default_factory is MISSING:
        default = ""
    elif item.default is not MISSING:
        default = f"=_dflt_{item.name}"
    else:
        default = "=_HAS_DEFAULT_FACTORY"
    return f"{item.name}{default}"


def _field_init(item: Field[Any], frozen: bool, local: dict[str, Any], self_name: str,
                slots: bool) -> str | None:
    default_name = f"_dflt_{item.name}"
    if item.default_factory is not MISSING:
        local[default_name] = item.default_factory
        value = (f"{default_name}() if {item.name} is _HAS_DEFAULT_FACTORY else {item.name}" if item.init
                 else f"{default_name}()")
    elif item.init:
        if item.default is not MISSING:
            local[default_name] = item.default
        value = item.name
    elif slots and item.default is not MISSING:
        local[default_name] = item.default
        value = default_name
    else:
        return None
    if frozen:
        return f"__dataclass_builtins_object__.__setattr__({self_name},{item.name!r},{value})"
    return f"{self_name}.{item.name}={value}"


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
            setattr(cls, "__getstate__", _getstate_fn(names))
        if "__setstate__" not in namespace:
            setattr(cls, "__setstate__", _setstate_fn(names))
    return cls


def _getstate_fn(names: tuple[str, ...]) -> Callable[[Any], list[Any]]:
    values = _values(names)

    def _dataclass_getstate(self: Any) -> list[Any]:
        return list(values(self))

    return _dataclass_getstate


def _setstate_fn(names: tuple[str, ...]) -> Callable[[Any, Any], None]:
    def _dataclass_setstate(self: Any, state: Any) -> None:
        for name, value in zip(names, state):
            object.__setattr__(self, name, value)

    return _dataclass_setstate
