"""The full protocol's committed results (`results/embedded-full/`). The run goes on in parts (`bench/full_run.sh`'s
`part` stage), each batch of datasets in `parts/NAME/` with three sweeps: `regimes` (normal, scarcity, imbalance,
label noise with the embedded SAE), `ood` (its OOD datasets) and `family` (the normal regime with the four family
SAEs; a part whose family sweep has not run yet has none). What a part commits must be what the next machine resumes
from: it restores into a cache, every dataset it names has every regime and method of the full profile, its manifest
names the commit and config hash, and a cell that could not be fitted is listed, never dropped."""
import json
from pathlib import Path
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTS = ROOT / "results" / "embedded-full" / "parts"
TABLES = sorted(PARTS.glob("*/*/results.parquet"))
pytestmark = pytest.mark.skipif(not TABLES, reason="no part of the full run is committed")

BASELINES = ["logreg", "pca", "knn", "xgboost", "mlp"]
METHODS = {"normal": BASELINES + ["sae"], "scarcity": BASELINES + ["sae"], "imbalance": BASELINES + ["sae"],
           "label_noise": ["logreg", "sae"], "ood": ["logreg", "sae"]}
FAMILY = ["embedded", "topk-w1024-k32", "topk-w4096-k8", "topk-w4096-k128"]


def _table(part: Path, sweep: str) -> pd.DataFrame:
    return pd.read_parquet(part / sweep / "results.parquet")


def test_the_parts_restore_into_a_new_cache(tmp_path):
    from saeprobe.sweep import restore_tasks
    keys = [set(pd.read_parquet(f, columns=["unit_hash"]).unit_hash) for f in TABLES]
    r = restore_tasks([PARTS], tmp_path)
    # each task once (a baseline of the normal regime is in a part's `regimes` and `family` tables alike)
    assert r == dict(tables=len(TABLES), restored=len(set().union(*keys)), present=sum(map(len, keys)) - len(set().union(*keys)),
                     skipped=0)


def test_each_manifest_names_its_commit_config_and_failed_cells():
    for f in sorted(PARTS.glob("*/*/manifest.json")):
        m = json.loads(f.read_text())
        c = m["config"]
        assert (c["profile"], c["seed"]) == ("full", 42), f
        assert len(m["provenance"]["git_commit"]) == 40, f"{f}: {m['provenance']['git_commit']} (a dirty checkout?)"
        assert len(m["config_hash"]) == 16 and m["complete"] and not m["failed"], f
        df = pd.read_parquet(f.parent / "results.parquet")
        assert m["datasets_done"] == m["datasets_total"] == df.dataset.nunique() == len(c["datasets"]), f
        bad = df[df.error.notna()]
        listed = {(x["dataset"], x["regime"], x["regime_value"], x["method"]) for x in m["failed_cells"]}
        assert set(zip(bad.dataset, bad.regime, bad.regime_value, bad.method)) == listed, f


def test_every_dataset_of_a_part_has_every_regime_method_and_sae():
    from saeprobe.datasets import list_datasets, list_ood_datasets
    from saeprobe.probes import SAE_KS
    seen = set()
    for part in sorted(f.parent.parent for f in PARTS.glob("*/regimes/results.parquet")):
        reg = _table(part, "regimes")
        datasets = set(reg.dataset)
        assert datasets <= set(list_datasets()) and not datasets & seen, part    # each dataset in one part
        seen |= datasets
        ood = sorted(datasets & set(list_ood_datasets()))
        tables = [reg] + ([_table(part, "ood")] if ood else [])
        assert not ood or set(tables[1].dataset) == set(ood), part
        for df in tables:
            for (d, regime), g in df.groupby(["dataset", "regime"]):
                assert sorted(g.method.unique()) == sorted(METHODS[regime]), (part, d, regime)
                ks = {int(k) for k in g.k.dropna()}
                assert ks == (set(SAE_KS) if regime == "normal" else {16, 128}), (part, d, regime, ks)
        assert set(reg.regime) == {"normal", "scarcity", "imbalance", "label_noise"}, part
        assert reg.groupby("dataset").regime.nunique().eq(4).all(), part
        if not (part / "family" / "results.parquet").exists(): continue   # its family sweep not run yet (see the note)
        fam = _table(part, "family")
        for d, g in fam.groupby("dataset"):
            assert sorted(g.sae.dropna().unique()) == sorted(FAMILY), (part, d)
        assert set(fam.dataset) == datasets, part
