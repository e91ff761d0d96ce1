"""auditor.record.dataclass builds the same classes as dataclasses.dataclass, and every dataclass
of the auditor package is built by it.

Each case declares one class body twice (the class statement runs once per decorator, so each
gets its own ``field()`` objects, as two modules would) and compares what the two classes and
their instances do: the generated ``__init__`` (signature, defaults, factories, ``__post_init__``),
``repr``, equality, hash, the frozen errors, ``__slots__``, pickling (the state a frozen slotted
class pickles is the same list), ``copy``, ``dataclasses.replace``/``fields``/``asdict``/
``astuple``/``is_dataclass``, ``__match_args__``, ``__doc__`` and the errors the decorator raises.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import re
import sys
from typing import Any, Callable

import pytest

import auditor
from auditor import record


def _factory_list() -> list[int]:
    return [1]


def _declare(decorate: Callable[..., Any], options: dict[str, Any], kind: str) -> Any:
    """One of the sample class bodies, decorated with ``decorate(**options)``."""
    field = dataclasses.field
    if kind == "plain":
        class Sample:
            """A sample."""
            span: str
            message: str
            count: int = 3
            items: list[int] = field(default_factory=_factory_list)
            note: str = field(default="n", repr=False)
            weight: float = field(default=1.5, compare=False)
            raw: dict[str, int] = field(default_factory=dict, hash=False)
            fixed: int = field(default=7, init=False)
    elif kind == "nodoc":
        class Sample:  # type: ignore[no-redef]
            span: str
            items: tuple[int, ...] = ()
            mapping: dict[str, int] = field(default_factory=dict)
            label: str = "x -> None"
    elif kind == "post_init":
        class Sample:  # type: ignore[no-redef]
            """Normalises itself."""
            name: str
            seen: list[str] = field(default_factory=list)

            def __post_init__(self) -> None:
                self.seen.append(self.name.upper())
    elif kind == "self_field":
        class Sample:  # type: ignore[no-redef]
            self: int
            other: int = 2
    elif kind == "empty":
        class Sample:  # type: ignore[no-redef]
            """No fields at all."""
    elif kind == "own_methods":
        class Sample:  # type: ignore[no-redef]
            """Keeps its own repr and eq."""
            value: int

            def __repr__(self) -> str:
                return "own"

            def __eq__(self, other: object) -> bool:
                return True

            def __hash__(self) -> int:
                return 5
    else:
        raise AssertionError(kind)
    Sample.__module__ = __name__
    Sample.__qualname__ = f"Sample_{kind}"
    return decorate(**options)(Sample)


OPTIONS = [{}, {"frozen": True}, {"slots": True}, {"frozen": True, "slots": True},
           {"eq": False}, {"repr": False}, {"match_args": False}, {"frozen": True, "eq": False}]
KINDS = {"plain": (("s", "m"), {}), "nodoc": (("s",), {"items": (1, 2)}), "post_init": (("ab",), {}),
         "self_field": ((1,), {"other": 3}), "empty": ((), {}), "own_methods": ((4,), {})}


def _outcome(action: Callable[[], Any]) -> Any:
    """What an action gives, or the type and text of the exception it raises."""
    try:
        return ("value", action())
    except Exception as error:  # the error itself is the behaviour compared
        return ("raised", type(error), str(error).replace("Stdlib", "Sample").replace("Record", "Sample"))


def _field_facts(kind: type) -> list[tuple[Any, ...]]:
    return [(f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.hash, f.compare, f.kw_only,
             dict(f.metadata), f._field_type) for f in dataclasses.fields(kind)]  # type: ignore[attr-defined]


def _class_facts(kind: type) -> dict[str, Any]:
    own = kind.__dict__
    return {
        "signature": str(inspect.signature(kind)),
        "init_annotations": kind.__init__.__annotations__,
        "init_qualname": kind.__init__.__qualname__.partition(".")[2],
        "doc": kind.__doc__,
        "slots": own.get("__slots__"),
        "has_dict": "__dict__" in own,
        "match_args": own.get("__match_args__"),
        "params": repr(own["__dataclass_params__"]),
        "fields": _field_facts(kind),
        "hash_is_none": own.get("__hash__", "absent") is None,
        "own_names": sorted(name for name in own if name not in ("__qualname__",)),
        "class_defaults": {name: repr(own[name]) for name in ("count", "items", "note", "fixed", "label", "seen")
                           if name in own},
        "getstate": "__getstate__" in own,
    }


def _shown(kind: type, value: Any) -> str:
    """``repr(value)`` without the class's test name and the object's address."""
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value).replace(kind.__qualname__, "Sample"))


def _instance_facts(kind: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    first, second, third = kind(*args, **kwargs), kind(*args, **kwargs), kind(*args, **kwargs)
    names = [f.name for f in dataclasses.fields(kind)]
    facts: dict[str, Any] = {
        "repr": _shown(kind, first),
        "eq": first == second,
        "ne": first != second,
        "eq_other_type": first == object(),
        "hash": _outcome(lambda: hash(first) == hash(second)),
        "hash_value": _outcome(lambda: hash(first) == hash(tuple(getattr(first, n) for n in names
                                                                 if dataclasses.fields(kind)))),
        "values": [getattr(first, name) for name in names],
        "fresh_factories": [getattr(first, n) is not getattr(second, n) for n in names
                            if isinstance(getattr(first, n), (list, dict))],
        "asdict": dataclasses.asdict(first),
        "astuple": dataclasses.astuple(first),
        "is_dataclass": (dataclasses.is_dataclass(first), dataclasses.is_dataclass(kind)),
        "copy": copy.copy(first) == first and copy.copy(first) is not first,
        "deepcopy": repr(copy.deepcopy(first)) == repr(first),
        "pickle_state": _outcome(lambda: third.__reduce_ex__(2)[2]),
        "set_field": _outcome(lambda: setattr(third, names[0], 9) if names else setattr(third, "zzz", 9)),
        "set_other": _outcome(lambda: setattr(third, "not_a_field", 9)),
        "del_field": _outcome(lambda: delattr(third, names[0]) if names else None),
        "wrong_call": _outcome(lambda: kind(*args, unexpected=1, **kwargs)),
        "missing_call": _outcome(lambda: _shown(kind, kind())),
    }
    if names:
        facts["replace"] = _shown(kind, dataclasses.replace(first, **{names[0]: args[0] if args else 0}))
    return facts


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("kind", list(KINDS))
def test_same_class_and_behaviour_as_the_standard_decorator(kind: str, options: dict[str, Any]) -> None:
    stdlib = _declare(dataclasses.dataclass, options, kind)
    ours = _declare(record.dataclass, options, kind)
    if options.get("repr", True) and kind != "own_methods":
        assert ours.__repr__.__code__.co_filename == record.__file__
    assert _class_facts(ours) == _class_facts(stdlib)
    args, kwargs = KINDS[kind]
    assert _instance_facts(ours, args, kwargs) == _instance_facts(stdlib, args, kwargs)


def _pickled_by_reference(name: str, options: dict[str, Any], decorate: Callable[..., Any]) -> Any:
    """A sample class reachable as a module attribute, as pickle needs."""
    kind = _declare(decorate, options, "plain")
    kind.__qualname__ = kind.__name__ = name
    setattr(sys.modules[__name__], name, kind)
    return kind


@pytest.mark.parametrize("options", [{}, {"frozen": True, "slots": True}, {"slots": True}, {"frozen": True}])
def test_pickles_round_trip_alike(options: dict[str, Any]) -> None:
    stdlib = _pickled_by_reference("PickledStdlib", options, dataclasses.dataclass)
    ours = _pickled_by_reference("PickledRecord", options, record.dataclass)
    a, b = stdlib("s", "m", 4, [5], "n", 2.0, {"k": 1}), ours("s", "m", 4, [5], "n", 2.0, {"k": 1})
    loaded = 0
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        left, right = _outcome(lambda: pickle.dumps(a, protocol)), _outcome(lambda: pickle.dumps(b, protocol))
        if left[0] == "raised":  # protocols 0 and 1 cannot pickle a slotted class without state
            assert right == left
            continue
        assert left[1].replace(b"PickledStdlib", b"PickledRecord") == right[1]
        back = pickle.loads(right[1])
        assert back == b and type(back) is ours and back.fixed == 7
        loaded += 1
    assert loaded >= 4
    assert copy.deepcopy(b) == b


def test_inherits_fields_and_slots_like_the_standard_decorator() -> None:
    built = {}
    for label, decorate in (("stdlib", dataclasses.dataclass), ("record", record.dataclass)):
        @decorate(frozen=True, slots=True)
        class Base:
            span: str
            message: str

        @decorate(frozen=True, slots=True)
        class Child(Base):
            """A base's fields, no slots of its own."""
            extra: int = 0

        built[label] = (Base, Child)
    for pair in zip(built["stdlib"], built["record"]):
        assert _class_facts(pair[1]) == _class_facts(pair[0])
    (_, stdlib_child), (_, record_child) = built["stdlib"], built["record"]
    assert record_child.__slots__ == ("extra",)
    assert _instance_facts(record_child, ("s", "m"), {"extra": 2}) \
        == _instance_facts(stdlib_child, ("s", "m"), {"extra": 2})


