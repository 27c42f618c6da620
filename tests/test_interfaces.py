"""One place per fact: the CLI, the README, Galaxy and Nextflow agree with scdefer/params.py.

Each option is declared once (its help, choices, bounds and default) in ``scdefer.params``. The
CLI is generated from it; these tests fail when a Galaxy parameter or a Nextflow pipeline parameter
names an option the CLI does not have, or differs from it in default, bounds or choices.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperOption

from scdefer._spec import OptionSpec, check_value, default_text, flag, specs
from scdefer.cli import app
from scdefer.params import SCHEDULES, PreprocessParams, TrainParams

ROOT = Path(__file__).resolve().parents[1]
GALAXY = ROOT / "galaxy" / "scdefer"
sys.path.insert(0, str(ROOT / "scripts"))
import readme_options  # noqa: E402

PARAMS = {"preprocess": PreprocessParams, "train": TrainParams}
# Galaxy parameters that sit in a conditional: their value is what the form offers once the user
# picks that branch (e.g. "I know the number of clusters"), not the command's default.
CONDITIONAL_VALUES = {("train", "--n-clusters"), ("train", "--label-key"),
                      ("evaluate", "--label-key")}
SCHEDULE_DEFAULT = "schedule"  # the Galaxy select value that passes no option


def cli_options(command: str) -> dict[str, TyperOption]:
    """The click options of one scdefer command, by flag."""
    group = typer.main.get_command(app)
    return {opt: p for p in group.commands[command].params for opt in p.opts
            if isinstance(p, TyperOption)}


def spec_of(command: str, option: str) -> tuple[str, OptionSpec, Any] | None:
    """(field name, spec, default) of a declared option of ``command``, if it is one."""
    for cls in {"run": (PreprocessParams, TrainParams)}.get(command, (PARAMS.get(command),)):
        if cls is None:
            continue
        for f in dataclasses.fields(cls):
            if flag(f.name) == option and "spec" in f.metadata:
                return f.name, f.metadata["spec"], f.default
    return None


def _number(text: str) -> float:
    return float(text)


def galaxy_params() -> list[tuple[str, ET.Element]]:
    """(command, <param>) for every Galaxy parameter with an ``argument``.

    The command is the scdefer command of the tool's command line that has that option (the train
    tool also runs ``scdefer evaluate``); the tool's own command when none has it.
    """
    macros = {m.get("name"): m for m in ET.parse(GALAXY / "macros.xml").iter("xml")}
    out = []
    for path in sorted(GALAXY.glob("scdefer_*.xml")):
        tool = ET.parse(path)
        own = path.stem.removeprefix("scdefer_")
        called = re.findall(r"scdefer (\w+)", tool.find("command").text or "")
        expanded = [p for e in tool.iter("expand") if e.get("macro") in macros
                    for p in macros[e.get("macro")].iter("param")]
        for param in [*tool.iter("param"), *expanded]:
            option = param.get("argument")
            if option:
                command = next((c for c in called if option in cli_options(c)), own)
                out.append((command, param))
    return out


def galaxy_mismatches(command: str, param: ET.Element) -> list[str]:
    """Every way a Galaxy parameter differs from the CLI option it passes."""
    option = param.get("argument")
    cli = cli_options(command)
    if option not in cli:
        return [f"{command} {option}: not an option of `scdefer {command}`"]
    problems = []
    declared = spec_of(command, option)
    if declared is None:  # a command's own option (seed, label key ...): default only
        default, spec = cli[option].default, None
    else:
        name, spec, default = declared
        quoted = re.search(r"schedule's default \(([^)]*)\)", param.get("help", ""))
        if quoted and quoted.group(1) != default_text(name, None, SCHEDULES):
            problems.append(f"{command} {option}: help says ({quoted.group(1)}), the schedules "
                            f"say ({default_text(name, None, SCHEDULES)})")
    kind = param.get("type")
    if kind == "select":
        values = [o.get("value") for o in param.iter("option")]
        selected = next((o.get("value") for o in param.iter("option") if o.get("selected")), values[0])
        allowed = set(spec.choices if spec else [])
        if default is None:
            allowed.add(SCHEDULE_DEFAULT)
        extra = set(values) - allowed
        if extra:
            problems.append(f"{command} {option}: choices {sorted(extra)} are not the CLI's")
        expected = SCHEDULE_DEFAULT if default is None else str(default)
        if selected != expected:
            problems.append(f"{command} {option}: Galaxy selects {selected!r}, CLI default {expected!r}")
        return problems
    value = param.get("value", "")
    if (command, option) not in CONDITIONAL_VALUES and kind in ("integer", "float", "text"):
        cli_default = "" if default is None else default
        same = (value == "" and cli_default == "") or (
            value != "" and cli_default != "" and (
                str(value) == str(cli_default) if kind == "text"
                else _number(value) == _number(cli_default)))
        if not same:
            problems.append(f"{command} {option}: Galaxy value {value!r}, CLI default {cli_default!r}")
    if spec is None or kind not in ("integer", "float"):
        return problems
    for bound, spec_value, exclusive in (("min", spec.minimum, spec.exclusive_minimum),
                                         ("max", spec.maximum, spec.exclusive_maximum)):
        text = param.get(bound)
        if spec_value is None:
            if text is not None:
                problems.append(f"{command} {option}: Galaxy {bound}={text}, the CLI has no {bound}")
            continue
        if text is None:
            problems.append(f"{command} {option}: Galaxy has no {bound}, the CLI's is {spec_value}")
        elif not exclusive and _number(text) != spec_value:
            problems.append(f"{command} {option}: Galaxy {bound}={text}, CLI {spec_value}")
        elif exclusive:  # Galaxy bounds are inclusive: it must be an allowed value itself
            try:
                check_value(option, _number(text), spec)
            except Exception:
                problems.append(f"{command} {option}: Galaxy {bound}={text} is outside the CLI's range")
    return problems


@pytest.mark.parametrize("command,param", galaxy_params(),
                         ids=lambda x: x if isinstance(x, str) else x.get("argument"))
def test_galaxy_parameter_matches_the_cli(command: str, param: ET.Element) -> None:
    assert galaxy_mismatches(command, param) == []


def test_the_check_catches_a_mismatched_galaxy_option() -> None:
    """The comparison itself can fail: a wrong default, bound, choice or name is reported."""
    bad = [
        ('<param argument="--n-top-genes" type="integer" value="1000" min="50"/>', "value"),
        ('<param argument="--n-top-genes" type="integer" value="2000" min="2"/>', "min=2"),
        ('<param argument="--dropout" type="float" value="0.1" min="0" max="1"/>', "outside"),
        ('<param argument="--graph-loss" type="select"><option value="bce"/></param>', "choices"),
        ('<param argument="--n-top-gene" type="integer" value="2000"/>', "not an option"),
        ('<param argument="--lr" type="float" value="" min="1e-9" '
         'help="Empty: the schedule\'s default (fast 1e-2, paper 1e-7)."/>', "help says"),
    ]
    for xml, expected in bad:
        command = "preprocess" if "top-gene" in xml else "train"
        problems = galaxy_mismatches(command, ET.fromstring(xml))
        assert any(expected in p for p in problems), (xml, problems)


def nextflow_mapping() -> dict[str, tuple[str, str]]:
    """Pipeline parameter -> (command, CLI flag), from how conf/modules.config passes it."""
    config = (ROOT / "conf" / "modules.config").read_text()
    mapping: dict[str, tuple[str, str]] = {}
    for process, body in re.findall(r"withName: '(\w+)' \{(.*?)\n    \}", config, re.S):
        command = process.removeprefix("SCDEFER_").lower()
        for option, name in re.findall(r"(--[\w-]+) \$\{params\.(\w+)\}", body):
            mapping[name] = (command, option)
    train = (ROOT / "modules" / "local" / "scdefer" / "train" / "main.nf").read_text()
    assert "--n-clusters ${n_clusters}" in train  # per sample from the samplesheet, else the param
    mapping["n_clusters"] = ("train", "--n-clusters")
    return mapping


def test_nextflow_parameters_match_the_cli() -> None:
    schema = json.loads((ROOT / "nextflow_schema.json").read_text())
    props = {k: v for d in schema["$defs"].values() for k, v in d["properties"].items()}
    mapping = nextflow_mapping()
    assert {"n_top_genes", "n_neighbors", "input_kind", "pretrain_epochs", "epochs", "seed",
            "n_clusters"} <= set(mapping)
    for name, (command, option) in mapping.items():
        assert option in cli_options(command), (name, option)
        declared = spec_of(command, option)
        prop = props[name]
        if declared is None:  # seed: a shared CLI option
            assert prop.get("default") == cli_options(command)[option].default, name
            continue
        _, spec, default = declared
        assert prop.get("default") == default, (name, prop.get("default"), default)
        if spec.choices and spec.minimum is None:
            assert prop["enum"] == list(spec.choices), name
        if spec.minimum is not None and "enum" not in prop and "pattern" not in prop:
            assert prop.get("minimum") == spec.minimum, (name, prop.get("minimum"), spec.minimum)
        if spec.maximum is not None:
            assert prop.get("maximum") == spec.maximum, name


def test_readme_option_tables_are_generated_from_the_declarations() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.count("<!-- options: ") == len(readme_options.TABLES)
    assert readme_options.render(text) == text, "run python scripts/readme_options.py"


@pytest.mark.parametrize("command", ["preprocess", "train", "run"])
def test_every_declared_option_is_on_the_command_line(command: str) -> None:
    options = cli_options(command)
    classes = (PreprocessParams, TrainParams) if command == "run" else (PARAMS[command],)
    for cls in classes:
        for name, spec in specs(cls).items():
            if spec.cli:  # cli=False: API only, or a shared option the command declares itself
                assert flag(name) in options, name
                assert spec.help.split()[0] in (options[flag(name)].help or ""), name
