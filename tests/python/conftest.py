"""Shared fixtures: the opdeck binary and a helper that runs it."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def opdeck_bin() -> Path:
    """The CLI under test: $OPDECK_BIN, else the workspace's debug build."""
    path = Path(os.environ.get("OPDECK_BIN", ROOT / "target" / "debug" / "opdeck"))
    if not path.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "opdeck-cli", "--bin", "opdeck"], cwd=ROOT, check=True)
    return path


@pytest.fixture
def run(opdeck_bin, tmp_path):
    """Runs opdeck with a private config dir and the given extra environment."""

    def _run(*args, env=None, check=None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("OPDECK_")}
        full_env["OPDECK_CONFIG_DIR"] = str(tmp_path / "config")
        full_env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
        full_env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
        full_env.update(env or {})
        proc = subprocess.run(
            [str(opdeck_bin), *args], cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=120
        )
        if check is not None:
            assert proc.returncode == check, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        return proc

    return _run


def error_json(proc) -> dict:
    """The JSON error object the CLI prints on stderr (after any banner lines)."""
    start = proc.stderr.index("{")
    return json.loads(proc.stderr[start:])
