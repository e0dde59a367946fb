"""Issue 5's studies: CLI, user annotation files, bounded multi-token storage, SAE lists — on the smoke fixtures."""
import json
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from saeprobe.cli import main
from saeprobe.core import SaeprobeError

def _smoke_cfg(cache, **kw):
    from saeprobe.pipeline import study_dirs
    return study_dirs("cola", "smoke", cache_dir=str(cache), **kw)[0]

def test_study_cli_cola_with_a_user_relabel_file(tmp_path, monkeypatch):
    "`saeprobe study cola` with a relabel file given by a relative path: tables, figure, and the disagreement count."
    from saeprobe.studies import synthetic_relabels
    synthetic_relabels(n_rows=300, flip=0.1).to_csv(tmp_path / "mine.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["study", "cola", "--profile", "smoke", "--cache-dir", str(tmp_path / "cache"), "--out", "out",
                 "--fig-dir", "figs", "-p", "relabels", "mine.csv", "-p", "label_column", "clean", "-p", "k", "16"]) == 0
    m = pd.read_csv(tmp_path / "out" / "metrics.csv")
    assert len(m) == 9 and set(m.condition) == {"original labels", "clean labels", "disagreements (clean labels)"}
    info = json.loads((tmp_path / "out" / "info.json").read_text())["info"]
    assert info["n_test"] == 300 and info["n_disagree"] == 30 and info["k"] == 16
    assert (tmp_path / "figs" / "studies" / "cola" / "cola_probes.pdf").exists()
    assert len(pd.read_csv(tmp_path / "out" / "examples.csv")) == 5

def test_bad_relabel_files_are_clear_errors(tmp_path, capsys):
    from saeprobe.studies import load_relabels
    p = tmp_path / "r.csv"; pd.DataFrame(dict(sentence=["a"], ensemble=[1])).to_csv(p, index=False)
    with pytest.raises(SaeprobeError, match=r"lacks column\(s\) \['prompt'\]"): load_relabels(p)
    pd.DataFrame(dict(prompt=["a"], ensemble=["grammatical"])).to_csv(p, index=False)
    with pytest.raises(SaeprobeError, match="not 0/1"): load_relabels(p)
    assert main(["study", "cola", "--profile", "smoke", "--cache-dir", str(tmp_path), "-p", "relabels", "/nonexistent.csv"]) == 2
    assert "does not exist" in capsys.readouterr().err

def test_paper_relabels_offline_is_a_clear_error(tmp_path, monkeypatch):
    import saeprobe.published as P
    from saeprobe.studies import fetch_relabels
    monkeypatch.setattr(P, "PUBLISHED_URL", "http://127.0.0.1:9/results")      # nothing listens on the discard port
    with pytest.raises(SaeprobeError, match=r"could not download http://127.0.0.1:9/results/.*87_glue_cola.*offline\? "
                                            r"pass a local copy \(e.g. paper_results/investigate"):
        fetch_relabels(tmp_path)
    assert not list(tmp_path.rglob("*.csv"))                                   # nothing half-written

def test_multitoken_storage_is_ragged_and_bounded(smoke, tmp_path):
    from saeprobe.activations import ModelRef, load_model, tokenize
    from saeprobe.datasets import load_dataset
    from saeprobe.multitoken import get_token_acts, sample_rows, MAX_TOKENS
    m, _, _ = smoke
    acts, rows = get_token_acts(ModelRef(m), 1, "95_toxic_is", max_rows=200, cache_dir=tmp_path, progress=False)
    d = load_dataset("95_toxic_is"); assert len(rows) == 200 and d.label.iloc[rows].mean() == 0.5
    lens = [len(x) for x in tokenize(load_model(m).tokenizer, d.prompt.iloc[rows].tolist(), MAX_TOKENS)]
    assert acts.flat.shape[0] == sum(lens) < 200 * MAX_TOKENS     # only real tokens are stored, none past 256
    assert max(lens) == MAX_TOKENS                                  # long prompts are left-truncated
    with pytest.raises(SaeprobeError, match="lower max_rows"):
        get_token_acts(ModelRef(m), 1, "95_toxic_is", max_rows=100, max_bytes=1e4, cache_dir=tmp_path, progress=False)

