"""Galaxy wrappers: planemo lint at fail level warn, then their <tests> on a real Galaxy server."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "galaxy" / "scdefer"

pytestmark = pytest.mark.galaxy


def test_wrappers_share_the_package_version() -> None:
    import scdefer

    macros = (TOOLS / "macros.xml").read_text()
    assert f'<token name="@TOOL_VERSION@">{scdefer.__version__}</token>' in macros
    for xml in TOOLS.glob("scdefer_*.xml"):
        text = xml.read_text()
        assert 'version="@TOOL_VERSION@+galaxy@VERSION_SUFFIX@"' in text
        assert 'detect_errors="exit_code"' in text
        assert "GALAXY_SLOTS" in text or "@THREADS@" in text


def test_test_data_is_small() -> None:
    for path in (TOOLS / "test-data").iterdir():
        assert path.stat().st_size < 1_000_000, path


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed to poll the server")
def test_lint_and_tests_on_a_real_galaxy() -> None:
    """Runs scripts/galaxy_tests.sh (installs planemo and Galaxy from PyPI on first use)."""
    venv_scdefer = Path(sys.executable).parent / "scdefer"
    assert venv_scdefer.exists()
    res = subprocess.run(["bash", str(ROOT / "scripts" / "galaxy_tests.sh")], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    print(res.stdout[-5000:])
    summary = re.search(r"^galaxy-tool-tests: (\d+) passed, (\d+) failed$", res.stdout, re.M)
    assert summary, res.stdout[-3000:] + res.stderr[-3000:]
    passed, failed = map(int, summary.groups())
    assert failed == 0 and passed == 8, res.stdout[-3000:]
    assert res.returncode == 0
