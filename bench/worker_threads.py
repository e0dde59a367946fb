"""Why probe workers pin numpy/scipy's BLAS to one thread: the same logreg fits in one worker per core, BLAS pool
left at its default (as before 2026-12-02) against pinned to 1 thread (`saeprobe.run.probe_threads`, which the
run's workers use).

Each worker fits the paper's logreg (sklearn lbfgs, reference engine) on one cached dataset's label-noise split
(30% of training labels flipped: the regime where lbfgs runs to max_iter). Prints wall seconds for both, and
their ratio, measured in the same run.

    python bench/worker_threads.py [--datasets A B] [--noise 0.3]
"""
import argparse, os, sys, time

def _work(args):
    ds, noise, pin = args
    import torch; torch.set_num_threads(1)
    import contextlib
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import load
    from saeprobe.pipeline import config_for
    from saeprobe.regimes import regime_split
    from saeprobe.probes import fit_probe
    from saeprobe.run import probe_threads
    cfg, _ = config_for("full")
    y, X, _ = load(cfg, ds)
    s = regime_split("label_noise", y, noise, 42)
    t = time.perf_counter()
    with probe_threads() if pin else contextlib.nullcontext():
        r = fit_probe("logreg", X[s.train], s.y_train, X[s.test], y[s.test], engine="reference")
    return ds, time.perf_counter() - t, r.test_auc

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="*", default=["117_us_state_FL", "22_headline_isobama"])
    ap.add_argument("--noise", type=float, default=0.3)
    a = ap.parse_args(argv)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    n = os.cpu_count() or 1
    print(f"# {len(a.datasets)} datasets, one worker per core ({n}), label noise {a.noise}")
    res = {}
    for pin in (False, True):
        with ProcessPoolExecutor(min(n, len(a.datasets)), mp_context=mp.get_context("spawn")) as ex:
            t = time.perf_counter(); out = list(ex.map(_work, [(d, a.noise, pin) for d in a.datasets])); wall = time.perf_counter() - t
        res[pin] = wall
        for ds, secs, auc in out: print(f"{'pinned ' if pin else 'default'}  {ds}: {secs:.1f} s (test AUC {auc:.4f})")
        print(f"{'pinned ' if pin else 'default'}  wall {wall:.1f} s")
    print(f"ratio default / pinned: {res[False] / res[True]:.1f}x")

if __name__ == "__main__": main()
