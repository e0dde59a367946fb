"""GPU check (issue 20), one short script for whoever is lent a GPU (<= 5 min on one GPU, cold cache included):

1. extraction: the embedded model's last-token activations of a few prompts of a few datasets on `cuda` and on `cpu`
   (max relative error per dataset; the activation cache keys differ by device, so nothing is mixed);
2. probes: every method with `probe_device="cuda"` and `"cpu"` on the same inputs (|dAUC|, chosen hyperparameters,
   the implementation each device ran, seconds).

Prints one table (and writes it to bench/gpu_check_results.txt). Usage:
    python bench/gpu_check.py [--datasets 87_glue_cola 117_us_state_FL 5_hist_fig_ismale] [--rows 400]
Without a GPU it says so and exits 1.
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["87_glue_cola", "117_us_state_FL", "5_hist_fig_ismale"])
    ap.add_argument("--rows", type=int, default=400, help="prompts per dataset (the first N of a seeded permutation)")
    ap.add_argument("--methods", nargs="+", default=["logreg", "pca", "knn", "xgboost", "mlp", "sae"])
    ap.add_argument("--out", default=str(HERE / "gpu_check_results.txt"))
    a = ap.parse_args(argv)
    import torch
    if not torch.cuda.is_available():
        print("gpu_check: torch sees no CUDA device; run this on the GPU machine", file=sys.stderr)
        return 1
    from saeprobe.activations import ModelRef, extract_last_token, EMBEDDED_LAYER
    from saeprobe.datasets import load_dataset
    from saeprobe.probes import fit_probe
    from saeprobe.sae import load_sae, encode_sparse

    lines = [f"# bench/gpu_check.py on {torch.cuda.get_device_name(0)}, torch {torch.__version__}",
             "## extraction: embedded model, layer 9, last token, fp32", "dataset | rows | cpu s | cuda s | max rel err"]
    lm = {d: ModelRef("embedded", device=d).load() for d in ("cpu", "cuda")}
    feats = {}
    for ds in a.datasets:
        df = load_dataset(ds)
        idx = np.random.RandomState(0).permutation(len(df))[: a.rows]
        prompts, y = df.prompt.to_numpy()[idx].tolist(), df.label.to_numpy()[idx]
        X, t = {}, {}
        for d in ("cpu", "cuda"):
            t0 = time.time(); X[d] = extract_last_token(lm[d], prompts, EMBEDDED_LAYER, batch_size=16, progress=False)
            t[d] = time.time() - t0
        rel = float(np.max(np.abs(X["cuda"] - X["cpu"])) / np.max(np.abs(X["cpu"])))
        lines.append(f"{ds} | {len(y)} | {t['cpu']:.1f} | {t['cuda']:.1f} | {rel:.2e}")
        feats[ds] = (X["cpu"], y)

    sae = load_sae("embedded", device="cpu")
    lines += ["", "## probes on the same (CPU-extracted) inputs: probe_device cuda vs cpu",
              "dataset | method | impl cpu | impl cuda | |dAUC| | same hyperparameters | cpu s | cuda s"]
    for ds, (X, y) in feats.items():
        n = len(y); tr, te = np.arange(int(0.8 * n)), np.arange(int(0.8 * n), n)
        Z = encode_sparse(sae, X)
        for m in a.methods:
            res, secs = {}, {}
            for d in ("cpu", "cuda"):
                t0 = time.time()
                if m == "sae":
                    res[d] = fit_probe("sae", Z[tr], y[tr], Z[te], y[te], k=[16, 128], device=d)
                else:
                    res[d] = [fit_probe(m, X[tr], y[tr], X[te], y[te], device=d)]
                secs[d] = time.time() - t0
            for rc, rg in zip(res["cpu"], res["cuda"]):
                hp = lambda r: {k: v for k, v in r.params.items() if k not in ("engine", "impl", "device")}
                lines.append(f"{ds} | {m}{'' if rc.k is None else f' k={rc.k}'} | {rc.params['impl']} | {rg.params['impl']} | "
                             f"{abs(rc.test_auc - rg.test_auc):.2e} | {hp(rc) == hp(rg)} | {secs['cpu']:.2f} | {secs['cuda']:.2f}")
    text = "\n".join(lines)
    print(text)
    Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
