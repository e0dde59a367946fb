"""Where the full run's time went, from what its caches recorded: per stage, per regime and per method the wall and CPU
seconds of every entry (whichever part of a run made in parts computed it), the extraction's tokens per CPU second
against this machine's fp32 matrix-product limit, and a projection of the same run on a 16-core box with a GPU.

Reads `OUT/*/timings.csv` (written beside every manifest of `saeprobe reproduce --out OUT` and `saeprobe sweep
--out OUT/family`, as `bench/full_run.sh OUT` runs them) and `OUT/parts/*/*/timings.csv` (its parts' sweeps),
the family SAEs' `training.json` (`--family`),
`OUT/summary/timings.json` (each notebook's wall time in the invocation that ran it) and `OUT/stages.log`. The
extraction's FLOPs are counted from the token lengths of every prompt (tokenizer of the embedded model) through block
`--layer`: the projections and MLP (~112 MFLOP a token through layer 9) plus the causal attention scores.

    python bench/full_run_time.py OUT [--family DIR] [--cores 16] [--gpu-tflops 20] [--threads 1]
"""
import argparse, json, os, sys
from pathlib import Path
from common import block_flops, gemm_gflops


def recorded(out: Path):
    """Every regime's (and the family sweep's) timings.csv, one row per cache entry (an extraction shared by regimes
    once; a task the family sweep shares with the normal regime counted in the regime, its folder read first)."""
    import pandas as pd
    files = sorted(out.glob("*/timings.csv"), key=lambda f: (f.parent.name == "family", f.parent.name))
    files += sorted(out.glob("parts/*/*/timings.csv"),   # the parts run on machines since gone (full_run.sh part)
                    key=lambda f: (f.parent.name == "family", str(f)))
    if not files: sys.exit(f"no */timings.csv under {out}: give the --out folder of `saeprobe reproduce` "
                           "(bench/full_run.sh's OUT)")
    cols = ["stage", "sae", "regime", "method", "dataset", "tokens", "tokens_timed", "seconds", "cpu_seconds"]
    t = pd.concat([pd.read_csv(f).reindex(columns=cols).assign(part=str(f.parent.relative_to(out))) for f in files],
                  ignore_index=True)
    # an entry once per key, its record where one folder has it: an extraction made by a part whose machine is gone
    # has no record in the final folders (their run restored its tasks and extracted nothing)
    t = t.sort_values("seconds", na_position="last", kind="stable")
    return t.drop_duplicates(["stage", "sae", "regime", "method", "dataset"]).sort_index().reset_index(drop=True)


def extraction_flops(datasets, layer: int) -> tuple[dict, object]:
    """({dataset: (tokens, FLOPs through block `layer`)} from the token lengths of its prompts ('__ood': its OOD set),
    the model's config)."""
    import numpy as np
    from saeprobe.activations import load_model, tokenize
    from saeprobe.datasets import load_dataset
    lm = load_model("embedded")
    res = {}
    for d in datasets:
        prompts = load_dataset(d.removesuffix("__ood"), ood=d.endswith("__ood")).prompt.tolist()
        T = np.array([len(x) for x in tokenize(lm.tokenizer, prompts)], dtype=float)
        res[d] = (int(T.sum()), float((block_flops(lm.model.config, T) * T).sum() * (layer + 1)))
    return res, lm.model.config