def test_rejects_what_the_standard_decorator_rejects() -> None:
    for decorate in (dataclasses.dataclass, record.dataclass):
        with pytest.raises(ValueError, match="mutable default <class 'list'> for field items"):
            @decorate
            class Mutable:
                items: list[int] = []  # noqa: RUF012

        with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
            @decorate
            class Order:
                a: int = 1
                b: int

        with pytest.raises(TypeError, match="'loose' is a field but has no type annotation"):
            @decorate
            class Loose:
                loose = dataclasses.field(default=1)

        @decorate(frozen=True)
        class Frozen:
            a: int

        with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):
            @decorate
            class Thawed(Frozen):
                b: int = 0

        with pytest.raises(TypeError, match="already specifies __slots__"):
            @decorate(slots=True)
            class Slotted:
                __slots__ = ("a",)
                a: int


def test_options_it_does_not_build_itself_go_to_the_standard_decorator() -> None:
    @record.dataclass(order=True, frozen=True)
    class Ordered:
        a: int

    assert Ordered(1) < Ordered(2)
    assert Ordered.__repr__.__code__.co_filename != record.__file__


def _auditor_modules() -> list[Any]:
    modules = [auditor]
    for info in pkgutil.walk_packages(auditor.__path__, "auditor."):
        if info.name.endswith("__main__"):  # runs the command line
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def test_every_dataclass_of_the_auditor_is_built_by_auditor_record() -> None:
    """A standard ``@dataclass`` creeping back in costs half a millisecond of start-up a class."""
    found, standard = [], []
    for module in _auditor_modules():
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ \
                    and "__dataclass_fields__" in value.__dict__:
                found.append(value)
                if getattr(value.__repr__, "__code__", None) is None \
                        or value.__repr__.__code__.co_filename != record.__file__:
                    standard.append(f"{module.__name__}.{value.__qualname__}")
    assert len(found) > 100
    assert standard == []


