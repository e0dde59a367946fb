"""Shared pytest setup: an isolated cache per test session, Agg backend, and the `--nb-flags` option."""
import os
from pathlib import Path
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

def pytest_addoption(parser):
    parser.addoption("--nb-flags", default="", help="notebook cell flags to force, e.g. 'slow' (see settings.ini tst_flags)")

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test (> 1 min); deselect with -m 'not slow'")

@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    "A tiny local HF model and a random sae-lens SAE for its layer 1: (model_dir, sae_dir, root)."
    from saeprobe.run import make_smoke_fixtures
    root = tmp_path_factory.mktemp("smoke")
    m, s = make_smoke_fixtures(root)
    return m, s, root
