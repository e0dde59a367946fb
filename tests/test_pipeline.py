"""The CLI and the papermill chain on the smoke profile."""
import json, os, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest

def test_reproduce_smoke_through_papermill(tmp_path):
    from saeprobe.pipeline import reproduce
    r = reproduce("smoke", out=str(tmp_path / "out"), fig_dir=str(tmp_path / "fig"), cache_dir=str(tmp_path / "cache"))
    out = Path(r["out"])
    assert set(r["timings"]) == {"extract", "run", "figure"}
    for stage in ("20_extract", "21_run_normal", "30_fig_normal"):
        nb = json.loads((out / "notebooks" / f"{stage}.ipynb").read_text())
        tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
        i = next(i for i, t in enumerate(tags) if "parameters" in t)
        assert "injected-parameters" in tags[i + 1]                      # papermill injected after the defaults
    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == 2 * 3 and set(res.method) == {"logreg", "sae"}
    figs = sorted(p.name for p in (tmp_path / "fig" / "normal").iterdir())
    assert any(f.endswith(".pdf") for f in figs) and any(f.endswith(".png") for f in figs)
    assert not list((Path(__file__).parent.parent / "nbs").rglob("*injected*"))

def test_cli_help_and_datasets():
    r = subprocess.run(["saeprobe", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "reproduce" in r.stdout
    r = subprocess.run(["saeprobe", "datasets"], capture_output=True, text=True)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 113

def test_run_schema(smoke, tmp_path):
    from saeprobe.run import RunConfig, run
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
    from saeprobe.pipeline import STAGES, template, _STAGE_PARAMS
    for stage in STAGES:
        with caplog.at_level(logging.WARNING, logger="papermill"):
            caplog.clear()
            params = pm.inspect_notebook(str(template(stage)))
        assert not [r for r in caplog.records if "Unable to parse" in r.getMessage()], stage
        assert _STAGE_PARAMS[stage] <= set(params), (stage, _STAGE_PARAMS[stage] - set(params))
        assert all(p["help"] for p in params.values()), stage