def h(s: float) -> str: return f"{s:.0f} s" if s < 600 else f"{s / 3600:.2f} h"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--family", type=Path, default=Path(os.environ.get("SAEPROBE_CACHE", Path.home() / ".cache/saeprobe"))
                    / "sae-family-full", help="folder of the family SAEs (their training.json)")
    ap.add_argument("--layer", type=int, default=9)
    ap.add_argument("--cores", type=int, default=16, help="CPU cores of the projected GPU box")
    ap.add_argument("--gpu-tflops", type=float, default=20.0,
                    help="fp32 TFLOP/s the projected GPU sustains in the extraction (default 20: ~30%% of an H100's "
                         "67 without TF32; an assumption, not a measurement)")
    ap.add_argument("--threads", type=int, default=1, help="threads per extraction process in the run (for the limit)")
    a = ap.parse_args(argv)
    import torch
    torch.set_num_threads(a.threads)
    t = recorded(a.out)
    print(f"# full_run_time: {a.out} ({len(t)} cache entries in {t.part.nunique()} parts); {os.cpu_count()} CPUs here")

    # the extraction: tokens per CPU second against the GEMM limit
    ex = t[t.stage == "extract"].set_index("dataset")
    fl, cfg = extraction_flops(ex.index, a.layer)
    ex = ex.assign(all_tokens=[fl[d][0] for d in ex.index], flops=[fl[d][1] for d in ex.index])
    timed = ex[ex.cpu_seconds.notna() & (ex.tokens_timed > 0)]
    share = timed.tokens_timed / timed.tokens                   # resumed chunks without a record: FLOPs pro rata
    gemm = gemm_gflops(cfg.hidden_size, cfg.intermediate_size, per_cpu=True)   # the run's rate is per CPU second
    if (load := os.getloadavg()[0]) > 0.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs while the GEMM rate was measured (per CPU second; "
              "processes sharing the cores still share caches and memory bandwidth): for the final figure, measure on an idle machine")
    ach = float((timed.flops * share).sum() / timed.cpu_seconds.sum() / 1e9) if len(timed) else float("nan")
    tok_cpu = float(timed.tokens_timed.sum() / timed.cpu_seconds.sum()) if len(timed) else float("nan")
    mflop_tok = ex.flops.sum() / ex.all_tokens.sum() / 1e6
    print(f"\n## Extraction: {len(ex)} prompt sets, {ex.all_tokens.sum() / 1e6:.2f} M tokens, {mflop_tok:.1f} MFLOP a "
          f"token through block {a.layer} on average ({ex.flops.sum() / 1e15:.2f} PFLOP)")
    print(f"timed: {len(timed)} sets, {timed.tokens_timed.sum() / 1e6:.2f} M tokens, {h(timed.seconds.sum())} wall and "
          f"{h(timed.cpu_seconds.sum())} CPU in one-process-per-core runs of {a.threads} thread(s)")
    print(f"{tok_cpu:.0f} tokens per CPU second = {ach:.1f} GFLOP/s per process; this machine's fp32 GEMM per CPU second at the block's "
          f"shape on {a.threads} thread(s): {gemm:.1f} GFLOP/s -> {ach / gemm:.0%} of the limit")
    untimed = ex.all_tokens[~ex.index.isin(timed.index)].sum()
    cpu_ex = float(ex.flops.sum() / (ach * 1e9)) if len(timed) else float("nan")
    print(f"whole extraction at that rate: {h(cpu_ex)} CPU ({untimed / 1e6:.2f} M tokens in sets computed before "
          f"the records, counted at the measured rate)")

    # the SAE family's training
    fam = [json.loads(p.read_text()) for p in sorted(a.family.glob("*/training.json"))] if a.family.is_dir() else []
    train = sum(f["seconds"]["train"] for f in fam)
    collect = max((f["seconds"]["collect"] for f in fam), default=0.0)   # the training activations: collected once
    if fam: print(f"\n## SAE family: {len(fam)} SAEs trained ({a.family}), wall: activations collected once {collect:.0f} s, "
                  f"training {train:.0f} s (" + ", ".join(f"{f['arch']}-w{f['d_sae']}-k{f['k']} {f['seconds']['train']:.0f} s"
                                                   for f in fam) + ")")

    # the encodings and the probes
    enc = t[t.stage == "encode"]
    pr = t[t.stage.isin(["baselines", "sae_probes"])]
    print(f"\n## SAE encodings: {len(enc)} entries, {enc.seconds.sum():.0f} s wall, {enc.cpu_seconds.sum():.0f} s CPU")
    print("\n## Probes, per regime (one thread a task)\n")
    print("| regime | tasks | timed | wall | CPU | longest task | XGBoost | SAE probes |\n|---|---|---|---|---|---|---|---|")
    family = pr.part.str.endswith("family")       # the family sweep's own tasks (OUT/family or a part's family/)
    for (fam, regime), g in pr.groupby([family, "regime"], sort=False):
        cpu = g.cpu_seconds.sum()
        sh = lambda m: f"{g.cpu_seconds[g.method == m].sum() / cpu:.0%}" if cpu else "—"
        name = regime + (" (family SAEs)" if fam else "")
        print(f"| {name} | {len(g)} | {g.seconds.notna().sum()} | {h(g.seconds.sum())} | {h(cpu)} | "
              f"{g.seconds.max():.0f} s | {sh('xgboost')} | {sh('sae')} |")
    print("\n| method | tasks | CPU | share |\n|---|---|---|---|")
    for m, g in pr.groupby("method", sort=False):
        print(f"| {m} | {len(g)} | {h(g.cpu_seconds.sum())} | {g.cpu_seconds.sum() / pr.cpu_seconds.sum():.0%} |")

    # the invocations' wall clock
    tj, log = a.out / "summary" / "timings.json", a.out / "stages.log"
    if tj.exists():
        st = json.loads(tj.read_text())["stages_s"]
        print("\n## Notebook wall time (saeprobe reproduce, the invocation that ran each):",
              ", ".join(f"{k} {v / 60:.1f} min" for k, v in st.items()))
    if log.exists(): print("\n## stages.log\n" + log.read_text().strip())

    # totals and the projection
    cpu_probes = float(pr.cpu_seconds.sum())
    total = cpu_ex + collect + train + float(enc.cpu_seconds.sum()) + cpu_probes
    print(f"\n## Total CPU: {h(total)} (extraction {h(cpu_ex)}, SAE family {h(collect + train)} (wall), encodings "
          f"{h(float(enc.cpu_seconds.sum()))}, probes {h(cpu_probes)}); on {os.cpu_count()} cores at least {h(total / os.cpu_count())}")
    gpu_ex = ex.flops.sum() / (a.gpu_tflops * 1e12)
    span = max(cpu_probes / a.cores, float(pr.seconds.max()))
    print(f"Projected on a {a.cores}-core box with a GPU: extraction {gpu_ex / 60:.1f} min at {a.gpu_tflops:g} TFLOP/s "
          f"(assumed, not measured), probes >= {span / 60:.0f} min ({h(cpu_probes)} CPU over {a.cores} one-thread "
          f"workers, at this machine's per-core speed; no task shorter than the longest, {pr.seconds.max():.0f} s)")


if __name__ == "__main__": main()
