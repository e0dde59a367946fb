"""Attention implementation and batch shape on long prompts: tokens/s of the embedded model's forward pass to layer L
with `sdpa` (transformers' default, what the extraction uses) and `eager` attention, on batches cut from a dataset's
prompts sorted by length as `extract_last_token` sorts them, at several length quantiles and batch sizes; and how far
the two implementations' last-token activations differ.

    python bench/attention_impl.py [--dataset 48_cm_correct] [--threads 1] [--quantiles 0.5 0.9 0.99] [--batch 8 32]
"""
import argparse, time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="48_cm_correct")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layer", type=int, default=9)
    ap.add_argument("--quantiles", nargs="+", type=float, default=[0.5, 0.9, 0.99])
    ap.add_argument("--batch", nargs="+", type=int, default=[8, 32])
    a = ap.parse_args(argv)
    import numpy as np, torch
    from saeprobe.activations import load_model, tokenize, run_to_layer
    from saeprobe.datasets import load_dataset
    torch.set_num_threads(a.threads)
    lm = load_model()
    ids = tokenize(lm.tokenizer, load_dataset(a.dataset).prompt.tolist())
    lens = np.array([len(x) for x in ids])
    order = np.argsort(lens, kind="stable")
    cfg = lm.model.config.get_text_config()
    print(f"# attention_impl: {a.dataset}, {len(ids)} prompts, mean {lens.mean():.0f} tokens, max {lens.max()}; "
          f"{a.threads} thread(s); default implementation {cfg._attn_implementation}")
    print("quantile  batch  max_len  tokens  sdpa_tok_s  eager_tok_s  eager/sdpa  max_abs_diff  max_abs_act")
    for q in a.quantiles:
        for bs in a.batch:
            rows = order[int(q * len(ids)):][:bs]
            batch = [ids[i] for i in rows]
            res = {}
            for impl in ("sdpa", "eager"):
                lm.model.config._attn_implementation = cfg._attn_implementation = impl
                run_to_layer(lm, batch[:2], a.layer)                         # warm-up
                t = time.perf_counter()
                h, n = run_to_layer(lm, batch, a.layer)
                res[impl] = h[torch.arange(len(rows)), n - 1].numpy(), time.perf_counter() - t
            lm.model.config._attn_implementation = cfg._attn_implementation = "sdpa"
            tok = sum(len(x) for x in batch)
            s, e = tok / res["sdpa"][1], tok / res["eager"][1]
            print(f"{q:8.2f}  {bs:5d}  {max(len(x) for x in batch):7d}  {tok:6d}  {s:10.0f}  {e:11.0f}  {e / s:10.2f}  "
                  f"{np.abs(res['sdpa'][0] - res['eager'][0]).max():12.2e}  {np.abs(res['sdpa'][0]).max():11.1f}")


if __name__ == "__main__":
    main()
