"""Bad input gets a clear error naming the value and what is valid, and nothing finished is lost."""
import json, os, subprocess, sys, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from saeprobe.core import SaeprobeError

def test_unknown_dataset_suggests_close_names():
    from saeprobe.datasets import load_dataset
    with pytest.raises(SaeprobeError, match=r"unknown dataset 'glue_cola'.*did you mean '87_glue_cola'"):
        load_dataset("glue_cola")

def test_layer_outside_model(smoke):
    from saeprobe.activations import load_model, extract_last_token
    lm = load_model(smoke[0])
    with pytest.raises(SaeprobeError, match=r"layer 7 is outside model 'tiny-gemma3', which has blocks 0\.\.2"):
        extract_last_token(lm, ["hello"], 7)

def test_layer_outside_model_in_a_run(smoke):
    from saeprobe.run import RunConfig
    from saeprobe.sweep import run
    m, s, root = smoke
    cfg = RunConfig(model=m, layer=5, sae=None, methods=("logreg",), datasets=("117_us_state_FL",),
                    cache_dir=str(root / "c"))
    with pytest.raises(SaeprobeError, match="layer 5 is outside"):
        run(cfg, root / "bad-layer", progress=False)

def test_sae_hook_or_width_mismatch(smoke):
    from saeprobe.sae import load_sae, check_sae
    sae = load_sae(smoke[1])  # trained for blocks.1
    with pytest.raises(SaeprobeError, match=r"reads hook 'blocks.1.hook_resid_post' but the activations are from 'blocks.2"):
        check_sae(sae, 16, 2)
    with pytest.raises(SaeprobeError, match=r"d_in=16 but the model's residual stream has d_model=640"):
        check_sae(sae, 640, 1)

def test_sae_mismatch_in_a_run(smoke):
    from saeprobe.run import RunConfig
    from saeprobe.sweep import run
    m, s, root = smoke
    cfg = RunConfig(model=m, layer=2, sae=s, datasets=("117_us_state_FL",), ks=(1,), cache_dir=str(root / "c"))
    with pytest.raises(SaeprobeError, match="reads hook"):
        run(cfg, root / "bad-sae", progress=False)

def test_one_class_training_set():
    from saeprobe.probes import fit_probe
    X = np.random.default_rng(0).normal(size=(40, 5))
    with pytest.raises(SaeprobeError, match=r"training set has one class only \(all 20 labels are 1\)"):
        fit_probe("logreg", X[:20], np.ones(20), X[20:], np.r_[np.zeros(10), np.ones(10)])

def test_nan_activations_rejected(tmp_path):
    from saeprobe.core import ArrayCache
    from saeprobe.probes import fit_probe
    X = np.random.default_rng(0).normal(size=(40, 5)); X[3, 1] = np.inf
    y = np.r_[np.zeros(20), np.ones(20)].astype(int)
    with pytest.raises(SaeprobeError, match=r"X_train contains 1 non-finite value\(s\) \(NaN or inf\) \(rows \[3\]\)"):
        fit_probe("logreg", X, y, X, y)

def test_nan_in_cache_is_an_error(smoke, tmp_path):
    "A cache file with NaNs but a valid checksum (written by a broken model) is refused, not probed."
    from saeprobe.activations import ModelRef, get_activations, activation_key
    from saeprobe.core import ArrayCache
    from saeprobe.datasets import load_dataset
    m, s, root = smoke
    ref = ModelRef(m)
    prompts = load_dataset("117_us_state_FL").prompt.tolist()
    bad = np.full((len(prompts), 16), np.nan, dtype=np.float32)
    ArrayCache(tmp_path / "acts" / "tiny-gemma3" / "layer1").put("117_us_state_FL", activation_key(ref, 1, prompts), {"acts": bad})
    with pytest.raises(SaeprobeError, match="non-finite"):
        get_activations(ref, 1, "117_us_state_FL", cache_dir=tmp_path, progress=False)

