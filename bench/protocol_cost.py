"""Whole-protocol cost of one regime: every probe of every cell of its grid per dataset, ours vs the paper's code.

Times, on the embedded default's cached activations and latents, every probe the full profile runs in `--regime`
(normal, scarcity, imbalance, label_noise; SPEC §5's grids, the paper's methods per regime: all five baselines, but
logreg alone under label noise; the SAE probes at k = 1…512 in normal, 16 and 128 elsewhere) for each of `--datasets`
(default: every dataset with cached activations, at most `--max-datasets`): our `fit_probe` with the engine
`--engine` (default auto) and `sae_probes.utils_training`'s functions on the same splits (the regime's labels: the
flipped ones under label noise), at the same thread count. Prints measured seconds per method, the mean per dataset,
and the projection to all 113 datasets (mean per-dataset cost × 113 — stated as such, since only the cached datasets
are measured; in scarcity and imbalance a dataset's grid and sizes depend on its size, so pick datasets of different
sizes).

    python bench/protocol_cost.py --regime scarcity --threads 1 --max-datasets 4 [--out bench/protocol_cost_results_scarcity.txt]
"""
import argparse, json, os, sys, time
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--regime", default="normal", choices=["normal", "scarcity", "imbalance", "label_noise"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--datasets", nargs="*", default=None)
    ap.add_argument("--max-datasets", type=int, default=4)
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--skip-paper", action="store_true", help="time ours only")
    ap.add_argument("--out", default="", help="also prepend the table (with the command) to this file")
    ap.add_argument("--rows", default="", help="append each cell's timings to this JSON-lines file as it is measured, and "
                    "skip the datasets it already holds (a long regime resumes; several processes can share the "
                    "datasets and the table is printed from every row in the file)")
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import pin_threads, cached_datasets, load, paper_probe, paper_sae
    pin_threads(a.threads)
    import pandas as pd
    from saeprobe.regimes import regime_split, regime_values
    from saeprobe.pipeline import config_for, default_methods
    from saeprobe.probes import fit_probe, SAE_KS
    cfg, _ = config_for("full", regime=a.regime)
    names = cached_datasets(cfg, a.datasets, a.max_datasets)
    methods = [m for m in default_methods("full", a.regime, True) if m != "sae"]
    ks = list(SAE_KS) if a.regime == "normal" else [16, 128]
    rows, t_start = [], time.strftime("%Y-%m-%d %H:%M")
    rows_file = Path(a.rows) if a.rows else None
    def saved():
        return [json.loads(l) for l in rows_file.read_text().splitlines() if l.strip()] if rows_file and rows_file.exists() else []
    have = {r["dataset"] for r in saved() if r.get("regime") == a.regime}
    warmed = False
    for i, ds in enumerate(names):
        if ds in have: print(f"{ds}: in {rows_file} already", file=sys.stderr); continue
        y, X, Z = load(cfg, ds)
        values = regime_values(a.regime, y)
        for j, value in enumerate(values):
            s = regime_split(a.regime, y, value, 42)
            tr, te, ytr = s.train, s.test, s.y_train
            args = (X[tr], ytr, X[te], y[te])
            cell = dict(dataset=ds, value=float(value), n_train=int(len(tr)))
            if not warmed:          # one untimed round first: a library's first call in a process pays its imports
                warmed = True
                for m in methods:
                    if m == "xgboost": continue
                    fit_probe(m, *args, engine=a.engine)
                    if not a.skip_paper: paper_probe(m, *args)
            for m in methods:
                t = time.perf_counter(); fit_probe(m, *args, engine=a.engine, **({"n_threads": a.threads} if m == "xgboost" else {}))
                rows.append(dict(cell, method=m, who="ours", s=time.perf_counter() - t))
            t = time.perf_counter(); fit_probe("sae", Z[tr], ytr, Z[te], y[te], k=ks, engine=a.engine)
            rows.append(dict(cell, method="sae k-list", who="ours", s=time.perf_counter() - t))
            if not a.skip_paper:
                for m in methods:
                    t = time.perf_counter(); paper_probe(m, *args)
                    rows.append(dict(cell, method=m, who="paper", s=time.perf_counter() - t))
                t = time.perf_counter(); paper_sae(Z, y, tr, te, ks, y_train=ytr)
                rows.append(dict(cell, method="sae k-list", who="paper", s=time.perf_counter() - t))
        if rows_file:   # the dataset's rows at once: a dataset is in the file whole or not at all
            with open(rows_file, "a") as fh: fh.write("".join(json.dumps(dict(r, regime=a.regime)) + "\n" for r in rows if r["dataset"] == ds))
        print(f"{ds}: {len(values)} cells done", file=sys.stderr, flush=True)
    if rows_file:
        rows = [r for r in saved() if r.get("regime") == a.regime and r["dataset"] in names]
        names = sorted({r["dataset"] for r in rows}, key=names.index)
    df = pd.DataFrame(rows)
    per_ds = df.groupby(["dataset", "method", "who"]).s.sum().reset_index()
    t = per_ds.pivot_table(index="method", columns="who", values="s", aggfunc="mean")
    t.loc["all methods"] = t.sum()
    out = pd.DataFrame({f"{w} s/dataset": t[w] for w in t.columns})
    for w in t.columns: out[f"{w} x113 (h, projected)"] = t[w] * 113 / 3600
    if "paper" in t.columns and "ours" in t.columns: out["ratio"] = t["paper"] / t["ours"]
    sizes = df.groupby("dataset").agg(cells=("value", "nunique"), max_n_train=("n_train", "max"))
    by_ds = per_ds.groupby(["dataset", "who"]).s.sum().unstack()
    if "paper" in by_ds and "ours" in by_ds: by_ds["ratio"] = by_ds["paper"] / by_ds["ours"]
    head = (f"# python bench/protocol_cost.py --regime {a.regime} --threads {a.threads} --datasets {' '.join(names)}"
            f"  ({t_start}, engine {a.engine})\n# {a.regime}: {len(names)} datasets measured, methods {methods} + SAE k-list {ks}")
    text = "\n".join([head, out.round(3).to_string(), "", "## per dataset (seconds, all methods)",
                      sizes.join(by_ds.round(2)).to_string()])
    print(text)
    if a.out:
        prev = Path(a.out).read_text() if Path(a.out).exists() else ""
        Path(a.out).write_text(text + "\n\n" + prev)

if __name__ == "__main__": main()