@pytest.mark.parametrize("options", [{}, {"frozen": True, "slots": True}])
def test_init_built_on_first_use_whichever_way_it_is_reached(options: dict[str, Any]) -> None:
    """``__init__`` is compiled when first looked up: by a call of the class, of a subclass, or
    through the class; the same function either way, put in the class for later calls."""
    first = _declare(record.dataclass, options, "plain")
    made = first("s", "m", count=4)  # nothing looked at the class before
    assert (made.span, made.message, made.count, made.items, made.fixed) == ("s", "m", 4, [1], 7)
    assert type(first.__dict__["__init__"]).__name__ == "function"

    second = _declare(record.dataclass, options, "plain")

    class Sub(second):  # type: ignore[misc, valid-type]
        __slots__ = ()

    child = Sub("a", "b")  # the subclass's call builds the base's __init__
    assert (child.span, child.items, child.note) == ("a", [1], "n")
    assert type(second.__dict__["__init__"]).__name__ == "function" and "__init__" not in Sub.__dict__
    assert second.__init__.__qualname__ == "Sample_plain.__init__"

    third = _declare(record.dataclass, options, "plain")
    stdlib = _declare(dataclasses.dataclass, options, "plain")
    assert third.__init__.__defaults__ == stdlib.__init__.__defaults__  # looked up through the class
    assert third.__init__.__code__.co_varnames == stdlib.__init__.__code__.co_varnames
    assert sorted(third.__init__.__code__.co_freevars) == sorted(stdlib.__init__.__code__.co_freevars)



_ON_ANOTHER_VERSION = """
from __future__ import annotations
import dataclasses, pickle, sys
sys.path.insert(0, sys.argv[1])
from auditor.record import FAST, dataclass, field

@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = field(default_factory=dict)

sample = Sample("a")
assert not FAST
assert pickle.loads(pickle.dumps(sample)) == sample and Sample("a") == sample
assert dataclasses.replace(sample, name="b").name == "b" and dataclasses.asdict(sample)["extra"] == {}
"""


