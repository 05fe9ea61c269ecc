"""`ftstudio.core.records`: a `@datarecord` class behaves as the `@dataclass` of the same declaration.

Each case declares one class twice, once per decorator, and compares what a caller sees: the constructor's
signature and errors, repr, eq, hash, frozenness, fields, replace and asdict, pickling and copying.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any, ClassVar

import pytest

from ftstudio.core import records
from ftstudio.core.records import FrozenInstanceError, datarecord, field


def _both(body: dict[str, Any], annotations: dict[str, str], **opts: Any) -> tuple[type, type]:
    made = []
    for deco, fld in ((dataclasses.dataclass, dataclasses.field), (datarecord, field)):
        ns = {k: (fld(**v) if isinstance(v, dict) else v) for k, v in body.items()}
        cls = type("Point", (), {"__annotations__": dict(annotations), "__module__": __name__, **ns})
        made.append(deco(**opts)(cls))
    return made[0], made[1]


CASES = [
    ({}, {"x": "int", "y": "int"}, {}),
    ({"y": 2, "tags": {"default_factory": list}}, {"x": "int", "y": "int", "tags": "list[str]"}, {}),
    ({"label": "p", "secret": {"default": None, "repr": False}, "cache": {"default": 0, "compare": False}},
     {"x": "float", "label": "str", "secret": "str | None", "cache": "int"}, {"frozen": True}),
    ({"y": 0}, {"x": "int", "y": "int", "count": "ClassVar[int]"}, {"frozen": True, "kw_only": True}),
    ({}, {"x": "int"}, {"eq": False}),
]


@pytest.mark.parametrize(("body", "annotations", "opts"), CASES)
def test_a_record_behaves_as_the_dataclass_of_the_same_declaration(body, annotations, opts):
    dc, rc = _both(body, annotations, **opts)
    assert str(inspect.signature(rc.__init__)) == str(inspect.signature(dc.__init__))
    required = {f.name: i for i, f in enumerate(dataclasses.fields(dc))
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    a_dc, a_rc = dc(**required), rc(**required)
    assert repr(a_rc) == repr(a_dc)
    assert (a_rc == rc(**required)) == (a_dc == dc(**required))
    assert (a_rc == a_dc) is False  # another class entirely
    assert (rc.__hash__ is None) == (dc.__hash__ is None)
    if dc.__hash__ is not None and opts.get("eq", True):
        assert hash(a_rc) == hash(rc(**required))
    assert [f.name for f in records.fields(rc)] == [f.name for f in dataclasses.fields(dc)]
    assert records.asdict(a_rc) == dataclasses.asdict(a_dc)
    changed = records.replace(a_rc, x=5)
    assert changed.x == 5 and records.asdict(changed) == dataclasses.asdict(dataclasses.replace(a_dc, x=5))
    if opts.get("frozen"):
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'x'"):
            a_rc.x = 3
        with pytest.raises(AttributeError):  # as the dataclass: FrozenInstanceError is an AttributeError
            del a_rc.x
    assert getattr(rc, "__match_args__", ()) == getattr(dc, "__match_args__", ())


def test_constructor_errors_are_a_dataclass_s():
    dc, rc = _both({"y": 2}, {"x": "int", "y": "int"})
    for call in (lambda c: c(), lambda c: c(1, 2, 3), lambda c: c(1, z=3)):
        with pytest.raises(TypeError) as want:
            call(dc)
        with pytest.raises(TypeError) as got:
            call(rc)
        assert str(got.value).split("(", 1)[1] == str(want.value).split("(", 1)[1]  # the method's name differs
    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):
        _both({"x": 1}, {"x": "int", "y": "int"})
    with pytest.raises(ValueError, match="mutable default list for field tags"):
        datarecord(type("Bad", (), {"__annotations__": {"tags": "list"}, "tags": []}))
    with pytest.raises(TypeError, match="InitVar"):
        datarecord(type("Bad", (), {"__annotations__": {"seed": "InitVar[int]"}}))
    with pytest.raises(TypeError, match="no field 'z'"):
        records.replace(rc(1), z=2)
    with pytest.raises(TypeError):
        records.fields(object())


def test_a_factory_runs_per_instance_and_post_init_after_the_fields():
    @datarecord
    class Bag:
        items: list[int] = field(default_factory=list)
        seen: ClassVar[list[str]] = []

        def __post_init__(self) -> None:
            Bag.seen.append(f"{len(self.items)}")

    a, b = Bag(), Bag([1, 2])
    a.items.append(1)
    assert Bag().items == [] and b.items == [1, 2] and Bag.seen == ["0", "2", "0"]


def test_inheritance_methods_of_the_body_and_pickling():
    @datarecord(frozen=True)
    class Base:
        x: int

        def __repr__(self) -> str:  # a method the body defines is kept, as a dataclass keeps it
            return f"<{self.x}>"

    @datarecord(frozen=True)
    class Child(Base):
        y: int = 0

    c = Child(1, 2)
    assert repr(Base(1)) == "<1>" and repr(c).endswith("Child(x=1, y=2)")  # as dataclasses: the child's own
    assert (c.x, c.y) == (1, 2) and records.asdict(c) == {"x": 1, "y": 2}
    assert c != Base(1) and hash(c) == hash(Child(1, 2))
    with pytest.raises(TypeError, match="frozen"):
        datarecord(type("Loose", (Base,), {"__annotations__": {"z": "int"}}))
    assert pickle.loads(pickle.dumps(POINT)) == POINT and copy.deepcopy(POINT) == POINT
    assert copy.copy(POINT) is not POINT and copy.copy(POINT) == POINT


@datarecord(frozen=True, kw_only=True)
class _Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


POINT = _Point(x=1, tags=("a",))


def test_asdict_converts_containers_and_nested_records():
    @datarecord
    class Outer:
        inner: _Point
        many: list[_Point]
        by_name: dict[str, _Point]

    out = Outer(POINT, [POINT], {"p": POINT})
    d = {"x": 1, "y": 0, "tags": ("a",)}
    assert records.asdict(out) == {"inner": d, "many": [d], "by_name": {"p": d}}
    assert records.is_record(out) and records.is_record(Outer) and not records.is_record({})