def test_ood_latents_with_a_relevance_file(smoke, tmp_path):
    from saeprobe.pipeline import study_dirs
    from saeprobe.studies import ood_latents
    cfg = study_dirs("ood-latents", "smoke", cache_dir=str(tmp_path))[0]
    auto = ood_latents(cfg, k=4)
    lat = auto["latents"]; assert len(lat) == 4 and set(auto["pruning"].relevance) == {"auto"}
    rel = lat.assign(relevance=np.arange(4, 0, -1))[["dataset", "latent", "relevance"]]   # reverse the mean-diff order
    rel.to_csv(tmp_path / "rel.csv", index=False)
    got = ood_latents(cfg, k=4, relevance=str(tmp_path / "rel.csv"))["pruning"]
    assert json.loads(got.kept.iloc[0]) == lat.latent.tolist()[::-1] and len(got) == 4
    assert got.n_pruned.tolist() == [0, 1, 2, 3]
    rel.iloc[:2].to_csv(tmp_path / "rel.csv", index=False)
    with pytest.raises(SaeprobeError, match="no rank for latent"): ood_latents(cfg, k=4, relevance=str(tmp_path / "rel.csv"))

def test_best_latent_with_explanations(smoke, tmp_path):
    from saeprobe.pipeline import study_dirs
    from saeprobe.studies import best_single_latent
    cfg = study_dirs("best-latent", "smoke", cache_dir=str(tmp_path))[0]
    t = best_single_latent(cfg)
    assert list(t.dataset) == list(cfg.datasets)
    # each row's train AUC is its latent's own, recomputed here on the normal split
    from sklearn.metrics import roc_auc_score
    from saeprobe.datasets import load_dataset
    from saeprobe.regimes import normal_split
    from saeprobe.run import features
    for r in t.itertuples():
        y = load_dataset(r.dataset).label.to_numpy(); s = normal_split(y, 42); Z = features(cfg, r.dataset)[1]
        col = Z[s.train][:, r.best_feature].toarray().ravel()
        assert abs(roc_auc_score(y[s.train], col) - r.train_auc) < 1e-12, r
    pd.DataFrame(dict(latent=t.best_feature, explanation=["first", "second"])).to_csv(tmp_path / "ex.csv", index=False)
    assert best_single_latent(cfg, explanations=str(tmp_path / "ex.csv")).explanation.tolist() == ["first", "second"]

def test_sae_family_takes_a_list_of_saes(smoke, tmp_path):
    "The family study on given SAEs (two local folders here; sae-lens ids go through the same load_sae)."
    import torch
    from sae_lens import TopKSAE, TopKSAEConfig
    from sae_lens.saes.sae import SAEMetadata
    from saeprobe.sae_family import run_family, sae_info, best_per_arch
    m, s, _ = smoke
    torch.manual_seed(1)
    other = TopKSAE(TopKSAEConfig(d_in=16, d_sae=32, k=3, metadata=SAEMetadata(hook_name="blocks.1.hook_resid_post")))
    with torch.no_grad(): other.W_enc.normal_()
    other.save_model(str(tmp_path / "topk32"))
    saes = [s, str(tmp_path / "topk32")]
    df = run_family(saes, "smoke", regimes=("normal", "ood"), root=tmp_path / "fam", ks=(2,), cache_dir=str(tmp_path),
                    jobs=1, progress=False)
    assert set(df[df.method == "sae"].sae) == {"tiny-sae", "topk32"} and {"logreg", "sae"} == set(df.method)
    assert set(df.regime) == {"normal", "ood"}
    info = sae_info(saes, "smoke", cache_dir=str(tmp_path)).set_index("sae")
    assert info.loc["topk32", "l0"] <= 3 and info.loc["topk32", "arch"] == "topk"
    per = best_per_arch(df, info.reset_index(), k=2)
    assert set(per.arch) == {"topk", "standard"} and np.isfinite(per.delta).all()
    with pytest.raises(SaeprobeError, match="could not download"):   # offline: a pretrained id is a clear error
        run_family(["gemma-scope-2b-pt-res-canonical/layer_12/width_16k/canonical"], "smoke", regimes=("normal",),
                   root=tmp_path / "fam2", ks=(2,), cache_dir=str(tmp_path), jobs=1, progress=False)
