"""The CLI and the papermill chain on the smoke profile."""
import json, os, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest

def test_reproduce_smoke_through_papermill(tmp_path):
    from saeprobe.pipeline import reproduce
    r = reproduce("smoke", out=str(tmp_path / "out"), fig_dir=str(tmp_path / "fig"), cache_dir=str(tmp_path / "cache"),
                  stages=["extract", "run", "figure"])
    out = Path(r["out"]["normal"])
    assert set(r["timings"]) == {"normal/extract", "normal/run", "normal/figure"}
    for stage in ("20_extract", "21_run", "30_fig_normal"):
        nb = json.loads((out / "notebooks" / f"{stage}__normal.ipynb").read_text())
        tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
        i = next(i for i, t in enumerate(tags) if "parameters" in t)
        assert "injected-parameters" in tags[i + 1]                      # papermill injected after the defaults
    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == 2 * 4 and set(res.method) == {"logreg", "pca", "sae"}
    figs = sorted(p.name for p in (tmp_path / "fig" / "normal").iterdir())
    assert any(f.endswith(".pdf") for f in figs) and any(f.endswith(".png") for f in figs)
    assert not list((Path(__file__).parent.parent / "nbs").rglob("*injected*"))

def test_cli_help_and_datasets():
    r = subprocess.run(["saeprobe", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "reproduce" in r.stdout
    r = subprocess.run(["saeprobe", "datasets"], capture_output=True, text=True)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 113

def test_run_schema(smoke, tmp_path):
    from saeprobe.run import RunConfig
    from saeprobe.sweep import run
    m, s, root = smoke
    res = run(RunConfig(model=m, layer=1, sae=s, datasets=("95_toxic_is",), ks=(1, 2), cache_dir=str(root / "c")),
              tmp_path / "o", progress=False)
    need = {"model", "layer", "sae", "dataset", "regime", "method", "k", "n_train", "n_test", "test_auc", "test_acc",
            "test_f1", "val_auc"}
    assert need <= set(res.columns)
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert {"config", "config_hash", "provenance"} <= set(man) and man["provenance"]["versions"]["torch"]
    assert res.query("method=='sae'").k.tolist() == [1, 2]

def test_papermill_reads_every_template_parameter(caplog):
    "papermill must parse each parameter line (type and help), or `--help-notebook` and its checks break."
    import logging, papermill as pm
    from saeprobe.pipeline import all_templates
    for t in all_templates():
        with caplog.at_level(logging.WARNING, logger="papermill"):
            caplog.clear()
            params = pm.inspect_notebook(str(t))
        assert not [r for r in caplog.records if "Unable to parse" in r.getMessage()], t.name
        need = {"results", "out", "fig_dir"} if t.name == "36_fig_sweep.ipynb" else {"profile", "out", "cache_dir"}
        assert need <= set(params), t.name
        assert all(p["help"] for p in params.values()), t.name

def test_reproduce_all_regimes_smoke(tmp_path):
    "Every regime through papermill on the smoke profile, then the summary: figures and headline.json."
    from saeprobe.pipeline import reproduce
    r = reproduce("smoke", out=str(tmp_path / "out"), fig_dir=str(tmp_path / "fig"), cache_dir=str(tmp_path / "cache"),
                  regimes=["all"])
    assert set(r["out"]) == {"normal", "scarcity", "imbalance", "label_noise", "ood"}
    for reg, o in r["out"].items():
        res = pd.read_parquet(Path(o) / "results.parquet")
        assert set(res.regime) == {reg}
        # through papermill, the same rows as `run` of the recorded config: every parameter reached the kernel
        from saeprobe.run import RunConfig
        from saeprobe.sweep import run
        direct = run(RunConfig.from_dict(json.loads((Path(o) / "manifest.json").read_text())["config"]),
                     tmp_path / "direct" / reg, progress=False, force=True)   # recomputed, not read back
        assert res.test_auc.tolist() == direct.test_auc.tolist() and len(res) > 0, reg
    scar = pd.read_parquet(Path(r["out"]["scarcity"]) / "results.parquet")
    assert sorted(scar.n_train.unique()) == [4, 20]
    head = json.loads((Path(r["summary"]) / "headline.json").read_text())
    assert {(h["regime"], h["quantity"]) for h in head} >= {("scarcity", "baseline_quiver"), ("scarcity", "quiver_with_saes"),
                                                           ("label_noise", "logreg"), ("ood", "logreg"), ("normal", "sae_share")}
    figs = {p.stem for p in (tmp_path / "fig").rglob("*.pdf")}
    assert {"fig01_headline", "fig06_delta_vs_regime", "fig07_ood", "fig17_sae_picks", "fig04_normal_quiver"} <= figs

def test_replot_published_cli(tmp_path):
    "saeprobe replot on the paper's CSVs: every figure it can draw and headline.json."
    root = Path(__file__).resolve().parents[2] / "shared" / "paper_results"
    if not root.exists(): pytest.skip(f"{root} not present")
    r = subprocess.run(["saeprobe", "replot", "--published", str(root), "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    head = json.loads((tmp_path / "headline.json").read_text())
    got = {(h["model"], h["regime"], h["quantity"]): h["value"] for h in head}
    assert abs(got[("gemma-2-9b", "normal", "logreg")] - 0.9414) < 1e-3            # SPEC: the paper's 0.941
    assert abs(got[("gemma-2-2b", "scarcity", "logreg")] - 0.822) < 1e-3             # SPEC §10 figure titles
    assert abs(got[("gemma-2-2b", "ood", "logreg")] - 0.795) < 1e-3
    assert ("llama-3.1-8b", "ood", "logreg") not in got                              # not in the files: left out
    assert {q for m, rg, q in got if m == "gemma-2-9b" and rg == "scarcity"} >= {"baseline_quiver", "quiver_with_saes", "sae_share",
                                                                                 "sae:layer_20/width_16k/average_l0_408:k128"}
    assert (tmp_path / "gemma-2-9b" / "fig06_delta_vs_regime.pdf").exists()

def test_replot_bad_published_dir(tmp_path):
    (tmp_path / "baseline_probes_gemma-2-9b").mkdir()
    r = subprocess.run(["saeprobe", "replot", "--published", str(tmp_path), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and "missing file" in r.stderr and "layer20_results.csv" in r.stderr

def test_replot_compare_and_mixed_configs(smoke, tmp_path, caplog):
    "Our results beside the paper's in one replot; results folders of different configurations are refused."
    from saeprobe.core import SaeprobeError
    from saeprobe.evaluate import load_results
    from saeprobe.figures import replot
    from saeprobe.run import RunConfig
    from saeprobe.sweep import run
    m, s, root = smoke
    base = dict(model=m, layer=1, sae=s, datasets=("95_toxic_is",), ks=(1, 4), methods=("logreg", "pca", "sae"),
                cache_dir=str(root / "c"))
    run(RunConfig(**base), tmp_path / "normal", progress=False)
    run(RunConfig(**base, regime="label_noise", regime_values=(0.0, 0.3)), tmp_path / "noise", progress=False)
    run(RunConfig(**{**base, "seed": 7}, regime="scarcity", regime_values=(4,)), tmp_path / "scarcity7", progress=False)
    with pytest.raises(SaeprobeError, match=r"different configurations \(differ in \['seed'\]\)"):
        load_results([tmp_path / "normal", tmp_path / "scarcity7"])
    with pytest.raises(SaeprobeError, match="two results folders for regime 'normal'"):
        load_results([tmp_path / "normal", tmp_path / "normal"])
    with pytest.raises(SaeprobeError, match="missing manifest.json"):
        load_results([tmp_path])
    # an unfinished run is read with a warning naming it (this was a NameError)
    man = tmp_path / "noise" / "manifest.json"; mj = json.loads(man.read_text())
    man.write_text(json.dumps({**mj, "complete": False}))
    with caplog.at_level("WARNING", logger="saeprobe"):
        assert len(load_results([tmp_path / "noise"])) > 0
    assert "is incomplete" in caplog.text
    man.write_text(json.dumps(mj))
    # Fig. 13 from our own runs at two layers
    from saeprobe.evaluate import load_layer_results
    from saeprobe.figures import make_figures
    run(RunConfig(**{**base, "layer": 0, "sae": None, "methods": ("logreg", "pca")}), tmp_path / "normal_l0", progress=False)
    lay = load_layer_results([tmp_path / "normal", tmp_path / "normal_l0"])
    assert sorted(lay.layer.unique()) == ["0", "1"]
    done = make_figures(load_results([tmp_path / "normal"]), tmp_path / "f13", layers=lay, only=["fig13_baselines_by_layer"])
    assert sorted(Path(p).suffix for p in done["tiny-gemma3/fig13_baselines_by_layer"]) == [".pdf", ".png"]
    assert all(Path(p).stat().st_size > 1000 for p in done["tiny-gemma3/fig13_baselines_by_layer"])
    with pytest.raises(SaeprobeError, match="Fig. 13 needs normal-regime runs"):
        load_layer_results([tmp_path / "noise"])
    paper = Path(__file__).resolve().parents[2] / "shared" / "paper_results"
    if not paper.exists(): pytest.skip(f"{paper} not present")
    done = replot(paper, tmp_path / "rp", compare=[tmp_path / "normal", tmp_path / "noise"], layers=False)
    assert sorted(Path(p).suffix for p in done["compare"]) == [".pdf", ".png"] and all(Path(p).exists() for p in done["compare"])
    head = json.loads((tmp_path / "rp" / "headline.json").read_text())
    assert {h["model"] for h in head} >= {"gemma-2-9b", "ours: tiny-gemma3"}

def test_replot_download_offline_is_a_clear_error(tmp_path, monkeypatch):
    import saeprobe.published as P
    from saeprobe.core import SaeprobeError
    monkeypatch.setattr(P, "PUBLISHED_URL", "http://127.0.0.1:9/results")      # nothing listens on the discard port
    with pytest.raises(SaeprobeError, match="offline\\? pass a local copy with --published DIR"):
        P.download_published(tmp_path / "dl")

def test_probe_workers_run_every_thread_pool_at_one_thread():
    # threadpoolctl limits only the libraries already loaded; sklearn, scipy.optimize and xgboost load their own
    # (scipy's OpenBLAS, libgomp) on first use, and at 2 threads each the pool's workers oversubscribed the cores
    code = ("import numpy as np\nfrom threadpoolctl import threadpool_info\nfrom saeprobe.run import probe_threads\n"
            "from saeprobe.probes import fit_probe\n"
            "X = np.random.default_rng(0).normal(size=(300, 8)); y = (X[:, 0] > 0).astype(int)\n"
            "with probe_threads():\n"
            "    for m in ('logreg', 'pca', 'knn', 'mlp'): fit_probe(m, X[:200], y[:200], X[200:], y[200:], engine='reference')\n"
            "    print(sorted({(i['filepath'], i['num_threads']) for i in threadpool_info()}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    pools = eval(out.strip().splitlines()[-1])
    assert any("openblas" in p for p, _ in pools) and {n for _, n in pools} == {1}, pools
