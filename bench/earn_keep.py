"""What each compiled port earns (issue 21): per regime, the time it saves per dataset against the library routine it
copies, beside the lines it costs.

For every regime (normal, scarcity, imbalance, label noise) and every cell of its quick grid on the cached datasets
of the embedded default, each method is fitted twice on the same split, one thread, timed in this run:
`port` — `fit_probe(..., engine="fast")`, the batched engine with the compiled port — and `library` — the same
batched engine with the port swapped for the routine it copies where the engine can call that routine
(lbfgs: scipy's L-BFGS-B stepped by `setulb`; XGBoost: `xgboost.train`; kNN test votes: sklearn's
`KNeighborsClassifier`), else the paper's own call (`engine="reference"`: the MLP and the L1 SAE probes — sklearn's
`MLPClassifier` and saga, one fit at a time). Both must give the same test AUC up to the port's documented rounding
(printed). `reference` — the paper's code path (`engine="reference"`: the library one fit per (candidate, fold)) —
is the whole batched engine's baseline: `t_reference / t_port` is what engine and port together save (for the MLP and
the SAE probes `library` is that call already). The regimes' methods are the paper's: every baseline and the SAE
probes at k = 16, 128; label noise: logreg and the SAE probes.

    python bench/earn_keep.py [--datasets N] [--regimes normal scarcity imbalance label_noise] [--out bench/earn_keep_results.txt]
"""
import argparse, functools, os, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PORTS = {"logreg": "lbfgs", "pca": "lbfgs", "mlp": "mlp", "xgboost": "xgb", "sae": "saga"}   # kNN's port: folded back (2026-12-06)


def lines_of(module: str) -> int:
    "Non-blank, non-comment lines of `saeprobe/engine/<module>.py`: what the port costs to keep."
    src = (HERE.parent / "saeprobe" / "engine" / f"{module}.py").read_text().splitlines()
    return sum(1 for l in src if l.strip() and not l.strip().startswith("#"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=5, help="how many of the quick profile's datasets (cached)")
    ap.add_argument("--regimes", nargs="+", default=["normal", "scarcity", "imbalance", "label_noise"])
    ap.add_argument("--out", default=str(HERE / "earn_keep_results.txt"))
    a = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from common import pin_threads, load
    pin_threads(1)
    import numpy as np, pandas as pd
    import saeprobe.engine.batched as B
    from saeprobe.pipeline import config_for, QUICK_DATASETS, QUICK_GRIDS
    from saeprobe.probes import fit_probe
    from saeprobe.regimes import regime_split

    def library(method, *args, **kw):
        "The batched engine with the port swapped for the library routine it copies (or the paper's call)."
        if method in ("mlp", "sae"): return fit_probe(method, *args, engine="reference", **kw)
        if method == "xgboost": return fit_probe(method, *args, xgb_impl="library", n_threads=1, **kw)
        orig, B.lbfgs_l2 = B.lbfgs_l2, functools.partial(B.lbfgs_l2, impl="setulb")   # logreg, pca
        try: return fit_probe(method, *args, **kw)
        finally: B.lbfgs_l2 = orig

    cfg, _ = config_for("full", regime="normal")
    names = list(QUICK_DATASETS)[: a.datasets]
    rows = []
    for regime in a.regimes:
        methods = ["logreg", "sae"] if regime == "label_noise" else ["logreg", "pca", "xgboost", "mlp", "sae"]
        for ds in names:
            y, X, Z = load(cfg, ds)
            for value in (QUICK_GRIDS.get(regime) or (0,)):
                s = regime_split(regime, y, value, 42)
                for m in methods:
                    F = Z if m == "sae" else X
                    args = (F[s.train], s.y_train, F[s.test], y[s.test])
                    kw = dict(k=[16, 128]) if m == "sae" else {}
                    ours_kw = dict(kw, n_threads=1) if m == "xgboost" else kw
                    t = time.perf_counter(); o = fit_probe(m, *args, **ours_kw); t_port = time.perf_counter() - t
                    t = time.perf_counter(); r = library(m, *args, **kw); t_lib = time.perf_counter() - t
                    t_ref = t_lib
                    if m not in ("mlp", "sae"):
                        t = time.perf_counter(); fit_probe(m, *args, engine="reference", **kw); t_ref = time.perf_counter() - t
                    o, r = (o if isinstance(o, list) else [o]), (r if isinstance(r, list) else [r])
                    rows.append(dict(regime=regime, dataset=ds, value=value, method=m, t_port=t_port, t_library=t_lib,
                                     t_reference=t_ref, d_auc=max(abs(x.test_auc - z.test_auc) for x, z in zip(o, r))))
            print(f"{regime} {ds}: done", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    per = df.groupby(["regime", "method", "dataset"])[["t_port", "t_library", "t_reference"]].sum().groupby(["regime", "method"]).mean()
    per["saved_s_per_dataset"] = per.t_library - per.t_port
    per["ratio"] = per.t_library / per.t_port
    per["ratio_vs_reference"] = per.t_reference / per.t_port
    per["max_d_auc"] = df.groupby(["regime", "method"]).d_auc.max()
    per["port"] = [PORTS[m] for _, m in per.index]
    per["port_lines"] = [lines_of(PORTS[m]) for _, m in per.index]
    lines = [f"# bench/earn_keep.py: {len(names)} datasets {names}, regimes {a.regimes} (quick grids), 1 thread; "
             "seconds per dataset, summed over the regime's cells",
             per.round(3).to_string(), "",
             "## per port: seconds saved per dataset, by regime (lines it costs)"]
    saved = per.reset_index().groupby(["port", "regime"]).saved_s_per_dataset.sum().unstack().round(3)
    saved["lines"] = [lines_of(p) for p in saved.index]
    lines.append(saved.to_string())
    text = "\n".join(lines)
    print(text)
    prev = Path(a.out).read_text() if Path(a.out).exists() else ""
    Path(a.out).write_text(text + "\n\n" + prev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
