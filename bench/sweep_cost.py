"""What a sweep saves: 4 SAEs of the SAE-family study x the quick datasets x the normal regime with all five baselines.

  A. four one-SAE runs as before the sweep: each run computes its own five baselines (`run(..., force=True)`);
  B. one sweep of the four SAEs, local executor: the baselines once, then each SAE's probes;
  C. the same sweep on Ray (`--executor ray --ray-address local`: a private cluster on this machine, loopback only).

`--regime R`: the same in another regime (its quick grid; k = 16 and 128 as the paper). Features (activations, SAE latents) are cached before the clock starts: all three compute the same probe tasks
(`force`), so the ratios are the probe work a sweep saves and Ray's overhead. Prints a table and writes
bench/sweep_cost_results.txt. Usage: python bench/sweep_cost.py [--jobs 2] [--n-tokens 100000] [--no-ray]
"""
import argparse, json, os, time
from pathlib import Path

HERE = Path(__file__).resolve().parent

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--n-tokens", type=int, default=100_000, help="training tokens per SAE (the family is only probed here)")
    ap.add_argument("--regime", default="normal", help="normal (default: k = 1..512) or another regime (k = 16, 128)")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--out", default="", help="results file (default: bench/sweep_cost_results[_REGIME].txt)")
    a = ap.parse_args()
    a.out = a.out or str(HERE / ("sweep_cost_results.txt" if a.regime == "normal" else f"sweep_cost_results_{a.regime}.txt"))
    from saeprobe.core import default_cache_dir
    from saeprobe.activations import EMBEDDED_MODEL, EMBEDDED_LAYER
    from saeprobe.pipeline import config_for
    from saeprobe.sae_family import FAMILIES, train_family
    from saeprobe.sweep import SweepConfig, run, run_sweep
    work = default_cache_dir() / "bench_sweep"
    methods = ("logreg", "pca", "knn", "xgboost", "mlp", "sae")
    t = time.time()
    specs = [s for s in FAMILIES["quick"] if s.d_sae >= 512][:4]      # wide enough for the normal regime's k = 512
    saes = train_family(specs, EMBEDDED_MODEL, EMBEDDED_LAYER, work / "family", n_tokens=a.n_tokens,
                        eval_tokens=10_000, progress=True)
    print(f"SAEs ({time.time() - t:.0f} s): {[Path(s).name for s in saes]}", flush=True)
    sweep = SweepConfig(profile="quick", saes=tuple(saes), methods=methods, figures=False, jobs=a.jobs,
                        regimes=(a.regime,), out=str(work / f"sweep-{a.regime}"))
    run_sweep(sweep, progress=False)                        # fills the features (and the tasks) before the clock
    rows = []
    t = time.time()
    for i, s in enumerate(saes):                           # A: as before, each run computes its own baselines
        cfg, _ = config_for("quick", sae=s, methods=methods, regime=a.regime)
        run(cfg, work / f"single{i}-{a.regime}", force=True, progress=False, n_jobs=a.jobs)
    rows.append(("A: 4 one-SAE runs (baselines 4x)", time.time() - t, None))
    t = time.time()
    r = run_sweep(SweepConfig(**{**sweep.to_dict(), "force": True}), progress=False)
    rows.append(("B: sweep, local executor", time.time() - t, r["manifest"]["tasks"]))
    if not a.no_ray:
        t = time.time()
        r = run_sweep(SweepConfig(**{**sweep.to_dict(), "force": True, "executor": "ray", "ray_address": "local",
                                     "out": str(work / f"sweep-ray-{a.regime}")}), progress=False)
        rows.append(("C: sweep, Ray executor (private cluster)", time.time() - t, r["manifest"]["tasks"]))
        rows.append(("   of which tasks (extract+encode+probes)", sum(r["manifest"]["timings"][k] for k in
                                                                    ("extract_s", "encode_s", "probes_s")), None))
    a_s, b_s = rows[0][1], rows[1][1]
    sweep_ks = list(config_for("quick", regime=a.regime)[0].ks)
    lines = [f"# bench/sweep_cost.py, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, --jobs {a.jobs}",
             f"# 4 SAEs ({', '.join(Path(s).name for s in saes)}) x 7 quick datasets x {a.regime} (quick grid), "
             f"methods {' '.join(methods)}, ks {sweep_ks}",
             f"{'setting':44s} {'wall s':>8s} {'vs A':>6s}"]
    for name, secs, tasks in rows:
        lines.append(f"{name:44s} {secs:8.1f} {a_s / secs:6.2f}x" + (f"   tasks {json.dumps(tasks)}" if tasks else ""))
    lines.append(f"sweep vs separate runs: {a_s / b_s:.2f}x (target >= 2.5x)")
    if not a.no_ray:
        c_s = rows[2][1]
        lines.append(f"Ray vs local sweep: {c_s / b_s:.3f} of the local time ({(c_s / b_s - 1) * 100:+.1f}%; target within 10%)")
    text = "\n".join(lines)
    print(text)
    Path(a.out).write_text(text + "\n")

if __name__ == "__main__":
    main()