@pytest.mark.parametrize("damage", ["truncate", "flip", "sidecar"])
def test_damaged_cache_recomputed(smoke, tmp_path, damage):
    from saeprobe.activations import ModelRef, get_activations
    ref = ModelRef(smoke[0])
    x = get_activations(ref, 1, "95_toxic_is", cache_dir=tmp_path, progress=False)
    f = tmp_path / "acts" / "tiny-gemma3" / "layer1" / "95_toxic_is.safetensors"
    if damage == "truncate": f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif damage == "flip":
        b = bytearray(f.read_bytes()); b[-7] ^= 0x55; f.write_bytes(bytes(b))
    else: f.with_suffix(".json").write_text("{not json")
    y = get_activations(ref, 1, "95_toxic_is", cache_dir=tmp_path, progress=False)
    np.testing.assert_allclose(x, y, rtol=1e-6)
    assert json.loads(f.with_suffix(".json").read_text())["size"] == f.stat().st_size

def test_stale_cache_recomputed_when_layer_prompts_or_model_change(smoke, tmp_path):
    from saeprobe.activations import ModelRef, activation_key
    a = activation_key(ModelRef(smoke[0]), 1, ["a", "b"])
    assert a != activation_key(ModelRef(smoke[0]), 1, ["a", "c"])
    assert a != activation_key(ModelRef(smoke[0], revision="abc"), 1, ["a", "b"])
    assert a["hook"] == "blocks.1.hook_resid_post" and a["max_length"] == 1024

_MAIN = "import sys; from saeprobe.cli import main; sys.exit(main(sys.argv[1:]))"

def _cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kw)

def test_cli_bad_input_is_one_line_not_a_traceback():
    r = _cli("run", "--datasets", "5_hist_fig_ismal")
    assert r.returncode == 2
    assert "saeprobe: error: unknown dataset '5_hist_fig_ismal'; did you mean '5_hist_fig_ismale'" in r.stderr
    assert "Traceback" not in r.stderr

