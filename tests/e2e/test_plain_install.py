"""`smsbridge demo` works from a plain install, in any folder: the package is built as a
wheel (not editable) and installed into a fresh virtual environment, and the demo runs
from an empty folder, so nothing of the checkout (tests/, the source tree) can help it.

The wheel's dependencies come from the environment running the tests (a `.pth` line, so
the check needs no download); the dev extras are hidden from the demo, which must not
need them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Installed with `.[dev]` only: a plain install lacks them.
DEV_ONLY = ("pytest", "_pytest", "pytest_asyncio", "hypothesis", "yaml", "tests")
HIDE_DEV_ONLY = f"""
import importlib.abc, sys

class _DevOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {DEV_ONLY!r}:
            raise ImportError(f"{{name}} is not installed by a plain `pip install`")
        return None

sys.meta_path.insert(0, _DevOnly())
"""


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SMSBRIDGE"))},
    )


def build_wheel(tmp_path: Path) -> Path:
    """A wheel of the source tree, built from a copy so no build output lands in it."""
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "build", "*.egg-info", "__pycache__", "tests", "bench", "*.db"
        ),
    )
    dist = tmp_path / "dist"
    built = run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    return next(dist.glob("smsbridge-*.whl"))


@pytest.mark.slow
def test_a_plain_install_runs_the_demo_from_an_empty_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
                .stdout.strip())  # fmt: skip
    (site / "_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    (site / "sitecustomize.py").write_text(HIDE_DEV_ONLY)
    hidden = run(python, "-c", "import pytest")
    assert "not installed by a plain `pip install`" in hidden.stderr
    empty = tmp_path / "empty"
    empty.mkdir()

    demo = run(venv / "bin" / "smsbridge", "demo", cwd=empty)

    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "2 SMS sent in all" in demo.stdout and demo.stdout.rstrip().endswith("done")
    assert list(empty.iterdir()) == []  # its database lived in a temporary folder
    listed = run(venv / "bin" / "smsbridge", "--help", cwd=empty).stdout
    assert "demo" in listed and "sms-in" in listed
