"""Same hash, same numbers; bad input stopped before any work; no orphan workers; a visible, tidy main command
(issue 20). Each test here failed on the code before that issue."""
import json, os, re, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from saeprobe.core import SaeprobeError

ROOT = Path(__file__).resolve().parent.parent
SAEPROBE = str(Path(sys.executable).parent / "saeprobe")   # the console script of this environment

def _cli(*args, env=None, timeout=300):
    return subprocess.run([SAEPROBE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})

# --- the probe device is explicit and recorded -------------------------------------------------------------------
def test_probes_stay_on_the_cpu_when_a_gpu_is_visible(monkeypatch):
    "Before: `device=None` meant CUDA whenever torch saw one, so a GPU box ran another L2 implementation silently."
    import torch
    from saeprobe.probes import fit_probe
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    r = np.random.RandomState(0); X = r.randn(200, 8); y = (X[:, 0] > 0).astype(int)
    res = fit_probe("logreg", X[:150], y[:150], X[150:], y[150:])
    assert (res.params["device"], res.params["impl"]) == ("cpu", "lbfgs-compiled")

def test_run_rows_and_hash_name_what_ran(smoke, tmp_path):
    from saeprobe.run import RunConfig
    from saeprobe.sweep import run
    m, s, root = smoke
    cfg = RunConfig(model=m, layer=1, sae=s, datasets=("95_toxic_is",), ks=(1,), methods=("logreg", "knn", "sae"),
                    cache_dir=str(root / "c"))
    res = run(cfg, tmp_path / "o", progress=False)
    impl = {m_: json.loads(p)["impl"] for m_, p in zip(res.method, res.params)}
    assert impl == {"logreg": "lbfgs-compiled", "knn": "knn-sklearn", "sae": "saga-compiled"}
    assert set(json.loads(p)["device"] for p in res.params) == {"cpu"}
    fields = json.loads((tmp_path / "o" / "manifest.json").read_text())["hashed_fields"]
    assert fields["probe_device"] == "cpu" and fields["implementations"] == impl
    assert fields["versions"]["scikit-learn"] and fields["versions"]["scipy"] and fields["versions"]["numpy"]

# --- library versions ----------------------------------------------------------------------------------------------
def test_requirements_admit_only_sklearn_where_the_reference_l1_probe_is_l1():
    "Before 1.8, LogisticRegression(l1_ratio=1.0, solver='saga') without penalty='elasticnet' is an L2 fit."
    from saeprobe.engine.reference import SKLEARN_L1_RATIO
    req = re.search(r"scikit-learn>=([0-9.]+)", (ROOT / "settings.ini").read_text()).group(1)
    assert tuple(map(int, req.split("."))) >= tuple(map(int, SKLEARN_L1_RATIO.split(".")))
    from saeprobe.probes import fit_probe
    r = np.random.RandomState(1); Z = np.abs(r.randn(300, 30)); y = (Z[:, 0] + 0.5 * r.randn(300) > 0.8).astype(int)
    a = fit_probe("sae", Z[:200], y[:200], Z[200:], y[200:], k=[30], engine="reference")[0]
    f = fit_probe("sae", Z[:200], y[:200], Z[200:], y[200:], k=[30])[0]
    assert a.params["C"] == f.params["C"] and abs(a.test_auc - f.test_auc) < 1e-12   # the reference is the L1 saga's twin

def test_a_port_under_another_release_runs_the_library(monkeypatch):
    import warnings
    from saeprobe import engine as E
    from saeprobe.engine import common as EC
    from saeprobe.probes import fit_probe
    from saeprobe.run import RunConfig
    h = RunConfig(datasets=("95_toxic_is",), methods=("mlp",), sae=None).config_hash()
    monkeypatch.setitem(E.VERIFIED, "mlp", {"numpy": "1.0.0"}); EC._WARNED.discard("mlp")
    r = np.random.RandomState(0); X = r.randn(120, 6); y = (X[:, 0] > 0).astype(int)
    with pytest.warns(UserWarning, match=r"numpy .* \(verified: 1\.0\.0\)"):
        res = fit_probe("mlp", X[:80], y[:80], X[80:], y[80:])
    assert (res.params["engine"], res.params["impl"]) == ("reference", "sklearn")
    assert RunConfig(datasets=("95_toxic_is",), methods=("mlp",), sae=None).config_hash() != h
    EC._WARNED.discard("mlp")

# --- bad input, before any work -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (["--layer", "-3"], "layer=-3 must be an integer in 0.. (a block index of the model; omit --layer for the profile's default)"),
    (["--layer", "40"], "layer 40 is outside model 'tiny-gemma3', which has blocks 0..2; omit --layer"),
    (["--sae", "/no/such/dir"], "SAE folder '/no/such/dir' does not exist"),
    (["--layer", "2"], "reads hook 'blocks.1.hook_resid_post' but layer 2 is 'blocks.2.hook_resid_post'"),
    (["--ks", "0"], "k=0 must be an integer in 1.."),
    (["--ks", "100000"], "k=[100000] exceed the 64 latents of SAE 'tiny-sae'; valid ks: 1..64"),
    (["--probe-device", "gpu"], "probe_device='gpu' is not a torch device"),
    (["--sae", "gemma-scope-9b-pt-res-canonicl/layer_20/width_16k/canonical"], "did you mean 'gemma-scope-9b-pt-res-canonical'"),
])
def test_bad_input_is_one_line_before_any_model_is_loaded(tmp_path, args, message):
    r = _cli("run", "--profile", "smoke", "--cache-dir", str(tmp_path), "--out", str(tmp_path / "o"), *args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("saeprobe: error: ") and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "acts").exists()          # nothing extracted, no empty layer folder left