def test_killed_run_resumes_without_loss_or_duplicates(smoke, tmp_path):
    "Kill `saeprobe run` after its first probe task finished; the rerun keeps that task file and adds the rest once."
    m, s, root = smoke
    datasets = ["95_toxic_is", "117_us_state_FL", "118_us_state_CA"]
    args = ["run", "--jobs", "1", "--profile", "smoke", "--model", m, "--layer", "1", "--sae", s, "--ks", "1", "4",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--datasets", *datasets]
    p = subprocess.Popen([sys.executable, "-c", _MAIN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tasks = tmp_path / "cache" / "tasks"
    done = lambda: sorted(tasks.rglob("*.parquet"))
    t0 = time.time()
    while not done() and time.time() - t0 < 300 and p.poll() is None: time.sleep(0.05)
    p.kill(); p.wait()
    assert done(), "the first task never finished"
    first = done()[0]; kept = first.stat().st_mtime_ns; n_before = len(done())
    assert n_before < 3 * 3, "the run finished before it could be killed; nothing was tested"
    r = _cli(*args); assert r.returncode == 0, r.stderr
    assert first.stat().st_mtime_ns == kept                        # a finished task was not redone
    assert len(done()) == 3 * 3                                    # logreg, pca, sae on each dataset: one file each
    res = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert len(res) == 3 * 4 and not res.duplicated(["dataset", "method", "k"]).any()
    assert sorted(res.dataset.unique()) == sorted(datasets)
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["complete"] and man["tasks"]["baselines"]["cached"] + man["tasks"]["sae_probes"]["cached"] == n_before
    assert not list((tmp_path / "out").rglob("*.tmp")) and not list(tasks.rglob("*.tmp"))   # no temporary files left
    r = _cli(*args, "--force"); assert r.returncode == 0
    assert first.stat().st_mtime_ns != kept                        # --force recomputes

def test_cli_unknown_engine():
    r = _cli("run", "--engine", "turbo", "--datasets", "5_hist_fig_ismale")
    assert r.returncode == 2 and "unknown engine 'turbo'" in r.stderr and "Traceback" not in r.stderr

def test_probe_engine_bad_inputs():
    "The batched engine's own entry points reject what they cannot handle, naming the value."
    import numpy as np
    from saeprobe.core import SaeprobeError
    from saeprobe.engine import auc_rows, get_device
    from saeprobe.probes import fit_probe
    with pytest.raises(SaeprobeError, match="both classes"): auc_rows([[0.1, 0.2]], [1, 1])
    with pytest.raises(SaeprobeError, match="unknown torch device 'gpu7'"): get_device("gpu7")
    X = np.random.RandomState(0).randn(20, 4); y = np.r_[np.zeros(10), np.ones(10)].astype(int)
    X[3, 1] = np.inf
    with pytest.raises(SaeprobeError, match="non-finite"): fit_probe("pca", X, y, X, y, engine="fast")

def test_cli_bad_regime_and_value():
    r = _cli("run", "--regime", "noise", "--datasets", "5_hist_fig_ismale")
    assert r.returncode == 2 and "unknown regime 'noise'; did you mean 'label_noise'" in r.stderr
    r = _cli("run", "--regime", "scarcity", "--regime-values", "6", "--datasets", "5_hist_fig_ismale")
    assert r.returncode == 2 and "unknown scarcity value 6" in r.stderr and "Traceback" not in r.stderr

def test_mlp_without_numpys_blas(monkeypatch):
    """The compiled MLP needs NumPy's own CBLAS (bit-equal products): without it `auto` runs sklearn's MLP and an
    explicit engine='fast' is a clear error, not a crash in compiled code."""
    import saeprobe.engine.mlp as mlp
    from saeprobe.probes import fit_probe, resolve_engine
    r = np.random.RandomState(0); X = r.randn(60, 8).astype(np.float32); y = (X[:, 0] > 0).astype(int)
    if mlp.numpy_blas(): assert resolve_engine("auto", "mlp", 60, 8) == "fast"   # the NumPy wheels have it (MKL's not)
    monkeypatch.setattr(mlp, "numpy_blas", lambda: False)
    assert resolve_engine("auto", "mlp", 60, 8) == "reference"
    assert fit_probe("mlp", X[:40], y[:40], X[40:], y[40:]).params["engine"] == "reference"
    with pytest.raises(SaeprobeError, match="needs NumPy's own CBLAS.*engine='reference'"):
        fit_probe("mlp", X[:40], y[:40], X[40:], y[40:], engine="fast")

def test_xgboost_impl_choice():
    """`xgb_impl` picks how the fast engine grows XGBoost's trees: an unknown name, or the option with the paper's
    engine, is a clear error; the compiled trees and the library's give the same probe (same trees, bit for bit)."""
    from saeprobe.probes import fit_probe
    from saeprobe.engine.xgb import quantise, xgb_fit
    r = np.random.RandomState(0); X = r.randn(40, 6).astype(np.float32); y = (X[:, 0] + 0.3 * r.randn(40) > 0).astype(int)
    with pytest.raises(SaeprobeError, match="valid: \\('compiled', 'library'\\)"):
        fit_probe("xgboost", X[:30], y[:30], X[30:], y[30:], xgb_impl="gpu")
    with pytest.raises(SaeprobeError, match="needs engine='fast'"):
        fit_probe("xgboost", X[:30], y[:30], X[30:], y[30:], engine="reference", xgb_impl="compiled")
    a, b = (fit_probe("xgboost", X[:30], y[:30], X[30:], y[30:], xgb_impl=i) for i in ("compiled", "library"))
    assert (a.params.pop("impl"), b.params.pop("impl")) == ("xgb-compiled", "xgb-library")
    assert (a.test_auc, a.val_auc, a.params) == (b.test_auc, b.val_auc, b.params)
    cfg = dict(n_estimators=5, max_depth=2, learning_rate=0.1, subsample=1.0, colsample_bytree=1.0, reg_alpha=0.0,
               reg_lambda=1.0, min_child_weight=1)
    with pytest.raises(SaeprobeError, match="both classes"): xgb_fit(quantise(X), np.zeros(40), cfg)
    with pytest.raises(SaeprobeError, match="unknown \\['eta'\\]"): xgb_fit(quantise(X), y, dict(cfg, eta=0.1))
    with pytest.raises(SaeprobeError, match="finite"): quantise(np.full((3, 2), np.nan))

def test_xgboost_other_release(monkeypatch):
    """The compiled trees are checked against one xgboost release: with another installed, the default uses the
    library and an explicit xgb_impl='compiled' is a clear error naming both versions."""
    from saeprobe import engine
    from saeprobe.engine import common
    from saeprobe.probes import fit_probe
    monkeypatch.setitem(engine.VERIFIED, "xgb", {"xgboost": "9.9.9"}); common._WARNED.discard("xgb")
    r = np.random.RandomState(1); X = r.randn(40, 6).astype(np.float32); y = (X[:, 0] + 0.3 * r.randn(40) > 0).astype(int)
    assert fit_probe("xgboost", X[:30], y[:30], X[30:], y[30:]).params["impl"] == "xgb-library"
    with pytest.raises(SaeprobeError, match=r"installed: xgboost 3\.2\.0 \(verified: 9\.9\.9\)"):
        fit_probe("xgboost", X[:30], y[:30], X[30:], y[30:], xgb_impl="compiled")
    assert fit_probe("xgboost", X[:30], y[:30], X[30:], y[30:]).test_auc == \
        fit_probe("xgboost", X[:30], y[:30], X[30:], y[30:], xgb_impl="library").test_auc

def test_a_cell_whose_probe_cannot_be_fitted_is_reported_not_dropped(smoke, monkeypatch, capsys, tmp_path):
    "A regime value whose split fails the probe's checks gets a row with the reason: in the manifest, on stderr, out of the means."
    import saeprobe.run as R
    from saeprobe.cli import _failed_cells
    from saeprobe.evaluate import failed_cells, tidy
    from saeprobe.sweep import TaskReport, write_manifest
    m, s, root = smoke
    cfg = R.RunConfig(model=m, layer=1, sae=None, methods=("logreg",), datasets=("117_us_state_FL",), regime="label_noise",
                      regime_values=(0.0, 0.1, 0.2), cache_dir=str(root / "c"))
    real, calls = R.fit_probe, []
    def second_fails(*a, **kw):
        calls.append(1)
        if len(calls) == 2: raise SaeprobeError("the hold-out validation rows hold class 0 only, so their AUC is undefined")
        return real(*a, **kw)
    monkeypatch.setattr(R, "fit_probe", second_fails)
    df = R.probe_rows(cfg, "117_us_state_FL", "logreg")
    assert list(df.regime_value) == [0.0, 0.1, 0.2] and df.test_auc.isna().tolist() == [False, True, False]
    bad = failed_cells(df)
    assert bad[["dataset", "regime", "regime_value", "method"]].values.tolist() == [["117_us_state_FL", "label_noise", 0.1, "logreg"]]
    assert "hold class 0 only" in bad.error[0] and df.error.isna().sum() == 2
    assert len(tidy(df)) == 2                                    # the means cover the two fitted cells
    man = write_manifest(tmp_path, {}, [cfg], [(cfg, "117_us_state_FL", "logreg")], TaskReport(), df)
    assert [(c["regime_value"], c["method"]) for c in man["failed_cells"]] == [(0.1, "logreg")]
    assert json.loads((tmp_path / "manifest.json").read_text())["failed_cells"][0]["dataset"] == "117_us_state_FL"
    _failed_cells(df, "run")
    assert "saeprobe run: no logreg probe on 117_us_state_FL at label_noise = 0.1: the hold-out" in capsys.readouterr().err
