"""Shared pytest setup: a hermetic run (every cache and config under one temporary folder, the checkout's tracked
files untouched — checked at the end), Agg backend, and the `--nb-flags` option."""
import os, shutil, subprocess, tempfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
# before anything imports saeprobe or matplotlib: nothing the suite writes may land in the user's caches
_TMP = Path(tempfile.mkdtemp(prefix="saeprobe-tests-"))
os.environ["SAEPROBE_CACHE"] = str(_TMP / "cache")
os.environ["MPLCONFIGDIR"] = str(_TMP / "mpl")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

def _tracked_status() -> str:
    try: return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError): return ""

_BEFORE = _tracked_status()

def pytest_addoption(parser):
    parser.addoption("--nb-flags", default="", help="notebook cell flags to force, e.g. 'slow' (see settings.ini tst_flags)")

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test (> 1 min); deselect with -m 'not slow'")

def pytest_sessionfinish(session, exitstatus):
    "The suite is hermetic: it fails if it modified a tracked file of the checkout."
    after = _tracked_status()
    if after != _BEFORE:
        print(f"\nthe test suite modified tracked files of the checkout:\n{after}")
        session.exitstatus = 1
    shutil.rmtree(_TMP, ignore_errors=True)

@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    "A tiny local HF model and a random sae-lens SAE for its layer 1: (model_dir, sae_dir, root)."
    from saeprobe.run import make_smoke_fixtures
    root = tmp_path_factory.mktemp("smoke")
    m, s = make_smoke_fixtures(root)
    return m, s, root
