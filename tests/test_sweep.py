"""`saeprobe sweep` on the local executor: a family of SAEs shares the baselines, a later SAE adds only its own tasks,
the outputs (results, manifest task counts, SAEBench files, summary figure) and the faults (a failing SAE, a killed
worker, bad input)."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest

SHARED_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "saebench" / "sparse_probing_sae_probes.schema.json"
KEY = ["model", "layer", "sae", "dataset", "regime", "regime_value", "method", "k"]
_MAIN = "import sys; from saeprobe.cli import main; sys.exit(main())"

def _sweep(*args, **kw):
    return subprocess.run([sys.executable, "-c", _MAIN, "sweep", *args], capture_output=True, text=True, **kw)

def _smoke_args(m, tmp_path, saes, *extra, cache="cache", out="out"):
    args = ["--profile", "smoke", "--model", m, "--cache-dir", str(tmp_path / cache), "--out", str(tmp_path / out)]
    for s in saes: args += ["--sae", s]
    return args + list(extra)

@pytest.fixture(scope="module")
def family_sweep(smoke, smoke_saes, tmp_path_factory):
    "A 3-SAE smoke sweep from a TOML file (flags on top), with the summary figure: (tmp, result of run_sweep)."
    from saeprobe.sweep import run_sweep, sweep_config
    m, _, _ = smoke
    tmp = tmp_path_factory.mktemp("sweep")
    toml = tmp / "sweep.toml"
    toml.write_text(f'profile = "smoke"\nmodels = ["{m}"]\nsaes = {json.dumps(smoke_saes[:3])}\n'
                    f'cache-dir = "{tmp / "cache"}"\njobs = 2\n')
    return tmp, run_sweep(sweep_config(toml, out=str(tmp / "out")), progress=False)

def test_family_sweep_computes_each_baseline_once(family_sweep, smoke):
    tmp, r = family_sweep
    t = r["manifest"]["tasks"]
    # smoke: 2 datasets x (logreg, pca) baselines, computed once for the three SAEs; each SAE's probes on each dataset
    assert t["baselines"] == {"computed": 4, "cached": 0, "failed": 0}
    assert t["sae_probes"] == {"computed": 6, "cached": 0, "failed": 0}
    assert t["extract"] == {"computed": 2, "cached": 0, "failed": 0} and t["encode"]["computed"] == 6
    df = r["results"]
    base = df[df.method != "sae"]
    assert base.sae.isna().all() and not base.duplicated(KEY).any() and len(base) == 4
    assert sorted(df[df.method == "sae"].sae.unique()) == ["sae0", "sae1", "sae2"]
    assert r["failed"] == [] and r["manifest"]["complete"]

def test_family_sweep_equals_three_single_sae_runs(family_sweep, smoke, smoke_saes, tmp_path):
    "Each SAE run alone (`run`, its own cache: everything recomputed) gives exactly the sweep's rows."
    from saeprobe.pipeline import config_for
    from saeprobe.sweep import run
    tmp, r = family_sweep
    m, _, _ = smoke
    sweep = r["results"].set_index(KEY).sort_index()
    for i, s in enumerate(smoke_saes[:3]):
        cfg, _ = config_for("smoke", model=m, layer=1, sae=s, cache_dir=str(tmp_path / f"cache{i}"))
        one = run(cfg, tmp_path / f"out{i}", progress=False, n_jobs=1)
        assert one[one.method != "sae"].sae.isna().all()
        one = one.set_index(KEY).sort_index()
        mine = sweep[(sweep.index.get_level_values("sae") == cfg.sae_name) | sweep.index.get_level_values("sae").isna()]
        pd.testing.assert_frame_equal(one[["test_auc", "val_auc", "n_train", "C"]], mine[["test_auc", "val_auc", "n_train", "C"]])

def test_fourth_sae_adds_only_its_own_tasks(family_sweep, smoke, smoke_saes):
    from saeprobe.sweep import SweepConfig, run_sweep
    tmp, _ = family_sweep
    m, _, _ = smoke
    r = run_sweep(SweepConfig(profile="smoke", models=(m,), saes=tuple(smoke_saes), cache_dir=str(tmp / "cache"),
                              out=str(tmp / "out4"), figures=False), progress=False)
    t = r["manifest"]["tasks"]
    assert t["baselines"] == {"computed": 0, "cached": 4, "failed": 0}
    assert t["sae_probes"] == {"computed": 2, "cached": 6, "failed": 0}
    # only the new SAE's latents are made; the finished SAEs' are not even read (their tasks need no features)
    assert t["encode"] == {"computed": 2, "cached": 0, "failed": 0}
    assert t["extract"] == {"computed": 0, "cached": 2, "failed": 0}
    assert r["results"].sae.nunique() == 4

def test_saebench_files_validate_against_the_schema(family_sweep):
    import jsonschema
    from saeprobe.saebench import schema_path, validate_saebench
    tmp, r = family_sweep
    schema = json.loads(schema_path().read_text())
    if SHARED_SCHEMA.exists(): assert schema == json.loads(SHARED_SCHEMA.read_text())   # the shipped copy is SAEBench's
    files = sorted((tmp / "out" / "eval_results" / "sparse_probing_sae_probes").glob("*.json"))
    assert [f.name for f in files] == [f"local_sae{i}_eval_results.json" for i in range(3)]
    df = r["results"]
    for f in files:
        d = validate_saebench(f)
        sae = f.name.split("_")[1]
        mine = df[(df.sae == sae) & (df.k == 1)]
        assert d["sae_lens_release_id"] == "local" and d["sae_lens_id"] == sae and d["eval_config"]["setting"] == "normal"
        assert d["eval_result_metrics"]["sae"]["sae_top_1_test_auc"] == pytest.approx(mine.test_auc.mean())
        assert d["eval_result_metrics"]["sae"]["sae_top_2_test_auc"] is None          # k=2 was not run
        assert set(d["sae_metrics_by_k"]) == {"1", "4"}
        assert d["eval_result_metrics"]["llm"]["llm_test_auc"] == pytest.approx(df[df.method == "logreg"].test_auc.mean())
        assert len(d["eval_result_details"]) == 2 and d["sae_cfg_dict"]["d_in"] == 16
    # a broken file is caught: the schema check is not vacuous
    bad = dict(json.loads(files[0].read_text()), eval_result_metrics={"llm": {}})
    with pytest.raises(jsonschema.ValidationError): jsonschema.validate(bad, schema)

def test_summary_figure_and_headlines(family_sweep):
    tmp, r = family_sweep
    out = tmp / "out"
    figs = list((out / "figures").rglob("sweep_sae_comparison.png")) + list((out / "figures").rglob("sweep_sae_comparison.pdf"))
    assert len(figs) == 2 and (out / "notebooks" / "36_fig_sweep.ipynb").exists()
    table = pd.read_csv(out / "sae_comparison.csv")
    assert {"logistic regression", "baseline quiver", "sae0 k=4", "sae2 k=1"} <= set(table.probe)
    logreg = table[table.probe == "logistic regression"].mean_auc.item()
    assert logreg == pytest.approx(r["results"].query("method == 'logreg'").test_auc.mean())
    assert sorted(json.loads((out / "headline_by_sae.json").read_text())) == ["sae0", "sae1", "sae2"]

def test_a_failing_sae_fails_alone(smoke, smoke_saes, tmp_path):
    "An SAE whose cfg.json says d_in=16 but whose weights are 32 wide: its tasks fail, the others finish, exit 2."
    m, _, _ = smoke
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import make_random_sae
    liar = Path(make_random_sae(tmp_path / "liar", seed=9, d_in=32))
    cfg = json.loads((liar / "cfg.json").read_text()); cfg["d_in"] = 16; (liar / "cfg.json").write_text(json.dumps(cfg))
    p = _sweep(*_smoke_args(m, tmp_path, [smoke_saes[0], str(liar)], "--no-figures", "--jobs", "1"), timeout=600)
    assert p.returncode == 2, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.startswith("saeprobe sweep: failed")]
    assert len(lines) == 2 * 2 and all("liar" in l for l in lines)     # encode of 2 datasets, its 2 probe tasks
    assert "Traceback" not in p.stderr
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["tasks"]["sae_probes"] == {"computed": 2, "cached": 0, "failed": 2} and not man["complete"]
    res = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert set(res.sae.dropna()) == {"sae0"} and len(res[res.method != "sae"]) == 4

def test_killed_local_worker_fails_cleanly_and_the_rerun_resumes(smoke, smoke_saes, tmp_path):
    import psutil
    m, _, _ = smoke
    args = _smoke_args(m, tmp_path, smoke_saes, "--no-figures", "--jobs", "2", "--datasets", "95_toxic_is",
                       "117_us_state_FL", "118_us_state_CA", "5_hist_fig_ismale")
    p = subprocess.Popen([sys.executable, "-c", _MAIN, "sweep", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tasks = tmp_path / "cache" / "tasks"
    t0, killed = time.time(), None
    while time.time() - t0 < 300 and p.poll() is None and killed is None:
        kids = [c for c in psutil.Process(p.pid).children() if "spawn_main" in " ".join(c.cmdline())]
        if kids and list(tasks.rglob("*.parquet")):         # a worker is at work and a task is finished
            killed = kids[0].pid; os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    out, err = p.communicate(timeout=300)
    assert killed, "no worker to kill: the sweep finished first"
    assert p.returncode == 2 and "Traceback" not in err, err
    assert any("BrokenProcessPool" in l for l in err.splitlines() if l.startswith("saeprobe sweep: failed"))
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    before = len(list(tasks.rglob("*.parquet")))
    r = _sweep(*args, timeout=600)
    assert r.returncode == 0, r.stderr
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    cached = man["tasks"]["baselines"]["cached"] + man["tasks"]["sae_probes"]["cached"]
    assert cached == before > 0 and man["complete"] and man["failed"] == []
    res = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert not res.duplicated(KEY).any() and res.dataset.nunique() == 4 and res.sae.nunique() == 4

def test_bad_input_is_one_line_before_any_work(smoke, smoke_saes, tmp_path):
    from saeprobe.core import SaeprobeError
    from saeprobe.sweep import SweepConfig, plan_sweep, select_saes, sweep_config
    m, _, _ = smoke
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import make_random_sae
    wide = make_random_sae(tmp_path / "wide", seed=1, d_in=32)
    with pytest.raises(SaeprobeError, match=r"SAE 'wide' \(d_in=32, hook 'blocks.1.hook_resid_post'\) fits none of this "
                                            r"sweep's \(model, layer\): tiny-gemma3 \(d_model=16\) layer 1"):
        plan_sweep(SweepConfig(profile="smoke", models=(m,), saes=(wide,), cache_dir=str(tmp_path / "c")))
    with pytest.raises(SaeprobeError, match="fits none"):     # an SAE of layer 1 at a layer 0 only
        plan_sweep(SweepConfig(profile="smoke", models=(m,), layers=(0,), saes=(smoke_saes[0],), cache_dir=str(tmp_path / "c")))
    with pytest.raises(SaeprobeError, match="unknown executor 'rey'; did you mean 'ray'"):
        SweepConfig(executor="rey")
    bad = tmp_path / "bad.toml"
    bad.write_text('profile = "smoke"\nlayer = [1]\n')
    with pytest.raises(SaeprobeError, match=r"unknown key in .*bad.toml: 'layer'; did you mean 'layers'"): sweep_config(bad)
    bad.write_text('layers = ["nine"]\n')
    with pytest.raises(SaeprobeError, match=r"bad.toml: layers = \['nine'\] must be a list of integers"): sweep_config(bad)
    bad.write_text('jobs = "2"\n')
    with pytest.raises(SaeprobeError, match=r"jobs = '2' must be an integer"): sweep_config(bad)
    with pytest.raises(SaeprobeError, match="matches none of the .* sae-lens releases; close: 'gemma-scope-2b-pt-res'"):
        select_saes("gemma-scope-2b-pt-rez", "layer_12/.*")
    with pytest.raises(SaeprobeError, match="matches no SAE id of release"):
        select_saes("gemma-scope-2b-pt-res$", "layer_99/.*")
    picked = select_saes("gemma-scope-2b-pt-res$", r"layer_12/width_16k/average_l0_\d+$")
    assert picked and all(p.startswith("gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_") for p in picked)
    # from the command line: one line, status 2, no folder made, well within seconds
    t = time.time()
    p = _sweep(*_smoke_args(m, tmp_path, [wide], out="never"), timeout=120)
    last = p.stderr.strip().splitlines()[-1]
    assert p.returncode == 2 and last.startswith("saeprobe: error: SAE") and "fits none" in last and "Traceback" not in p.stderr
    assert not (tmp_path / "never").exists() and time.time() - t < 60

def test_a_machine_gone_resumes_from_its_results(family_sweep, smoke, tmp_path):
    """The run's machine (and cache) is gone, its results folder kept: `saeprobe restore` on a new cache, then the same
    sweep computes nothing, runs no model and writes the same table; a task missing from the results is computed."""
    tmp, r = family_sweep
    m, _, _ = smoke
    saes = r["manifest"]["config"]["saes"]
    new = tmp_path / "new-cache"
    p = subprocess.run([sys.executable, "-c", _MAIN, "restore", str(tmp / "out"), "--cache-dir", str(new)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == "restored 10 probe tasks (0 already cached) from 1 results tables", p
    q = _sweep(*_smoke_args(m, tmp_path, saes, "--no-figures", cache="new-cache", out="again"))
    assert q.returncode == 0, q.stderr
    man = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert man["tasks"]["baselines"] == {"computed": 0, "cached": 4, "failed": 0}
    assert man["tasks"]["sae_probes"] == {"computed": 0, "cached": 6, "failed": 0}
    assert not (new / "acts").exists()                     # no activations: nothing left needed them
    again = pd.read_parquet(tmp_path / "again" / "results.parquet")
    pd.testing.assert_frame_equal(again, pd.read_parquet(tmp / "out" / "results.parquet"))
    # one SAE task lost (not in the results kept): only its dataset is extracted and encoded, only it computed
    next((new / "tasks" / "sae_probes").glob("*.parquet")).unlink()
    q = _sweep(*_smoke_args(m, tmp_path, saes, "--no-figures", cache="new-cache", out="again"))
    man = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert q.returncode == 0 and man["tasks"]["sae_probes"]["computed"] == 1 and man["tasks"]["extract"]["computed"] == 1
    assert man["tasks"]["encode"] == {"computed": 1, "cached": 0, "failed": 0}
