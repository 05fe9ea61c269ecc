"""Grader models without pydantic at import (issue 23, start-up): each model is declared once, as an annotated
class, and validated here when its input has exactly the declared types; anything else (a coercion, an error)
goes to pydantic, through a model built from the same declaration on first need (the "twin"), so errors,
coercions, JSON schemas and field info are pydantic's own.

What holds: `Model.model_validate(data)` returns what pydantic's model of the same fields would hold, as an
instance of `Model` (tests/test_light_models.py checks both paths on every grader the suite and the external
configs build); `model_dump`, `model_copy`, `model_fields`, `model_json_schema` and `__eq__` behave as
pydantic's. Inside a pydantic model (JobConfig, the Grader union), a model validates through its twin and an
instance is kept as it is (pydantic's `revalidate_instances="never"`).
"""

from __future__ import annotations

import copy
import functools
import operator
import re
import sys
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union, dataclass_transform, get_args, get_origin

if TYPE_CHECKING:
    from pydantic import ValidationError

_MISSING: Any = object()
NOT_FAST: Any = object()  # a checker's answer when pydantic must decide


class FieldSpec:
    """What `Field(...)` declares: a default, an alias, a description and constraints (pydantic's names)."""

    __slots__ = ("default", "alias", "description", "constraints", "string")

    def __init__(self, default: Any = _MISSING, alias: str | None = None, description: str | None = None,
                 string: bool = False, **constraints: Any):
        self.default, self.alias, self.description, self.constraints = default, alias, description, constraints
        self.string = string  # pydantic's StringConstraints, not its Field

    def pydantic(self) -> Any:
        from pydantic import Field as PydanticField

        if self.string:
            from pydantic import StringConstraints as PydanticStringConstraints

            return PydanticStringConstraints(**self.constraints)

        kwargs: dict[str, Any] = dict(self.constraints)
        if self.alias is not None:
            kwargs["alias"] = self.alias
        if self.description is not None:
            kwargs["description"] = self.description
        return PydanticField(**kwargs) if self.default is _MISSING else PydanticField(self.default, **kwargs)


def Field(default: Any = _MISSING, *, alias: str | None = None, description: str | None = None,
          **constraints: Any) -> Any:
    """pydantic's `Field`, as far as the grader models use it (a default, alias, description, constraints), also
    as `Annotated` metadata (pydantic's `Field(ge=1)` and `StringConstraints(pattern=...)` alike)."""
    return FieldSpec(default, alias, description, **constraints)


def StringConstraints(**constraints: Any) -> Any:
    """pydantic's `StringConstraints`, as `Annotated` metadata."""
    return FieldSpec(string=True, **constraints)


def validation_error() -> type[ValidationError]:
    """pydantic's ValidationError, imported when an error is being handled: `except validation_error():` (an
    except clause's expression is evaluated only when something is raised)."""
    from pydantic import ValidationError

    return ValidationError


class _Decl:
    """One model's declaration, read from its annotations on first use."""

    def __init__(self, cls: type[LightModel]):
        hints = typing.get_type_hints(cls, include_extras=True)
        config: dict[str, Any] = {}
        for base in reversed(cls.__mro__):
            config.update(base.__dict__.get("model_config", {}))
        self.config = config
        self.fields: dict[str, tuple[Any, Any, str | None]] = {}  # name -> (annotation, default, alias)
        for name, ann in hints.items():
            if name.startswith("_") or name == "model_config" or get_origin(ann) is ClassVar:
                continue
            raw = getattr(cls, name, _MISSING)
            spec = raw if isinstance(raw, FieldSpec) else None
            default = spec.default if spec is not None else raw
            self.fields[name] = (ann, default, spec.alias if spec is not None else None)
        self.specs = {name: getattr(cls, name) for name in self.fields
                      if isinstance(getattr(cls, name, None), FieldSpec)}
        by_alias = config.get("populate_by_name", False)
        self.keys: dict[str, str] = {}  # input key -> field name
        for name, (_ann, _default, alias) in self.fields.items():
            if alias is None or by_alias:
                self.keys[name] = name
            if alias is not None:
                self.keys[alias] = name
        self.checkers: dict[str, Callable[[Any], Any]] | None = None
        self.twin: Any = None


_DECLS: dict[type, _Decl] = {}


def _decl(cls: type[LightModel]) -> _Decl:
    found = _DECLS.get(cls)
    if found is None:
        found = _DECLS[cls] = _Decl(cls)
    return found


# --- the fast path: input of exactly the declared types --------------------------------------------------------

