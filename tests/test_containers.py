"""Static checks of the container recipes and the single dependency file (no engine runs here)."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml

import scdefer

ROOT = Path(__file__).resolve().parents[1]
CONTAINERS = ROOT / "containers"
LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"
OCI_KEYS = ("title", "description", "version", "revision", "created", "source", "licenses",
            "authors", "base.name")
IMAGE = re.compile(r"ghcr\.io/scdefer/scdefer:([\w.\-]+)")


def _instructions(path: Path) -> list[tuple[str, str]]:
    """Dockerfile instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.cpu"])
def test_dockerfile(name: str) -> None:
    ins = _instructions(CONTAINERS / name)
    keywords = [k for k, _ in ins]
    assert "ENTRYPOINT" not in keywords
    base = next(a for k, a in ins if k == "ARG")
    assert re.fullmatch(r"PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-\w+", base), base
    assert all("latest" not in a for k, a in ins if k == "FROM")
    labels = " ".join(a for k, a in ins if k == "LABEL")
    for key in OCI_KEYS:
        assert f"org.opencontainers.image.{key}=" in labels, key
    env = " ".join(a for k, a in ins if k == "ENV")
    for var in ("MPLCONFIGDIR=/tmp", "NUMBA_CACHE_DIR=/tmp", "TORCHINDUCTOR_CACHE_DIR=/tmp",
                "PATH=/opt/venv/bin"):
        assert var in env, var
    runs = " ".join(a for k, a in ins if k == "RUN")
    assert "procps" in runs and "/opt/venv" in runs
    assert "requirements.lock" in " ".join(a for k, a in ins if k in ("COPY", "RUN"))
    user = [a for k, a in ins if k == "USER"]
    assert user and not user[-1].startswith("0") and user[-1] != "root"
    assert f"VERSION={scdefer.__version__}" in " ".join(a for k, a in ins if k == "ARG")


def _ignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (last matching line wins)."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern = line.lstrip("!").rstrip("/")
        if fnmatch(path, pattern) or path.startswith(pattern + "/"):
            ignored = not line.startswith("!")
    return ignored


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.cpu"])
def test_every_copied_file_is_in_the_build_context(name: str) -> None:
    sources = [src for keyword, args in _instructions(CONTAINERS / name) if keyword == "COPY"
               and not args.startswith("--from") for src in args.split()[:-1]]
    assert "requirements.lock" in sources
    for src in sources:
        assert (ROOT / src).exists(), src
        assert not _ignored(src.rstrip("/")), f"{src} is left out of the context by .dockerignore"
    assert _ignored("tests") and _ignored(".venv")


def test_apptainer_definition() -> None:
    text = (CONTAINERS / "scdefer.def").read_text()
    assert re.search(r"^Bootstrap: docker$", text, re.M)
    source = re.search(r"^From: (\S+)$", text, re.M).group(1)
    assert source == f"ghcr.io/scdefer/scdefer:{scdefer.__version__}"
    for section in ("%labels", "%environment", "%runscript", "%test", "%help"):
        assert re.search(rf"^{section}$", text, re.M), section
    assert 'exec scdefer "$@"' in text
    for var in ("MPLCONFIGDIR", "NUMBA_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "PYTHONNOUSERSITE"):
        assert f"export {var}=" in text


def test_conda_environment_uses_the_lock() -> None:
    env = yaml.safe_load((CONTAINERS / "environment.yml").read_text())
    assert env["channels"][:2] == ["conda-forge", "bioconda"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r ../requirements.lock" in pip
    assert all(re.search(r"=\d", d) for d in env["dependencies"] if isinstance(d, str))


def _pins(path: Path = LOCK) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith(("#", "-r ")):
            name, _, ver = line.partition("==")
            assert ver, f"unpinned line in {path.name}: {line}"
            pins[name] = ver
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_closure(root: str = "scdefer") -> set[str]:
    """Every installed distribution that ``root`` needs at run time, by metadata (extras followed)."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    seen: set[tuple[str, str]] = set()
    todo: list[tuple[str, str]] = [(root, "")]
    while todo:
        name, extra = todo.pop()
        if (_normal(name), extra) in seen:
            continue
        seen.add((_normal(name), extra))
        for spec in requires(name) or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo.extend((req.name, e) for e in ("", *req.extras))
    return {name for name, _ in seen} - {root}


def test_runtime_lock_holds_exactly_what_scdefer_needs() -> None:
    """requirements.lock = scdefer's run-time closure; the test-only pins live in the test lock."""
    runtime = {_normal(n) for n in _pins(LOCK)}
    test_only = {_normal(n) for n in _pins(TEST_LOCK)}
    assert TEST_LOCK.read_text().count("-r requirements.lock") == 1
    assert not runtime & test_only
    closure = _runtime_closure()
    assert runtime == closure, (sorted(runtime - closure), sorted(closure - runtime))
    assert {"pytest", "torch-geometric"} <= test_only


def test_this_environment_is_installed_from_the_lock() -> None:
    """CI builds its venv from both locks: every pin must be what is installed."""
    mismatched = {}
    for name, pinned in (_pins(LOCK) | _pins(TEST_LOCK)).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            mismatched[name] = (pinned, "missing")
            continue
        if installed.split("+")[0] != pinned.split("+")[0]:
            mismatched[name] = (pinned, installed)
    assert not mismatched


def test_lock_covers_the_declared_dependencies() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    declared = {re.split(r"[<>=!~ ]", d.strip().strip('",'))[0].lower()
                for d in block.splitlines() if d.strip().startswith('"')}
    pinned = {n.lower().replace("_", "-") for n in _pins()}
    assert declared <= pinned, declared - pinned


def test_image_references_agree_everywhere() -> None:
    """Every ghcr.io/scdefer/scdefer reference in the project names this version."""
    found = {}
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if rel.parts and rel.parts[0] in {".git", ".venv", "work", "results", ".nextflow"}:
            continue
        if path.is_file() and path.suffix in {"", ".nf", ".config", ".xml", ".def", ".yml",
                                              ".md", ".cpu", ".json"}:
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            for tag in IMAGE.findall(text):
                found.setdefault(tag.split("-")[0], []).append(str(rel))
    assert found, "no image reference found"
    assert set(found) == {scdefer.__version__}, found


@pytest.mark.parametrize("path", sorted((ROOT / "modules").rglob("environment.yml")),
                         ids=lambda p: p.parent.name)
def test_module_environments_install_no_local_path(path: Path) -> None:
    """A reused module must not pip-install a path of the pipeline it came from."""
    env = yaml.safe_load(path.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == [f"scdefer=={scdefer.__version__}"]
    assert "../" not in path.read_text()


def test_every_container_profile_is_declared() -> None:
    config = (ROOT / "nextflow.config").read_text()
    for engine in ("docker", "podman", "singularity", "apptainer"):
        assert re.search(rf"^\s*{engine} \{{\n\s*{engine}\.enabled\s*= true", config, re.M), engine


def test_license_and_citation() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == scdefer.__version__ and citation["license"] == "MIT"
