#!/usr/bin/env bash
# The paper's whole protocol at full scale on the embedded default (Gemma 3 270M layer 9, its TopK SAE): all 113
# datasets in all five regimes (OOD: its 8 sets) with the five baselines and the SAE probes, seed 42, then the normal
# regime for three more SAEs of the SAE-family study. Every stage fills the cache, so a killed run loses at most the
# entry in flight: run this again and it goes on. Each cache entry records what computing it cost (a sweep's
# timings.csv and manifest `recorded_timings` add them up); stages.log has the wall-clock stamps of each part run.
#
#   bash bench/full_run.sh [OUT]      OUT defaults to results/embedded-full-run (untracked); the committed
#                                     results/embedded-full/ was made with OUT=results/embedded-full.
# Environment: JOBS (processes / probe workers, default: the cores), PAPER (the paper's results folder, for the
# main table's Gemma-2-9B rows; default ../shared/paper_results, or 'download'), FAMILY (where the family SAEs go),
# STAGES (any of: restore extract family part probes; default: restore extract family probes).
#
# On a machine that may go away with its cache (a session's VM, a preemptible node), run it in parts that leave their
# results in OUT, which is kept (committed, on shared storage): `STAGES="restore family part"` with PART_DATASETS (a
# file, one dataset per line) probes those datasets -- extracting them, the five regimes with the embedded SAE, the
# normal regime with the family SAEs -- in batches of BATCH (default 8), each batch's sweeps written to
# OUT/parts/NAME-NNN/{regimes,ood,family} (PART_SWEEPS: which of the three; default all). The family SAEs are kept in
# OUT/family-saes (the `family` stage copies them there, and back into FAMILY on a new machine instead of retraining:
# 1.35 h of two cores here; the tasks' keys hold the SAEs' path and weights' hash, so FAMILY must stay the same path).
# `restore` (first in every run) puts every finished task of OUT/parts back into the cache (`saeprobe restore`):
# nothing finished is computed again, and a dataset whose tasks are all finished is not extracted. Edit this file only
# by replacing it (mv), never in place while it runs: bash reads it as it goes.
set -euo pipefail
OUT=${1:-results/embedded-full-run}
JOBS=${JOBS:-$(nproc)}
PAPER=${PAPER:-../shared/paper_results}
FAMILY=${FAMILY:-${SAEPROBE_CACHE:-$HOME/.cache/saeprobe}/sae-family-full}
STAGES=${STAGES:-restore extract family probes}
FAMILY_SAES=(topk-w1024-k32 topk-w4096-k8 topk-w4096-k128)   # with the embedded topk-w4096-k32: 2 widths x 3 L0
mkdir -p "$OUT"
stamp() { echo "$(date -u +%FT%TZ) $*" | tee -a "$OUT/stages.log" >&2; }
parallel() {   # run "$@" in JOBS processes (one BLAS thread each) that share the datasets through the cache's locks
    local pids=() rc=0
    for _ in $(seq "$JOBS"); do OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$@" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || rc=$?; done
    return $rc
}

if [[ " $STAGES " == *" restore "* && -d "$OUT/parts" ]]; then
    stamp "restore: the finished tasks of $OUT/parts"
    saeprobe restore "$OUT/parts"
fi
if [[ " $STAGES " == *" extract "* ]]; then
    stamp "extract: 113 datasets, then the 8 OOD sets ($JOBS processes)"
    parallel saeprobe extract --profile full
    parallel saeprobe extract --profile full --regime ood
    stamp "extract: done"
fi
if [[ " $STAGES " == *" family "* ]]; then
    for n in "${FAMILY_SAES[@]}"; do   # trained by an earlier part on a machine since gone: kept in OUT, not retrained
        if [[ -f "$OUT/family-saes/$n/training.json" && ! -f "$FAMILY/$n/training.json" ]]; then
            mkdir -p "$FAMILY" && cp -r "$OUT/family-saes/$n" "$FAMILY/"
        fi
    done
    stamp "family: train ${FAMILY_SAES[*]} (the embedded SAE's recipe: 400k tokens of debian text, 4 epochs)"
    OMP_NUM_THREADS=$JOBS python - "$FAMILY" "${FAMILY_SAES[@]}" <<'EOF'
import sys
from saeprobe.sae_family import SAESpec, train_family
specs = [SAESpec("topk", int(n.split("-w")[1].split("-")[0]), int(n.split("-k")[1])) for n in sys.argv[2:]]
assert [s.name for s in specs] == sys.argv[2:], [s.name for s in specs]
print(train_family(specs, "embedded", 9, sys.argv[1], epochs=4.0))
EOF
    mkdir -p "$OUT/family-saes"   # kept beside the parts (~24 MB): the next machine reuses them instead of training again
    for n in "${FAMILY_SAES[@]}"; do [[ -f "$OUT/family-saes/$n/training.json" ]] || cp -r "$FAMILY/$n" "$OUT/family-saes/"; done
    stamp "family: done"
fi
if [[ " $STAGES " == *" part "* ]]; then
    mapfile -t WANT < "${PART_DATASETS:?PART_DATASETS: a file naming the datasets of this part, one per line}"
    mapfile -t OODS < <(saeprobe datasets --ood)
    BATCH=${BATCH:-8}
    PART_SWEEPS=${PART_SWEEPS:-regimes ood family}
    NAME=${PART_NAME:-$(date -u +%Y%m%dT%H%M)}
    for ((i = 0; i < ${#WANT[@]}; i += BATCH)); do
        B=("${WANT[@]:i:BATCH}")
        P="$OUT/parts/$NAME-$(printf %03d $((i / BATCH)))"
        BO=(); for d in "${B[@]}"; do [[ " ${OODS[*]} " == *" $d "* ]] && BO+=("$d"); done
        stamp "part: ${#B[@]} datasets -> $P (${B[*]})"
        S=(--profile full --datasets "${B[@]}" --jobs "$JOBS" --no-figures)
        if [[ " $PART_SWEEPS " == *" regimes "* ]]; then
            saeprobe sweep "${S[@]}" --regimes normal scarcity imbalance label_noise --sae embedded --out "$P/regimes"
        fi
        if [[ " $PART_SWEEPS " == *" ood "* && ${#BO[@]} -gt 0 ]]; then
            saeprobe sweep --profile full --datasets "${BO[@]}" --jobs "$JOBS" --no-figures --regimes ood --sae embedded \
                --out "$P/ood"
        fi
        if [[ " $PART_SWEEPS " == *" family "* ]]; then
            saeprobe sweep "${S[@]}" --regimes normal --sae embedded $(printf -- "--sae $FAMILY/%s " "${FAMILY_SAES[@]}") \
                --out "$P/family"
        fi
    done
    stamp "part: done"
fi
if [[ " $STAGES " == *" probes "* ]]; then
    stamp "probes: every regime, the embedded SAE (reproduce: extract -> run -> figure per regime, then the summary)"
    saeprobe reproduce --profile full --regimes all --out "$OUT" --paper "$PAPER" --jobs "$JOBS"
    stamp "probes: the normal regime for the family SAEs beside the embedded one (sweep; SAEBench files)"
    saeprobe sweep --profile full --regimes normal --sae embedded $(printf -- "--sae $FAMILY/%s " "${FAMILY_SAES[@]}") \
        --out "$OUT/family" --jobs "$JOBS"
    stamp "probes: done"
fi