def _checker(ann: Any) -> Callable[[Any], Any]:
    """A function value -> the validated value, or NOT_FAST when pydantic must decide (any coercion, any error,
    any type this does not know)."""
    if ann is str or ann is int or ann is float:
        kind = ann
        return lambda v: v if type(v) is kind else NOT_FAST
    if ann is type(None) or ann is None:
        return lambda v: None if v is None else NOT_FAST
    if isinstance(ann, type) and issubclass(ann, LightModel):
        model = ann
        return lambda v: v if type(v) is model else model.fast(v) if type(v) is dict else NOT_FAST
    origin = get_origin(ann)
    if origin is Literal:
        allowed = {(type(a), a) for a in get_args(ann)}
        kinds = {type(a) for a in get_args(ann)}  # str, int, bool, None: a list or a dict is never one
        return lambda v: v if type(v) in kinds and (type(v), v) in allowed else NOT_FAST
    made = _COMPOUND.get(types.UnionType if origin is Union else origin)
    return made(ann) if made is not None else (lambda v: NOT_FAST)


def _union(ann: Any) -> Callable[[Any], Any]:
    members = [_checker(a) for a in get_args(ann)]

    def union(v: Any) -> Any:
        for check in members:  # exact types: at most one member accepts a value, as pydantic's strict pass
            got = check(v)
            if got is not NOT_FAST:
                return got
        return NOT_FAST
    return union


def _list(ann: Any) -> Callable[[Any], Any]:
    (item,) = get_args(ann)
    check_item = _checker(item)

    def a_list(v: Any) -> Any:
        if type(v) is not list:
            return NOT_FAST
        out = [check_item(x) for x in v]  # a new list, as pydantic's
        return NOT_FAST if any(x is NOT_FAST for x in out) else out
    return a_list


def _dict(ann: Any) -> Callable[[Any], Any]:
    key, value = get_args(ann)
    check_key, check_value = _checker(key), _checker(value)

    def a_dict(v: Any) -> Any:
        if type(v) is not dict:
            return NOT_FAST
        out = {}
        for k, x in v.items():
            k2, x2 = check_key(k), check_value(x)
            if k2 is NOT_FAST or x2 is NOT_FAST:
                return NOT_FAST
            out[k2] = x2
        return out
    return a_dict


def _annotated(ann: Any) -> Callable[[Any], Any]:
    inner, *meta = get_args(ann)
    fast = getattr(meta[0], "__light_checker__", None) if len(meta) == 1 else None
    if fast is not None:  # the Grader union: each node by its own type's model
        return fast
    if inner is str and all(isinstance(m, FieldSpec) and set(m.constraints) <= {"pattern"} for m in meta):
        patterns = [re.compile(m.constraints["pattern"]) for m in meta if "pattern" in m.constraints]
        return lambda v: v if type(v) is str and all(p.search(v) for p in patterns) else NOT_FAST
    return lambda v: NOT_FAST


_COMPOUND: dict[Any, Callable[[Any], Callable[[Any], Any]]] = {
    types.UnionType: _union, list: _list, dict: _dict, Annotated: _annotated}


# --- pydantic's side --------------------------------------------------------------------------------------------

def _for_pydantic(ann: Any) -> Any:
    """The annotation with our Field markers as pydantic's."""
    origin = get_origin(ann)
    if origin is Annotated:
        inner, *meta = get_args(ann)
        return Annotated[(_for_pydantic(inner), *[m.pydantic() if isinstance(m, FieldSpec) else m for m in meta])]
    if origin is Union or origin is types.UnionType:
        return functools.reduce(operator.or_, (_for_pydantic(a) for a in get_args(ann)))
    if origin in (list, dict):
        return types.GenericAlias(origin, tuple(_for_pydantic(a) for a in get_args(ann)))
    return ann


def _twin(cls: type[LightModel]) -> Any:
    decl = _decl(cls)
    if decl.twin is None:
        import pydantic

        fields = {}
        for name, (ann, default, _alias) in decl.fields.items():
            spec = decl.specs.get(name)
            fields[name] = (_for_pydantic(ann), spec.pydantic() if spec is not None
                            else (... if default is _MISSING else default))
        # defer_build: a recursive model (multi) finds its twin already there when its schema refers to itself
        config = pydantic.ConfigDict(**{**decl.config, "defer_build": True})  # type: ignore[typeddict-item]
        decl.twin = pydantic.create_model(cls.__name__, __config__=config, __doc__=cls.__doc__,
                                          __module__=cls.__module__, **fields)
    return decl.twin


