"""Merge the per-case JSON rows written by `probe_engine.py --json` (e.g. from runs split over cores) into its tables.

    python bench/summarize.py probe_engine_rows_l2.json probe_engine_rows_sae.json
"""
import sys
import pandas as pd

def table(df: pd.DataFrame) -> str:
    df = df.assign(d=(df.ours_auc - df.ref_auc).abs())
    g = df.groupby("method")
    tab = pd.DataFrame({"cases": g.size(), "mean|dAUC|": g.d.mean(), "max|dAUC|": g.d.max(), "same hp": g.same_hp.mean(),
                        "paper s": g.t_ref.sum(), "ours s": g.t_ours.sum()})
    tab["ratio"] = tab["paper s"] / tab["ours s"]
    if "paper_rerun_d" in df:  # the paper's code against itself (PCA: unseeded; logreg: columns permuted); NaN where not measured
        tab["paper vs paper"] = g.paper_rerun_d.mean()
        tab["pvp max"] = g.paper_rerun_d.max()
    if "paper_rerun_same_hp" in df: tab["pvp same hp"] = df.paper_rerun_same_hp.astype(float).groupby(df.method).mean()
    g2 = df.groupby(["method", "size"])
    t2 = pd.DataFrame({"cases": g2.size(), "mean|dAUC|": g2.d.mean(), "max|dAUC|": g2.d.max(), "ratio": g2.t_ref.sum() / g2.t_ours.sum()})
    if "paper_rerun_d" in df: t2["paper vs paper"] = g2.paper_rerun_d.mean(); t2["pvp max"] = g2.paper_rerun_d.max()
    return tab.round(4).to_string() + "\n\nby training size:\n" + t2.round(4).to_string()

if __name__ == "__main__":
    pd.set_option("display.width", 200)
    print(table(pd.concat([pd.read_json(p) for p in sys.argv[1:]], ignore_index=True)))
