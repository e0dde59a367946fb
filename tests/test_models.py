"""The hub path (any HF causal LM) on tiny local models of the paper's architectures, and the embedded model."""
import numpy as np
import pytest
import torch

@pytest.mark.parametrize("arch", ["gemma2", "llama", "gpt2", "gemma3"])
def test_any_causal_lm_matches_hidden_states(arch, tmp_path):
    "Block-L output at the last token == hidden_states[L+1], whatever the batch composition."
    from saeprobe.activations import build_tiny_model, load_model, extract_last_token
    lm = load_model(str(build_tiny_model(tmp_path / arch, arch=arch, n_layers=3)))
    prompts = ["short", "a somewhat longer prompt with more tokens", "x", "Gemma-2-9B layer twenty"]
    a = extract_last_token(lm, prompts, 1, batch_size=4, progress=False)
    for i, p in enumerate(prompts):
        with torch.no_grad():
            hs = lm.model(**lm.tokenizer(p, return_tensors="pt"), output_hidden_states=True).hidden_states
        np.testing.assert_allclose(a[i], hs[2][0, -1].numpy(), rtol=1e-4, atol=1e-5)

def test_left_truncation_keeps_the_end(tmp_path):
    from saeprobe.activations import build_tiny_model, load_model, extract_last_token, tokenize
    lm = load_model(str(build_tiny_model(tmp_path / "t")))
    long = "z" * 50 + " the end"
    ids = tokenize(lm.tokenizer, [long], max_length=10)[0]
    assert len(ids) == 10 and ids[0] == 2 and ids[-3:] == lm.tokenizer("end", add_special_tokens=False).input_ids

def test_layers_after_L_never_run(tmp_path):
    from saeprobe.activations import build_tiny_model, load_model, extract_last_token, decoder_layers
    lm = load_model(str(build_tiny_model(tmp_path / "t", n_layers=4)))
    calls = []
    hs = [blk.register_forward_hook(lambda m, a, o, i=i: calls.append(i)) for i, blk in enumerate(decoder_layers(lm.model))]
    lm.model.lm_head.register_forward_hook(lambda *a: calls.append("lm_head"))
    extract_last_token(lm, ["hello there"], 1, progress=False)
    for h in hs: h.remove()
    assert calls == [0, 1]

def test_pretrained_sae_path_offline():
    "SAE.from_pretrained's real code path with a local stand-in for the download (sae-lens' converter=)."
    from saeprobe.sae import load_sae, check_sae, standin_converter, SAERef
    sae = load_sae("gemma-scope-9b-pt-res-canonical/layer_20/width_16k/canonical",
                   converter=standin_converter(3584, 32, "blocks.20.hook_resid_post"))
    check_sae(sae, 3584, 20)
    fp = SAERef("gemma-scope-9b-pt-res-canonical/layer_20/width_16k/canonical").fingerprint()
    assert fp["release"] == "gemma-scope-9b-pt-res-canonical" and fp["sae_id"] == "layer_20/width_16k/canonical"

def test_embedded_model_and_sae_end_to_end(tmp_path):
    "The real embedded default: Gemma 3 270M from its PyPI GGUF, layer 9, the shipped SAE; cached activations."
    from saeprobe.activations import ModelRef, get_activations, load_model, extract_last_token
    from saeprobe.sae import load_sae, check_sae, encode_sparse
    lm = load_model("embedded")
    assert (lm.n_layers, lm.d_model) == (18, 640)
    prompts = ["The capital of France is", "Barack Obama", "def f(x): return x"]
    a = extract_last_token(lm, prompts, 9, progress=False)
    b = np.concatenate([extract_last_token(lm, [p], 9, batch_size=1, progress=False) for p in prompts])
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)
    with torch.no_grad():
        hs = lm.model(**lm.tokenizer(prompts[0], return_tensors="pt"), output_hidden_states=True).hidden_states
    np.testing.assert_allclose(a[0], hs[10][0, -1].numpy(), rtol=1e-4, atol=1e-3)
    sae = load_sae("embedded"); check_sae(sae, lm.d_model, 9)
    Z = encode_sparse(sae, a)
    assert 0 < Z.getnnz(axis=1).mean() <= sae.cfg.k
