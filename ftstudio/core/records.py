"""`@datarecord`: a class of typed fields, with the methods `@dataclass` gives it, made with one compile.

Why not `dataclasses`: in Python 3.11 `@dataclass(frozen=True)` compiles six functions one at a time (about
0.45 ms a class). A one-row `ftstudio grade` loads some thirty such classes: 16 ms, a fifth of its start-up
(issue 23). `datarecord` compiles `__init__` alone (so an instance is made as fast as a dataclass's) and gives
every record the same `__repr__`, `__eq__`, `__hash__` and frozen `__setattr__`, which read the class's field
names (about 0.1 ms a class).

What it makes, as `@dataclass` would with the same arguments: `__init__` (fields in declaration order, base
records' first; defaults, `field(default_factory=...)`, `kw_only`; `__post_init__` called when the class has
one), `__repr__` (fields with `repr=True`), `__eq__` (fields with `compare=True`, instances of the same class),
`__hash__` when frozen (None when only eq, as a dataclass), `__match_args__`, and for `frozen=True` the
`__setattr__`/`__delattr__` that raise `FrozenInstanceError`. Module functions `fields`, `replace` and
`asdict` work as `dataclasses`' do on records (`asdict` copies containers, not other values).

Not supported: `InitVar` (a TypeError says so), `slots`, `order`, `unsafe_hash`, `init=False`. Use `@dataclass` where those are
needed and start-up does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, cast, dataclass_transform, overload

__all__ = ["Field", "FrozenInstanceError", "asdict", "field", "fields", "is_record", "datarecord", "replace"]

_T = TypeVar("_T")
_CLASSVAR = re.compile(r"^(?:typing\.|t\.)?ClassVar\b")
_INITVAR = re.compile(r"^(?:dataclasses\.)?InitVar\b")


class FrozenInstanceError(AttributeError):
    """Assigning to, or deleting, a field of a frozen record."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"


FACTORY: Any = _Factory()  # the default a factory field shows in __init__'s signature, as a dataclass's does


class Field:
    """One field of a record: its name, default or factory, and whether it is in repr, eq and hash, keyword-only."""

    __slots__ = ("compare", "default", "default_factory", "kw_only", "name", "repr", "type")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
                 compare: bool = True, kw_only: bool | None = None):
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name, self.type = "", ""  # set by the record: its name, and its annotation as written
        self.default, self.default_factory = default, default_factory
        self.repr, self.compare, self.kw_only = repr, compare, kw_only

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


@overload
def field(*, default: _T, repr: bool = True, compare: bool = True, kw_only: bool | None = None) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T], repr: bool = True, compare: bool = True,
          kw_only: bool | None = None) -> _T: ...
@overload
def field(*, repr: bool = True, compare: bool = True, kw_only: bool | None = None) -> Any: ...


def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True, compare: bool = True,
          kw_only: bool | None = None) -> Any:
    """A field with a default (or a factory called for each instance), left out of repr or of eq and hash."""
    return Field(default, default_factory, repr, compare, kw_only)


@overload
def datarecord(cls: type[_T], /) -> type[_T]: ...
@overload
def datarecord(*, frozen: bool = False, kw_only: bool = False, eq: bool = True) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(field_specifiers=(field, Field))
def datarecord(cls: type[_T] | None = None, /, *, frozen: bool = False, kw_only: bool = False,
           eq: bool = True) -> Any:
    """The class with a dataclass's methods (see the module's docstring); arguments as `@dataclass`'s."""
    def make(c: type[_T]) -> type[_T]:
        return _make(c, frozen, kw_only, eq)
    return make if cls is None else make(cls)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record (class or instance), in `__init__` order."""
    found: tuple[Field, ...] | None = getattr(obj, "__record_fields__", None)
    if found is None:
        raise TypeError("fields() takes a record or an instance of one")
    return found


def is_record(obj: Any) -> bool:
    return hasattr(obj, "__record_fields__")


def replace(obj: _T, /, **changes: Any) -> _T:
    """A new instance of `obj`'s record class, with `changes` and the other fields as they are."""
    values = {f.name: getattr(obj, f.name) for f in fields(obj)}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(obj)(**values)


def asdict(obj: Any) -> dict[str, Any]:
    """A record as a dict, records, lists, tuples and dicts within converted too (other values are kept as they
    are, not deep-copied)."""
    if not is_record(obj) or isinstance(obj, type):
        raise TypeError("asdict() takes an instance of a record")
    return _as_data(obj)


