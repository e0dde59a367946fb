"""Where the extraction's time goes: this machine's fp32 matrix-product throughput against the tokens per second the
embedded model's extraction reaches, as a share of that limit.

Measures (1) torch's fp32 GEMM at the shapes of the embedded model's blocks (rows × d_model by d_model × d_ff) at each
thread count, in GFLOP/s; (2) `extract_last_token` on `--prompts` prompts of `--dataset` (nothing cached: the forward
passes themselves), in prompts/s and tokens/s, and the FLOPs those tokens cost through layer L (the block matrices
and the attention scores, from the model's config): the achieved GFLOP/s and their share of (1).

    python bench/where_time_goes.py [--threads 1 2] [--dataset 87_glue_cola] [--prompts 256]
"""
import argparse, os, sys, time
from common import block_flops, gemm_gflops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--dataset", default="87_glue_cola")
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--layer", type=int, default=9)
    a = ap.parse_args(argv)
    import numpy as np, torch
    from saeprobe.activations import load_model, extract_last_token, tokenize
    from saeprobe.datasets import load_dataset
    lm = load_model("embedded")
    cfg = lm.model.config
    prompts = load_dataset(a.dataset).prompt.tolist()[: a.prompts]
    lens = np.array([len(x) for x in tokenize(lm.tokenizer, prompts)])
    flops = sum(float(block_flops(cfg, T)) * T * (a.layer + 1) for T in lens)
    d, ff = cfg.hidden_size, cfg.intermediate_size
    print(f"# where_time_goes: {os.cpu_count()} CPUs; model d_model {d}, d_ff {ff}, layer {a.layer}; "
          f"{a.dataset}: {len(prompts)} prompts, {lens.sum()} tokens (mean {lens.mean():.0f}, max {lens.max()})")
    print("threads  gemm_GFLOPs  prompts/s  tokens/s  extract_GFLOPs  share_of_gemm")
    for t in a.threads:
        torch.set_num_threads(t)
        gemm = gemm_gflops(d, ff)
        extract_last_token(lm, prompts[:32], a.layer, progress=False)        # warm
        t0 = time.perf_counter(); extract_last_token(lm, prompts, a.layer, progress=False); s = time.perf_counter() - t0
        ach = flops / s / 1e9
        print(f"{t:7d}  {gemm:11.1f}  {len(prompts) / s:9.1f}  {lens.sum() / s:8.0f}  {ach:14.1f}  {ach / gemm:13.2f}")


if __name__ == "__main__": main()