def _other_pythons() -> list[str]:
    """Interpreters of other minor versions on this machine (PATH, pyenv), each that runs."""
    import glob
    import os
    import shutil
    import subprocess

    candidates = [shutil.which(f"python3.{minor}") for minor in range(12, 16)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3")))
    found: dict[str, str] = {}
    for path in filter(None, candidates):
        done = subprocess.run([path, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                              text=True)  # a pyenv shim without a selected version fails here
        if done.returncode == 0:
            found.setdefault(done.stdout.strip(), path)
    return list(found.values())


def test_with_the_fast_path_off_the_standard_decorator_builds_the_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "FAST", False)
    made = record.dataclass(frozen=True, slots=True)(type("Sample", (), {"__annotations__": {"name": "str"}}))
    assert "__create_fn__" in made.__init__.__code__.co_qualname  # the standard library's generated code
    assert made("a") == made("a") and hash(made("a")) == hash(made("a"))


def test_on_other_python_versions_the_standard_decorator_builds_the_classes() -> None:
    # The fast path fills in 3.11's private _DataclassParams; 3.12 added required arguments, and
    # every `import auditor...` failed there with a TypeError.
    import subprocess
    from pathlib import Path

    pythons = _other_pythons()
    if not pythons:
        pytest.skip("no Python other than 3.11 here (the test runs each one it finds)")
    for python in pythons:
        done = subprocess.run([python, "-c", _ON_ANOTHER_VERSION, str(Path(auditor.__file__).parent.parent)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (python, done.stderr)


def test_a_frozen_subclass_of_a_frozen_slotted_class_pickles_its_own_fields_too() -> None:
    # the pickled state was the slotted base's field list, so the subclass's fields came back as
    # their defaults (C(x=1, q='zz') -> C(x=1, q='q')); the standard decorator reads fields(self)
    made = []
    for decorate in (dataclasses.dataclass, record.dataclass):
        base = decorate(frozen=True, slots=True)(type("B", (), {"__annotations__": {"x": "int"}}))
        child = decorate(frozen=True)(type("C", (base,), {"__annotations__": {"q": "str"}, "q": "q"}))
        globals()[f"_Pickled{len(made)}"] = child  # picklable by name
        child.__qualname__ = child.__name__ = f"_Pickled{len(made)}"
        made.append(pickle.loads(pickle.dumps(child(1, "zz"))))
    assert [(m.x, m.q) for m in made] == [(1, "zz"), (1, "zz")]


_FAST_ONLY = pytest.mark.skipif(not __import__("auditor.record", fromlist=["FAST"]).FAST,
                                reason="the written templates are Python 3.11's fast path; other versions use the standard decorator")


@_FAST_ONLY
def test_the_written_templates_are_current() -> None:
    """``auditor/_record_templates.py`` holds exactly the layouts of the package's record classes:
    a class added or changed without ``python -m auditor.record`` fails here (its ``__init__``
    would still work, compiled at run time, but start-up would pay for it)."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    code = "from auditor import record; import sys; sys.stdout.write(record.render_templates(record.package_template_keys()))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, timeout=300)
    assert done.returncode == 0, done.stderr
    written = (repo / "auditor" / "_record_templates.py").read_text(encoding="utf-8")
    assert done.stdout == written, "run `python -m auditor.record` to rewrite auditor/_record_templates.py"


@_FAST_ONLY
def test_a_layout_not_written_out_is_compiled_at_run_time() -> None:
    """A class of a layout the package does not have (30 fields, frozen, with ``__post_init__``)
    gets its ``__init__`` compiled here, with the same behaviour."""
    from auditor import record

    names = [f"f{index}" for index in range(30)]
    namespace: dict[str, object] = {"__annotations__": {name: "int" for name in names},
                                    "__post_init__": lambda self: object.__setattr__(self, "seen", True)}
    namespace["__annotations__"]["seen"] = "bool"  # type: ignore[index]
    namespace["seen"] = False
    kind = record.dataclass(frozen=False)(type("Wide", (), namespace))
    made = kind(*range(30))
    assert made.f29 == 29 and made.seen is True
    key = ("self", False, True, "p" * 31)
    assert key not in record._precompiled() and record._TEMPLATES[key].co_filename == "<auditor.record>"


@_FAST_ONLY
def test_a_damaged_templates_file_leaves_the_classes_working(tmp_path: "pathlib.Path") -> None:
    """Left-over conflict markers in the generated file: the templates are compiled at run time."""
    import shutil
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    shutil.copytree(repo / "auditor", tmp_path / "auditor", ignore=shutil.ignore_patterns("__pycache__"))
    damaged = tmp_path / "auditor" / "_record_templates.py"
    damaged.write_text("<<<<<<< HEAD\n" + damaged.read_text(encoding="utf-8"), encoding="utf-8")
    code = ("from auditor.model.span import Span; from auditor.findings import ControlResult; "
            "print(Span('a', 2).line, ControlResult('DF001', 'pass', ()).status)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "pass"]


# -- NamedTuple: typing's class syntax, without compiling each annotation -------------------------

def _declare_tuple(base: Any) -> Any:
    class Place(base):  # type: ignore[misc,valid-type]
        """A place."""
        path: str
        line: int = 0
        note: str | None = None
        LIMIT = 3

        def where(self) -> str:
            return f"{self.path}:{self.line}"

        @property
        def far(self) -> bool:
            return self.line > self.LIMIT

    return Place


def test_named_tuple_classes_behave_as_typing_builds_them() -> None:
    import typing

    ours, theirs = _declare_tuple(record.NamedTuple), _declare_tuple(typing.NamedTuple)
    assert ours.__mro__[1:] == theirs.__mro__[1:] == (tuple, object)
    assert ours._fields == theirs._fields == ("path", "line", "note")
    assert ours._field_defaults == theirs._field_defaults == {"line": 0, "note": None}
    assert ours.__doc__ == theirs.__doc__ == "A place."
    assert ours.__module__ == theirs.__module__ == __name__
    assert ours.__qualname__ == theirs.__qualname__
    assert [(item.name, item.default) for item in inspect.signature(ours).parameters.values()] == \
        [(item.name, item.default) for item in inspect.signature(theirs).parameters.values()]
    a, b = ours("Dockerfile", 4), theirs("Dockerfile", 4)
    assert repr(a) == repr(b) == "Place(path='Dockerfile', line=4, note=None)"
    assert a == b == ("Dockerfile", 4, None) and hash(a) == hash(b)
    assert a.where() == b.where() == "Dockerfile:4" and a.far is b.far is True and ours.LIMIT == 3
    assert a._replace(line=1) == b._replace(line=1) and a._asdict() == b._asdict()
    assert ours._make(["x", 2, "n"]) == theirs._make(["x", 2, "n"])
    assert not hasattr(a, "__dict__") and ours.__slots__ == theirs.__slots__ == ()
    # the one difference, by design: the annotations stay the strings the module wrote
    assert ours.__annotations__ == {"path": "str", "line": "int", "note": "str | None"}
    assert all(isinstance(value, typing.ForwardRef) for value in theirs.__annotations__.values())


def test_named_tuples_pickle_by_name_and_refuse_what_typing_refuses() -> None:
    from auditor.model.span import Span

    span = Span("nginx/nginx.conf", 12)
    assert pickle.loads(pickle.dumps(span)) == span and type(pickle.loads(pickle.dumps(span))) is Span
    with pytest.raises(TypeError, match="without a default follows"):
        class Wrong(record.NamedTuple):  # type: ignore[misc,valid-type]
            first: int = 0
            second: int
    with pytest.raises(AttributeError, match="_replace"):
        class Clash(record.NamedTuple):  # type: ignore[misc,valid-type]
            name: str

            def _replace(self) -> None: ...
    with pytest.raises(TypeError, match="class syntax only"):
        record.NamedTuple("Functional", [("name", str)])


def test_every_named_tuple_of_the_scan_path_is_built_without_typing() -> None:
    """``typing.NamedTuple`` compiles every field's annotation string (``ForwardRef``): 3 ms of a
    cold one-project scan for the 15 classes of the scan path. (``auditor merge``'s own classes,
    off that path, keep typing's.)"""
    built_by_typing = []
    for module in _auditor_modules():
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, tuple) and value.__module__ == module.__name__ \
                    and hasattr(value, "_fields") and value.__annotations__ \
                    and any(not isinstance(kind, str) for kind in value.__annotations__.values()):
                built_by_typing.append(f"{module.__name__}.{value.__qualname__}")
    assert sorted(built_by_typing) == [f"auditor.report.merged.{name}" for name in (
        "Cell", "Loaded", "MergedReport", "MergedRow", "Repository", "ScannerRecord")]


def test_a_class_variable_named_for_the_type_checker_only_is_refused_not_made_a_field() -> None:
    """A module importing ``ClassVar`` under ``TYPE_CHECKING`` (the auditor's convention): the
    standard decorator would find no ``ClassVar`` at run time and make the constant a field."""
    import types

    module = types.ModuleType("made_for_the_test")
    sys.modules[module.__name__] = module
    try:
        namespace = {"__module__": module.__name__, "__annotations__": {"KIND": "ClassVar[str]", "size": "int"},
                     "KIND": "limits", "size": 0}
        with pytest.raises(TypeError, match="binds ClassVar for the type checker only"):
            record.dataclass(frozen=True)(type("Limits", (), dict(namespace)))
        module.ClassVar = __import__("typing").ClassVar  # type: ignore[attr-defined]
        kind = record.dataclass(frozen=True)(type("Limits", (), dict(namespace)))
        assert [item.name for item in dataclasses.fields(kind)] == ["size"] and kind(3).KIND == "limits"
    finally:
        del sys.modules[module.__name__]
