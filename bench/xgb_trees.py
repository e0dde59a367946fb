"""XGBoost trees: `saeprobe.engine.xgb` (compiled, the same trees) against `xgboost.train` (the library `XGBClassifier` runs), same run.

Trains the paper's ten seeded configurations (`saeprobe.probes.xgb_configs`) on one training matrix with both, one
thread each, and prints per configuration the seconds of each side, the ratio, and whether the held-out
probabilities are identical. The matrix is a planted problem (Gaussian rows, a linear label with noise) at the
paper's largest fold size and the embedded model's width by default: activations are not needed.

    python bench/xgb_trees.py [--n 820] [--d 640] [--seed 0]
"""
import argparse, os, sys, time
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=820); ap.add_argument("--d", type=int, default=640)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import xgboost
    from saeprobe.engine.xgb import quantise, xgb_fit, booster_params
    from saeprobe.probes import xgb_configs
    rng = np.random.default_rng(a.seed)
    X = rng.standard_normal((a.n, a.d)).astype(np.float32); w = rng.standard_normal(a.d)
    y = (X @ w + 5 * rng.standard_normal(a.n) > 0).astype(float)
    Xv = rng.standard_normal((200, a.d)).astype(np.float32); dv = xgboost.DMatrix(Xv, nthread=1)
    xgb_fit(quantise(X), y, dict(xgb_configs()[0], n_estimators=1)).proba(Xv)   # compile or load the kernels, untimed
    print(f"# {a.n} x {a.d} planted rows, 1 thread, xgboost {xgboost.__version__}")
    print(f"{'depth':>5} {'trees':>5} {'library s':>10} {'ours s':>8} {'ratio':>6}  identical")
    tl = to = 0.0; same_all = True
    t = time.perf_counter(); dm = xgboost.QuantileDMatrix(X, label=y, max_bin=256, nthread=1); tl += time.perf_counter() - t
    t = time.perf_counter(); Q = quantise(X); to += time.perf_counter() - t
    for cfg in xgb_configs():
        p = booster_params(cfg)
        t = time.perf_counter(); b = xgboost.train(p, dm, int(cfg["n_estimators"])); pl = b.predict(dv); sl = time.perf_counter() - t
        t = time.perf_counter(); po = xgb_fit(Q, y, cfg).proba(Xv); so = time.perf_counter() - t
        same = bool(np.array_equal(pl, po)); same_all &= same; tl += sl; to += so
        print(f"{int(cfg['max_depth']):>5} {int(cfg['n_estimators']):>5} {sl:>10.2f} {so:>8.2f} {sl / so:>6.2f}  {same}")
    print(f"all (incl. quantising once): library {tl:.1f} s, ours {to:.1f} s, ratio {tl / to:.2f}x, identical {same_all}")

if __name__ == "__main__":
    main()