@pytest.mark.parametrize("damage, message", [("cfg", "cfg.json is not valid JSON"), ("weights", "has no sae_weights.safetensors")])
def test_broken_sae_folder_is_named(smoke, tmp_path, damage, message):
    import shutil
    d = tmp_path / "sae"; shutil.copytree(smoke[1], d)
    if damage == "cfg": (d / "cfg.json").write_text("{not json")
    else: (d / "sae_weights.safetensors").unlink()
    r = _cli("run", "--profile", "smoke", "--cache-dir", str(tmp_path), "--sae", str(d))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr

# --- seeds -------------------------------------------------------------------------------------------------------
def test_seeds_never_overwrite_each_other(smoke, tmp_path):
    from dataclasses import replace
    from saeprobe.run import RunConfig
    from saeprobe.sweep import run
    m, s, root = smoke
    cfg = RunConfig(model=m, layer=1, sae=None, methods=("logreg",), datasets=("95_toxic_is",), cache_dir=str(root / "c"))
    a = run(cfg, tmp_path / "o", progress=False)
    with pytest.raises(SaeprobeError, match="holds the results of seed 42; seed 43 would overwrite them"):
        run(replace(cfg, seed=43), tmp_path / "o", progress=False)
    b = run(replace(cfg, seed=43), tmp_path / "o43", progress=False)
    assert a.test_auc.iloc[0] != b.test_auc.iloc[0] or a.n_train.iloc[0] == b.n_train.iloc[0]
    assert set(b.seed) == {43}

# --- no orphans ----------------------------------------------------------------------------------------------------
def _workers(pid: int) -> list[int]:
    import psutil
    try: return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess: return []

def _alive(pids) -> list[int]:
    import psutil
    out = []
    for k in pids:
        try:
            if psutil.Process(k).status() != psutil.STATUS_ZOMBIE: out.append(k)
        except psutil.NoSuchProcess: pass
    return out

def _kill_when_workers_run(cmd: list[str], n: int, sig) -> list[int]:
    "Start `cmd`, wait until it has `n` descendants, send the parent `sig`; the descendants still alive 15 s later."
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.time(); kids = []
    while time.time() - t < 120 and len(kids) < n and p.poll() is None:
        kids = _workers(p.pid); time.sleep(0.05)
    assert len(kids) >= n, "the worker processes never appeared"
    os.kill(p.pid, sig); p.wait(timeout=60)
    t = time.time()
    while time.time() - t < 15 and _alive(kids): time.sleep(0.2)
    return _alive(kids)

@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["KILL", "TERM", "INT"])
def test_killed_run_leaves_no_worker_and_the_rerun_resumes(tmp_path, sig):
    base = ["run", "--profile", "smoke", "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o"), "--jobs", "2",
            "--methods", "logreg", "pca", "knn", "mlp"]
    assert _cli("extract", "--profile", "smoke", "--cache-dir", str(tmp_path / "c")).returncode == 0   # probes next
    alive = _kill_when_workers_run([SAEPROBE, *base], 2, sig)
    assert not alive, f"workers {alive} outlived their killed parent"
    r = _cli(*base)
    assert r.returncode == 0, r.stderr
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert man["complete"] and man["datasets_done"] == 2

def test_sigkill_of_reproduce_leaves_no_kernel_or_worker(tmp_path):
    "reproduce -> papermill kernel -> probe workers: killing the top leaves nothing (the kernel polls its parent)."
    c = str(tmp_path / "c")
    assert _cli("extract", "--profile", "smoke", "--cache-dir", c).returncode == 0
    cmd = [SAEPROBE, "reproduce", "--profile", "smoke", "--cache-dir", c, "--out", str(tmp_path / "o"), "--stages", "run",
           "--jobs", "2"]
    alive = _kill_when_workers_run(cmd, 3, signal.SIGKILL)   # the kernel and its two probe workers
    assert not alive, f"{alive} outlived the killed reproduce"

# --- the main command: progress, no kernel chatter, untracked outputs, several seeds ---------------------------------
def test_reproduce_shows_progress_writes_no_tracked_file_and_summarises_seeds(tmp_path):
    before = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    r = _cli("reproduce", "--profile", "smoke", "--seeds", "42", "43", "--cache-dir", str(tmp_path / "c"),
             "--out", str(tmp_path / "o"), timeout=900)
    assert r.returncode == 0, r.stderr
    assert "saeprobe reproduce [1/7] normal/extract" in r.stderr and "[7/7] summary" in r.stderr, r.stderr
    assert re.search(r"probe tasks: 100%\|.*\| 6/6", r.stderr), r.stderr                 # the stage's own bar, on the terminal
    assert "without encryption" not in r.stderr and "IPKernelApp" not in r.stderr, r.stderr
    assert subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout == before
    assert (tmp_path / "o" / "normal" / "results.parquet").exists() and (tmp_path / "o" / "normal-seed43" / "results.parquet").exists()
    head = json.loads((tmp_path / "o" / "summary" / "headline.json").read_text())
    lr = next(h for h in head if h["quantity"] == "logreg")
    assert lr["n_seeds"] == 2 and set(lr["by_seed"]) == {"42", "43"}
    assert abs(lr["value"] - np.mean(list(lr["by_seed"].values()))) < 1e-12
    figs = list((tmp_path / "o" / "summary" / "figures").rglob("*.png"))
    assert figs
    for j in (tmp_path / "o" / "summary" / "figures").rglob("*.json"):
        assert str(tmp_path) not in j.read_text(), j                              # no absolute paths in figure files
