"""Whole-protocol cost of the normal setting: 5 baselines + the SAE k-list per dataset, ours vs the paper's code.

Times, on the embedded default's cached activations and latents, every probe of the normal setting for each of
`--datasets` (default: every dataset with cached activations, at most `--max-datasets`): our `fit_probe` with the
engine `--engine` (default auto) and `sae_probes.utils_training`'s functions, at the same thread count. Prints
measured seconds per method, the mean per dataset, and the extrapolation to all 113 datasets (mean per-dataset
cost × 113 — stated as such, since only the cached datasets are measured).

    python bench/protocol_cost.py --threads 1 --max-datasets 4
"""
import argparse, os, sys, time

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--datasets", nargs="*", default=None)
    ap.add_argument("--max-datasets", type=int, default=4)
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--skip-paper", action="store_true", help="time ours only")
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import pin_threads, cached_datasets, load, paper_probe, paper_sae
    pin_threads(a.threads)
    import pandas as pd
    from saeprobe.regimes import normal_split
    from saeprobe.pipeline import config_for
    from saeprobe.probes import fit_probe, SAE_KS
    cfg, _ = config_for("full")
    names = cached_datasets(cfg, a.datasets, a.max_datasets)
    rows = []
    for i, ds in enumerate(names):
        y, X, Z = load(cfg, ds)
        s = normal_split(y, 42); tr, te = s.train, s.test
        args = (X[tr], y[tr], X[te], y[te])
        if i == 0:   # one untimed round of the quick methods first: a library's first call in a process pays its imports
            for m in ("logreg", "pca", "knn", "mlp"):
                fit_probe(m, *args, engine=a.engine)
                if not a.skip_paper: paper_probe(m, *args)
        for m in ("logreg", "pca", "knn", "xgboost", "mlp"):
            t = time.perf_counter(); fit_probe(m, *args, engine=a.engine, **({"n_threads": a.threads} if m == "xgboost" else {}))
            rows.append(dict(dataset=ds, method=m, who="ours", s=time.perf_counter() - t))
        t = time.perf_counter(); fit_probe("sae", Z[tr], y[tr], Z[te], y[te], k=list(SAE_KS), engine=a.engine)
        rows.append(dict(dataset=ds, method="sae k-list", who="ours", s=time.perf_counter() - t))
        if not a.skip_paper:
            for m in ("logreg", "pca", "knn", "xgboost", "mlp"):
                t = time.perf_counter(); paper_probe(m, *args); rows.append(dict(dataset=ds, method=m, who="paper", s=time.perf_counter() - t))
            t = time.perf_counter(); paper_sae(Z, y, tr, te, SAE_KS)
            rows.append(dict(dataset=ds, method="sae k-list", who="paper", s=time.perf_counter() - t))
        print(f"{ds}: done", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    t = df.pivot_table(index="method", columns="who", values="s", aggfunc="mean")
    t.loc["all methods"] = t.sum()
    out = pd.DataFrame({f"{w} s/dataset": t[w] for w in t.columns})
    for w in t.columns: out[f"{w} x113 (h, extrapolated)"] = t[w] * 113 / 3600
    if "paper" in t.columns and "ours" in t.columns: out["ratio"] = t["paper"] / t["ours"]
    print(f"# normal setting, {len(names)} datasets measured ({', '.join(names)}), threads {a.threads}, engine {a.engine}")
    print(out.round(3).to_string())

if __name__ == "__main__": main()
