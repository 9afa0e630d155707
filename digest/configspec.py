"""Settings declared once: a dataclass field says its type, default, where it is read and its limits.

``setting(5.0, toml=True, above=0)`` is a field of a frozen dataclass; ``read_table`` reads a digest.toml
table into such a class and ``read_env`` the environment, both checking each value against the field's
type hint and limits, so no key is typed twice. Every error is a ConfigError naming the file (or
"environment") and the key (or the variable).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from .errors import ConfigError

T = TypeVar("T")
ENVIRONMENT = "environment"
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Spec:
    """Where one setting is read and what it must be; the type comes from the field's annotation."""

    toml: bool | str = False  # True: the field's own name in its table; a string: another key
    env: str | None = None  # the environment variable
    minimum: float | None = None  # the smallest value allowed
    above: float | None = None  # the value must be greater than this
    check: Callable[[Any], object] | None = None  # raises ValueError saying what is wrong
    convert: Callable[[Any], Any] | None = None  # checks and returns the stored value (per item of a tuple)


def setting(
    default: T,
    *,
    toml: bool | str = False,
    env: str | None = None,
    minimum: float | None = None,
    above: float | None = None,
    check: Callable[[Any], object] | None = None,
    convert: Callable[[Any], Any] | None = None,
) -> T:
    """A dataclass field declared as a setting (see ``Spec``)."""
    spec = Spec(toml, env, minimum, above, check, convert)
    found: T = field(default=default, metadata={"setting": spec})
    return found


def spec_of(f: Field[Any]) -> Spec | None:
    found = f.metadata.get("setting")
    return found if isinstance(found, Spec) else None


def toml_key(f: Field[Any], spec: Spec) -> str | None:
    if spec.toml is True:
        return f.name
    return spec.toml or None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _declared(cls: type) -> Iterator[tuple[Field[Any], Spec, Any]]:
    hints = _hints(cls)
    for f in fields(cls):
        spec = spec_of(f)
        if spec is not None:
            yield f, spec, hints[f.name]


def _base(hint: Any) -> tuple[Any, bool]:
    """The type without ``| None``, and whether None is allowed."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def type_name(hint: Any) -> str:
    base, _ = _base(hint)
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(base))
    if typing.get_origin(base) is tuple:
        return "a list of strings" if typing.get_args(base)[0] is str else "a list"
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false", Path: "a path"}
    return names.get(base, getattr(base, "__name__", str(base)))


def _from_toml(hint: Any, value: Any) -> Any:
    """``value`` as the declared type, or raise TypeError."""
    base, _ = _base(hint)
    if typing.get_origin(base) is Literal:
        if value in typing.get_args(base):
            return value
    elif typing.get_origin(base) is tuple:
        item = typing.get_args(base)[0]
        if isinstance(value, list) and all(isinstance(v, item) for v in value):
            return tuple(value)
    elif isinstance(value, bool):
        if base is bool:
            return value
    elif base is float and isinstance(value, int | float):
        return float(value)
    elif base is Path and isinstance(value, str):
        return Path(value)
    elif isinstance(value, base):
        return value
    raise TypeError


def _from_text(hint: Any, raw: str) -> Any:
    """An environment variable's text as the declared type, or raise ValueError."""
    base, _ = _base(hint)
    if typing.get_origin(base) is Literal:
        value = raw.lower()
        if value not in typing.get_args(base):
            raise ValueError
        return value
    if base is bool:
        if raw.lower() not in _TRUE + _FALSE:
            raise ValueError
        return raw.lower() in _TRUE
    if base in (int, float, Path):
        return base(raw)
    return raw


def _limits(spec: Spec, value: Any) -> str | None:
    """What is wrong with ``value`` given the declared limits, or None."""
    if spec.minimum is not None and value < spec.minimum:
        return f"must be {spec.minimum:g} or more, got {value!r}"
    if spec.above is not None and value <= spec.above:
        return f"must be more than {spec.above:g}, got {value!r}"
    return None


def _finish(where: str, key: str, spec: Spec, value: Any) -> Any:
    """Apply limits, check and convert to a typed value; errors name ``where`` and ``key``."""
    if value is None:
        return None
    problem = _limits(spec, value)
    if problem:
        raise ConfigError(where, key, problem)
    try:
        if spec.check is not None:
            spec.check(value)
        if spec.convert is not None and isinstance(value, tuple):
            items = []
            for i, item in enumerate(value):
                try:
                    items.append(spec.convert(item))
                except ValueError as exc:
                    raise ConfigError(where, f"{key}[{i}]", f"{item!r}: {exc}") from None
            return tuple(items)
        if spec.convert is not None:
            return spec.convert(value)
    except ValueError as exc:
        raise ConfigError(where, key, str(exc)) from None
    return value