@dataclass_transform(kw_only_default=True, field_specifiers=(Field,))
class LightModel:
    """The base of the grader models (see the module docstring)."""

    model_config: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    def __init__(self, **data: Any) -> None:
        self.__dict__.update(type(self).model_validate(data).__dict__)

    # -- validation
    @classmethod
    def fast(cls, data: Any) -> Any:
        """The instance for `data` if every value has exactly its declared type, else NOT_FAST."""
        decl = _decl(cls)
        if type(data) is not dict:
            return NOT_FAST
        checkers = decl.checkers
        if checkers is None:
            checkers = decl.checkers = {name: _checker(ann) for name, (ann, _d, _a) in decl.fields.items()}
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = decl.keys.get(key) if type(key) is str else None
            if name is None or name in values:
                return NOT_FAST
            got = checkers[name](value)
            if got is NOT_FAST:
                return NOT_FAST
            values[name] = got
        out: dict[str, Any] = {}
        for name, (_ann, default, _alias) in decl.fields.items():
            if name in values:
                out[name] = values[name]
            elif default is _MISSING:
                return NOT_FAST
            else:
                out[name] = copy.copy(default) if type(default) in (list, dict) else default
        obj = cls.__new__(cls)
        obj.__dict__.update(out)
        return obj

    @classmethod
    def pydantic_model(cls) -> Any:
        """The twin: pydantic's model of the same declaration (built on first use)."""
        return _twin(cls)

    @classmethod
    def declared_default(cls, name: str) -> Any:
        """A field's declared default (None when it has none or there is no such field)."""
        found = _decl(cls).fields.get(name)
        return None if found is None or found[1] is _MISSING else found[1]

    @classmethod
    def fast_validate(cls, data: Any) -> Any:
        """The instance, or None when pydantic must decide (model_validate then does)."""
        got = cls.fast(data)
        return None if got is NOT_FAST else got

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        if type(data) is cls:
            return data
        got = cls.fast(data)
        if got is NOT_FAST:
            got = cls._from_twin(_twin(cls).model_validate(data))
        return got

    @classmethod
    def _from_twin(cls, twin: Any) -> Any:
        obj = cls.__new__(cls)
        obj.__dict__.update({name: getattr(twin, name) for name in _decl(cls).fields})
        return obj

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema as cs

        inner = cs.no_info_after_validator_function(
            cls._from_twin, handler.generate_schema(_twin(cls)),
            serialization=cs.plain_serializer_function_ser_schema(_serialize, info_arg=True))
        return cs.no_info_wrap_validator_function(lambda v, h: v if type(v) is cls else h(v), inner)

    # -- pydantic's API, as the grader models use it
    class _ClassProperty:
        def __init__(self, fn: Callable[[type], Any]):
            self.fn = fn

        def __get__(self, obj: Any, owner: type) -> Any:
            return self.fn(owner)

    model_fields = _ClassProperty(lambda cls: _twin(cls).model_fields)  # type: ignore[assignment]

    @classmethod
    def model_json_schema(cls, **kwargs: Any) -> dict[str, Any]:
        return _twin(cls).model_json_schema(**kwargs)

    def model_dump(self, *, mode: str = "python", exclude_none: bool = False, by_alias: bool | None = None) -> dict:
        decl = _decl(type(self))
        aliased = by_alias if by_alias is not None else decl.config.get("serialize_by_alias", False)
        out = {}
        for name, (_ann, _default, alias) in decl.fields.items():
            value = self.__dict__[name]
            if value is None and exclude_none:
                continue
            out[alias if aliased and alias else name] = _dump(value, mode, exclude_none, by_alias)
        return out

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        obj = type(self).__new__(type(self))
        obj.__dict__.update(copy.deepcopy(self.__dict__) if deep else self.__dict__)
        if update:
            obj.__dict__.update(update)
        return obj

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def _dump(value: Any, mode: str, exclude_none: bool, by_alias: bool | None) -> Any:
    if isinstance(value, LightModel):
        return value.model_dump(mode=mode, exclude_none=exclude_none, by_alias=by_alias)
    if type(value) is list:
        return [_dump(v, mode, exclude_none, by_alias) for v in value]
    if type(value) is dict:
        return {k: _dump(v, mode, exclude_none, by_alias) for k, v in value.items()}
    return value


def _serialize(value: Any, info: Any) -> Any:
    if not isinstance(value, LightModel):
        return value
    return value.model_dump(mode=info.mode, exclude_none=info.exclude_none, by_alias=info.by_alias)


def is_model(obj: Any) -> bool:
    """A grader model (light) or any pydantic model."""
    if isinstance(obj, LightModel):
        return True
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(obj, pydantic.BaseModel)