def _as_data(value: Any) -> Any:
    if is_record(value) and not isinstance(value, type):
        return {f.name: _as_data(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [_as_data(v) for v in cast("list[Any]", value)]
    if isinstance(value, tuple):
        items = cast("tuple[Any, ...]", value)
        converted = [_as_data(v) for v in items]
        kind: Any = type(items)
        return kind(*converted) if hasattr(items, "_fields") else kind(converted)  # a namedtuple takes them apart
    if isinstance(value, dict):
        pairs = cast("dict[Any, Any]", value)
        kind = type(pairs)
        return kind((_as_data(k), _as_data(v)) for k, v in pairs.items())
    return value


def _own_fields(cls: type, kw_only: bool) -> list[Field]:
    out: list[Field] = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
        if _CLASSVAR.match(text):
            continue
        if _INITVAR.match(text):
            raise TypeError(f"{cls.__name__}.{name}: records take no InitVar; use @dataclass")
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name, f.type = name, annotation
        if f.kw_only is None:
            f.kw_only = kw_only
        if f.default.__class__ in (list, dict, set):
            raise ValueError(f"mutable default {type(f.default).__name__} for field {name} is not allowed: use "
                             "default_factory")
        if isinstance(value, Field):  # as dataclasses: a plain default stays a class attribute, a field() goes
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        out.append(f)
    return out


def _make(cls: type[_T], frozen: bool, kw_only: bool, eq: bool) -> type[_T]:
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        if "__record_fields__" in base.__dict__:
            if base.__dict__["__record_frozen__"] != frozen:
                raise TypeError(f"{cls.__name__}: a frozen record cannot inherit from one that is not, nor the reverse")
            inherited.update((f.name, f) for f in base.__dict__["__record_fields__"])
    for f in _own_fields(cls, kw_only):
        inherited[f.name] = f
    all_fields = tuple(inherited.values())
    positional = [f for f in all_fields if not f.kw_only]
    defaulted = False
    for f in positional:
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if defaulted and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        defaulted = defaulted or has_default
    own = cls.__dict__
    _set(cls, "__init__", _compile_init(cls, positional, [f for f in all_fields if f.kw_only], frozen))
    _set(cls, "__repr__", _repr)
    class_hash = own.get("__hash__", MISSING)  # Python sets None itself where the body defines __eq__
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
    compared = tuple(f.name for f in all_fields if f.compare)
    if eq:
        _set(cls, "__eq__", _eq)
        if not explicit_hash:
            cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]  # as dataclasses decide it
    if frozen:
        for name, fn in (("__setattr__", _frozen_setattr), ("__delattr__", _frozen_delattr)):
            if name in own:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
            setattr(cls, name, fn)
    _set(cls, "__match_args__", tuple(f.name for f in positional))
    cls.__record_fields__ = all_fields  # type: ignore[attr-defined]
    cls.__record_frozen__ = frozen  # type: ignore[attr-defined]
    cls.__record_class__ = cls  # type: ignore[attr-defined]
    cls.__record_names__ = frozenset(inherited)  # type: ignore[attr-defined]
    cls.__record_repr__ = tuple(f.name for f in all_fields if f.repr)  # type: ignore[attr-defined]
    # the values eq and hash compare, as one tuple taken in C
    cls.__record_key__ = staticmethod(attrgetter(*compared) if len(compared) > 1 else  # type: ignore[attr-defined]
                                      (lambda obj, _n=compared[0]: (getattr(obj, _n),)) if compared else
                                      (lambda obj: ()))
    return cls


def _set(cls: type, name: str, value: Any) -> None:
    if name not in cls.__dict__:  # as dataclasses: what the class body defines is kept
        setattr(cls, name, value)


# The methods every record shares: they read the class's __record_*__ attributes, so only __init__ is compiled.
def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{self.__class__.__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return self.__record_key__(self) == self.__record_key__(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_key__(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    cls: type = self.__record_class__
    if type(self) is cls or name in self.__record_names__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    cast(Any, super(cls, self)).__setattr__(name, value)  # a subclass that is not a record may have its own


def _frozen_delattr(self: Any, name: str) -> None:
    cls: type = self.__record_class__
    if type(self) is cls or name in self.__record_names__:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    cast(Any, super(cls, self)).__delattr__(name)


def _compile_init(cls: type, positional: list[Field], keyword: list[Field], frozen: bool) -> Callable[..., None]:
    """`__init__` as a dataclass writes it (one compile, about 80 µs: an instance is made as fast as a dataclass's)."""
    env: dict[str, Any] = {"FACTORY": FACTORY, "object_setattr": object.__setattr__}
    for f in positional + keyword:
        env[f"d_{f.name}"], env[f"f_{f.name}"] = f.default, f.default_factory
    source = f"def __create__({', '.join(env)}):\n  " + _init_source(positional, keyword, frozen,
                                                                      hasattr(cls, "__post_init__"))
    source += "  return __init__\n"
    namespace: dict[str, Any] = {}
    exec(source, {"__builtins__": __builtins__}, namespace)
    init = namespace["__create__"](*env.values())
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**{f.name: f.type for f in positional + keyword}, "return": None}
    return init


def _init_source(positional: list[Field], keyword: list[Field], frozen: bool, post_init: bool) -> str:
    def param(f: Field) -> str:
        if f.default_factory is not MISSING:
            return f"{f.name}=FACTORY"
        return f.name if f.default is MISSING else f"{f.name}=d_{f.name}"

    params = ["self", *map(param, positional)] + (["*", *map(param, keyword)] if keyword else [])
    body: list[str] = []
    for f in positional + keyword:
        value = f"f_{f.name}() if {f.name} is FACTORY else {f.name}" if f.default_factory is not MISSING else f.name
        body.append(f"object_setattr(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
    if post_init:
        body.append("self.__post_init__()")
    return f"def __init__({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body or ["pass"])