def read_table(cls: type, where: str, section: str, table: Any) -> dict[str, Any]:
    """The values of digest.toml's ``[section]`` for the fields of ``cls``, by field name, checked."""
    if not isinstance(table, dict):
        raise ConfigError(where, section, f"must be a table, like [{section}]")
    known = {key: (f, spec, hint) for f, spec, hint in _declared(cls) if (key := toml_key(f, spec))}
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{section}.{key}"
        if key not in known:
            raise ConfigError(where, name, f"unknown key; known keys are {', '.join(sorted(known))}")
        f, spec, hint = known[key]
        try:
            typed = _from_toml(hint, value)
        except TypeError:
            raise ConfigError(where, name, f"expected {type_name(hint)}, got {value!r}") from None
        out[f.name] = _finish(where, name, spec, typed)
    missing = [key for key, (f, _, _) in known.items() if _required(f) and key not in table]
    if missing:
        raise ConfigError(where, f"{section}.{missing[0]}", "missing; this key is required")
    return out


def _required(f: Field[Any]) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def read_env(cls: type, env: Mapping[str, str]) -> dict[str, Any]:
    """The values of the environment variables declared by ``cls``, by field name; empty means unset."""
    out: dict[str, Any] = {}
    for f, spec, hint in _declared(cls):
        raw = (env.get(spec.env) or "").strip() if spec.env else ""
        if not raw:
            continue
        try:
            typed = _from_text(hint, raw)
        except ValueError:
            raise ConfigError(ENVIRONMENT, str(spec.env), f"expected {type_name(hint)}, got {raw!r}") from None
        out[f.name] = _finish(ENVIRONMENT, str(spec.env), spec, typed)
    return out


def env_name(cls: type, name: str) -> str:
    """The environment variable declared for field ``name`` of ``cls``."""
    spec = next(spec_of(f) for f in fields(cls) if f.name == name)
    if spec is None or spec.env is None:
        raise LookupError(f"{cls.__name__}.{name} is not read from the environment")
    return spec.env


def environment_defaults(cls: type) -> dict[str, str]:
    """Every environment variable that ``cls`` and its nested settings declare, with its default as text."""
    out: dict[str, str] = {}
    for f in fields(cls):
        spec = spec_of(f)
        if spec is not None and spec.env:
            out[spec.env] = default_text(f.default)
        elif f.default_factory is not MISSING and is_dataclass(f.default_factory):
            out.update(environment_defaults(f.default_factory))
    return out


def default_text(value: Any) -> str:
    """A default as it is written in .env: nothing for None, 30 rather than 30.0."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Described:
    """One declared setting as the reference shows it."""

    key: str  # the digest.toml key, or the environment variable
    kind: str  # what the value must be, in words, with its limits
    default: str  # as it is written where the setting is read
    what: str  # the comments beside and above the declaration


def described(cls: type, *, env: bool) -> list[Described]:
    """The settings of ``cls`` read from digest.toml (or, with ``env``, from the environment), in order."""
    notes = _field_comments(cls)
    out = []
    for f, spec, hint in _declared(cls):
        key = spec.env if env else toml_key(f, spec)
        if not key:
            continue
        limits = [
            f"≥ {spec.minimum:g}" if spec.minimum is not None else "",
            f"> {spec.above:g}" if spec.above is not None else "",
        ]
        kind = " ".join([type_name(hint), *[limit for limit in limits if limit]])
        default = default_text(f.default) if env else _toml_text(f.default)
        out.append(Described(key, kind, default, notes.get(f.name, "")))
    return out


def _toml_text(value: Any) -> str:
    """A default as it is written in digest.toml; empty when there is none."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, str | Path):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_text(v) for v in value) + "]"
    return default_text(value)


def _field_comments(cls: type) -> dict[str, str]:
    """Each field's comments: the lines of comment right above it, then the comment at the end of its line."""
    import ast
    import inspect
    import io
    import textwrap
    import tokenize

    source = textwrap.dedent(inspect.getsource(cls))
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    lines = source.splitlines()
    out = {}
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    for node in body.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            above: list[str] = []
            row = node.lineno - 1
            while row >= 1 and lines[row - 1].lstrip().startswith("#"):
                above.insert(0, comments[row])
                row -= 1
            beside = [comments[n] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1) if n in comments]
            out[node.target.id] = "; ".join(" ".join(part) for part in (above, beside) if part)
    return out
