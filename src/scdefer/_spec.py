"""Options described once: a dataclass field carries its help, choices and bounds.

The parameter dataclasses (:class:`scdefer.train.TrainParams`,
:class:`scdefer.preprocessing.PreprocessParams`) declare each option with :func:`option`. From that
one declaration the command line builds its options and ``--help``, :func:`check` validates values
from the CLI and the Python API alike, :func:`options_table` writes the README table, and the
tests compare the Galaxy wrappers and the Nextflow schema with it.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from ._errors import ScDeferInputError


@dataclass(frozen=True)
class OptionSpec:
    """What the interfaces need to know about one option besides its name, type and default."""

    help: str
    choices: tuple[str, ...] = ()  # allowed strings (for a number-or-word option: the words)
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    cli: bool = True  # False: API only (or declared by the CLI as a shared option)

    def range_text(self) -> str:
        """The allowed range in words, e.g. ``within [0, 1)`` or ``at least 1``."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            left, right = "(" if self.exclusive_minimum else "[", ")" if self.exclusive_maximum else "]"
            return f"within {left}{_number(low)}, {_number(high)}{right}"
        if low is not None:
            if low == 0 and self.exclusive_minimum:
                return "positive"
            return f"{'above' if self.exclusive_minimum else 'at least'} {_number(low)}"
        if high is not None:
            return f"{'below' if self.exclusive_maximum else 'at most'} {_number(high)}"
        return ""


def _number(value: float) -> str:
    """``40``, ``0.1``, ``1e-3``: integers bare, small numbers as short powers of ten."""
    if float(value).is_integer():
        return str(int(value))
    if 0 < abs(value) < 0.01:
        mantissa, exponent = f"{value:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return f"{value:g}"


def option(default: Any, help: str, **spec: Any) -> Any:
    """A dataclass field whose metadata holds an :class:`OptionSpec` (see the module docstring)."""
    return field(default=default, metadata={"spec": OptionSpec(help=help, **spec)})


def flag(name: str) -> str:
    """The command-line spelling of a field name: ``n_top_genes`` -> ``--n-top-genes``."""
    return "--" + name.replace("_", "-")


def specs(cls: type) -> dict[str, OptionSpec]:
    """The option specs of a parameter dataclass, in declaration order."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}


def _either(words: tuple[str, ...]) -> str:
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1]))) if words else ""


def check_value(name: str, value: Any, spec: OptionSpec, integer: bool = False) -> None:
    """Raise :class:`ScDeferInputError` unless ``value`` is allowed by ``spec`` (None passes)."""
    if value is None:
        return
    allowed = _either(spec.choices)
    if isinstance(value, str) and spec.choices:
        if value not in spec.choices:
            numeric = " (or a number)" if spec.minimum is not None else ""
            raise ScDeferInputError(f"{flag(name)} must be {allowed}{numeric}, got {value!r}")
        return
    if spec.choices and spec.minimum is None and spec.maximum is None:
        raise ScDeferInputError(f"{flag(name)} must be {allowed}, got {value!r}")
    if integer and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise ScDeferInputError(f"{flag(name)} must be an integer, got {value!r}")
    if spec.minimum is None and spec.maximum is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ScDeferInputError(f"{flag(name)} must be a number, got {value!r}")
    too_low = spec.minimum is not None and (
        value <= spec.minimum if spec.exclusive_minimum else value < spec.minimum)
    too_high = spec.maximum is not None and (
        value >= spec.maximum if spec.exclusive_maximum else value > spec.maximum)
    if too_low or too_high:
        words = f" or {allowed}" if spec.choices else ""
        raise ScDeferInputError(f"{flag(name)} must be {spec.range_text()}{words}, got {value!r}")


def _field_types(cls: type) -> dict[str, set[Any]]:
    """Each field's admitted types (``int | None`` -> {int, NoneType})."""
    out = {}
    for name, hint in typing.get_type_hints(cls).items():
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        out[name] = set(typing.get_args(hint)) if union else {hint}
    return out


def _admits_only_integers(kinds: set[Any]) -> bool:
    """Whether a field of these admitted types takes an int and no float (``int | None``...)."""
    return int in kinds and float not in kinds


def integer_options(cls: type) -> set[str]:
    """The fields of ``cls`` whose type admits an int and no float (``int``, ``int | None``...)."""
    return {name for name, kinds in _field_types(cls).items() if _admits_only_integers(kinds)}


def check(params: Any) -> None:
    """Check every option of a parameter dataclass instance against its spec and type.

    A ``bool`` field takes only True or False (Python truthiness would accept anything); the
    message names the Python field, the only way to pass it anything else.
    """
    kinds = _field_types(type(params))
    for name, spec in specs(type(params)).items():
        value = getattr(params, name)
        if kinds[name] == {bool} and not isinstance(value, bool):
            raise ScDeferInputError(f"{name} must be True or False, got {value!r}")
        if value is None and type(None) not in kinds[name]:
            raise ScDeferInputError(f"{flag(name)} needs a value, got None")
        check_value(name, value, spec, integer=_admits_only_integers(kinds[name]))


def options_table(cls: type, schedules: dict[str, dict[str, Any]] | None = None) -> str:
    """A Markdown table of the command-line options of ``cls`` (the README shows it)."""
    rows = ["| option | default | allowed | what |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("spec")
        if spec is None or not spec.cli:
            continue
        default = default_text(f.name, f.default, schedules)
        allowed = ", ".join(f"`{c}`" for c in spec.choices)
        allowed = " or ".join(x for x in (spec.range_text(), allowed) if x)
        what = spec.help.replace("|", "\\|")  # a pipe would end the table cell
        rows.append(f"| `{flag(f.name)}` | {default} | {allowed} | {what} |")
    return "\n".join(rows)


def default_text(name: str, default: Any, schedules: dict[str, dict[str, Any]] | None) -> str:
    """``fast 40, paper 250`` for a schedule-set option (the value once if every schedule has
    the same), else the default itself."""
    if default is None and schedules and all(name in s for s in schedules.values()):
        shown = {schedule: _number(values[name]) if isinstance(values[name], float)
                 else str(values[name]) for schedule, values in schedules.items()}
        if len(set(shown.values())) == 1:
            return next(iter(shown.values()))
        return ", ".join(f"{schedule} {value}" for schedule, value in shown.items())
    return "none" if default is None else f"`{default}`"
