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
    config.addinivalue_line("markers", "ray: starts a two-node Ray cluster on 127.0.0.1; deselect with -m 'not ray'")

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

def make_random_sae(dst: Path, seed: int, d_in: int = 16, d_sae: int = 64, layer: int = 1) -> str:
    "A random sae-lens StandardSAE for the smoke model's `layer`, saved to folder `dst`."
    import torch
    from sae_lens import StandardSAE, StandardSAEConfig
    from sae_lens.saes.sae import SAEMetadata
    torch.manual_seed(seed)
    sae = StandardSAE(StandardSAEConfig(d_in=d_in, d_sae=d_sae, metadata=SAEMetadata(hook_name=f"blocks.{layer}.hook_resid_post")))
    with torch.no_grad(): sae.W_enc.normal_(0, 1); sae.b_enc.fill_(-0.5)
    sae.save_model(str(dst))
    return str(dst)

@pytest.fixture(scope="session")
def smoke_saes(tmp_path_factory):
    "Four random SAEs for the smoke model's layer 1 (a family to sweep): their folders."
    root = tmp_path_factory.mktemp("saes")
    return [make_random_sae(root / f"sae{i}", seed=i) for i in range(4)]
