"""What the bench scripts share: thread pinning, the cached datasets of the embedded default, and the paper's probes."""
import os, warnings

def pin_threads(n: int) -> None:
    "Run torch, BLAS and OpenMP on `n` threads (call before the heavy imports do work)."
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"): os.environ[v] = str(n)
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(n); threadpool_limits(n); warnings.filterwarnings("ignore")

def cached_datasets(cfg, names=None, limit: int | None = None) -> list[str]:
    "`names`, or every dataset whose activations `cfg` has cached (OOD sets excluded), at most `limit`."
    root = cfg.cache_path / "acts" / cfg.model_ref.name / f"layer{cfg.layer}"
    names = names or sorted(p.stem for p in root.glob("*.safetensors") if not p.stem.endswith("__ood"))
    return names[:limit]

def load(cfg, ds):
    "(labels, dense activations, CSR latents) of dataset `ds` from the caches of `cfg`."
    import numpy as np, scipy.sparse as sp
    from saeprobe.datasets import load_dataset
    from saeprobe.run import RunConfig, features
    X, Z = features(RunConfig.from_dict({**cfg.to_dict(), "datasets": [ds]}), ds)
    return load_dataset(ds).label.to_numpy(), np.asarray(X), sp.csr_matrix(Z)

def paper_probe(method: str, *args):
    """The paper's `find_best_*` for a baseline on (X_train, y_train, X_test, y_test), seeded as `sae-probes` runs
    them (`run_baselines`' DEFAULT_SEED 42: `find_best_reg`'s own default, 1, would draw other 6-fold CV folds than
    SPEC Table 5's and ours at 12 < n < 128; the benches up to 2026-12-02 compared against those)."""
    import sae_probes.utils_training as ut
    return {"logreg": lambda: ut.find_best_reg(*args, penalty="l2", seed=42), "pca": lambda: ut.find_best_pcareg(*args),
            "knn": lambda: ut.find_best_knn(*args, n_jobs=1), "xgboost": lambda: ut.find_best_xgboost(*args),
            "mlp": lambda: ut.find_best_mlp(*args)}[method]()

def paper_sae(Z, y, tr, te, ks, y_train=None) -> list:
    """The paper's SAE probes: `find_best_reg` (L1, seed 42 as `run_sae_evals` passes it) on the top-k latents of one
    normalised ranking, dense as it passes them. `y_train`: the training labels the probe sees (default `y[tr]`; the
    flipped ones under label noise, which the ranking uses too)."""
    import sae_probes.utils_training as ut
    from saeprobe.sae import rank_latents
    ytr = y[tr] if y_train is None else y_train
    order = rank_latents(Z[tr], ytr, "normalized")
    return [ut.find_best_reg(Z[tr][:, order[:k]].toarray(), ytr, Z[te][:, order[:k]].toarray(), y[te], penalty="l1", seed=42)
            for k in ks]

def block_flops(cfg, T: float) -> float:
    "FLOPs of one decoder block for one token of a T-token prompt: the projections, the MLP and the attention scores."
    d, ff = cfg.hidden_size, cfg.intermediate_size
    H, KV = cfg.num_attention_heads, cfg.num_key_value_heads
    hd = getattr(cfg, "head_dim", None) or d // H
    proj = 2 * d * (H * hd + 2 * KV * hd) + 2 * H * hd * d        # q, k, v, o
    mlp = 2 * 3 * d * ff                                          # gate, up, down
    attn = 2 * 2 * H * hd * (T + 1) / 2                           # scores and values over the causal prefix, on average
    return proj + mlp + attn

def gemm_gflops(d: int, ff: int, seconds: float = 2.0, per_cpu: bool = False) -> float:
    """torch's fp32 matrix product at a decoder block's shape (1,024 rows × d by d × ff), GFLOP/s on torch's threads now.
    `per_cpu`: GFLOP per CPU second of this process instead of per wall second, for comparing with a rate per CPU second
    measured while other processes shared the cores (they still share caches and memory bandwidth: the caller says so)."""
    import time, torch
    A, B = torch.randn(1024, d), torch.randn(d, ff)
    for _ in range(3): A @ B
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds: A @ B; n += 1
    return 2 * 1024 * d * ff * n / ((time.process_time() - c0) if per_cpu else (time.perf_counter() - t0)) / 1e9
