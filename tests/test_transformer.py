"""Tests of the Transformer encoder-decoder (attn_research/models/transformer.py, transformer_layers.py).

Tiny dimensions (vocab 12, d_model 8, 2 heads, d_ff 16, source length 5, target length 4). Most tests
fill the parameters with N(0, 0.5^2) draws (shapes from jax.eval_shape of model.init), so layer norms,
biases and embeddings all take non-trivial values. The reference is written in NumPy float64 from the
paper's equations (Vaswani et al. 2017, sec. 3.1-3.5), not from our modules.
"""

from __future__ import annotations

import importlib.util
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from attn_research.decoding import beam_search, greedy_decode
from attn_research.models import Seq2Seq, Transformer, build_model, default_model_config, default_transformer_config
from attn_research.training.loop import train_and_evaluate
from tests.helpers import FAST, fast_jit, tiny_config

VOCAB = 12
BOS, EOS = 1, 2
SOURCE = jnp.array([[3, 4, 5, 6, 7], [8, 9, 10, 0, 0], [0, 0, 0, 0, 0]], jnp.int32)  # right-padded; row 2 empty
MASK = SOURCE > 0
TARGET_IN = jnp.array([[BOS, 3, 4, 5], [BOS, 6, 7, 8], [BOS, 9, 3, 4]], jnp.int32)
LN_EPS = 1e-6  # flax.linen.LayerNorm's epsilon


def small_config(**overrides) -> ml_collections.ConfigDict:
    config = default_transformer_config()
    config.update(
        dict(
            d_model=8,
            heads=2,
            encoder_layers=1,
            decoder_layers=2,
            ff_dim=16,
            dropout=0.0,
            attention_dropout=0.0,
            max_len=8,
        )
    )
    config.update(overrides)
    return config


def random_variables(model, seed: int = 0, scale: float = 0.5):
    shapes = jax.eval_shape(lambda: model.init({"params": jax.random.PRNGKey(0)}, SOURCE, MASK, TARGET_IN, train=False))
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda s: jnp.asarray(rng.normal(0.0, scale, s.shape), s.dtype), shapes)


def model_and_variables(**overrides):
    model = build_model(small_config(**overrides), VOCAB, VOCAB)
    return model, random_variables(model)


@fast_jit(static_argnums=0)
def apply(model, variables, source, mask, target_input):
    """Teacher-forced evaluation, jitted (one compile per model and shape)."""
    return model.apply(variables, source, mask, target_input, train=False)


# ---------------------------------------------------------------- NumPy reference (float64, from the paper)


def np_layer_norm(x, p):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LN_EPS) * p["scale"] + p["bias"]


def np_multi_head(queries, keys, key_mask, p, heads):
    """MultiHead(Q, K, V) = Concat(head_1..head_h) W^O, head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(d_k)) V W_i^V
    (sec. 3.2.1-3.2.2), one query at a time; masked keys are left out of the softmax. A query with no key to
    attend to gets a zero output (DESIGN.md: padding never leaks, and never gives NaN)."""
    batch, query_len, _ = queries.shape
    d_k = p["query"]["kernel"].shape[-1]
    heads_out = np.zeros((batch, query_len, heads, d_k))
    for b in range(batch):
        for i in range(heads):
            q = queries[b] @ p["query"]["kernel"][:, i] + p["query"]["bias"][i]
            k = keys[b] @ p["key"]["kernel"][:, i] + p["key"]["bias"][i]
            v = keys[b] @ p["value"]["kernel"][:, i] + p["value"]["bias"][i]
            allowed = [s for s in range(keys.shape[1]) if key_mask[b, s]]
            for t in range(query_len if allowed else 0):
                scores = np.array([q[t] @ k[s] / np.sqrt(d_k) for s in allowed])
                weights = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
                heads_out[b, t, i] = sum(w * v[s] for w, s in zip(weights, allowed))
    out = np.einsum("btid,ido->bto", heads_out, p["out"]["kernel"]) + p["out"]["bias"]
    return out * np.any(key_mask, axis=1)[:, None, None]


def np_feed_forward(x, p):
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2 (sec. 3.3, eq. 2)."""
    return np.maximum(0.0, x @ p["inner"]["kernel"] + p["inner"]["bias"]) @ p["outer"]["kernel"] + p["outer"]["bias"]


def np_sinusoids(length, d_model):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)) (sec. 3.5)."""
    pe = np.zeros((length, d_model))
    for pos in range(length):
        for i in range(d_model // 2):
            pe[pos, 2 * i] = np.sin(pos / 10000 ** (2 * i / d_model))
            pe[pos, 2 * i + 1] = np.cos(pos / 10000 ** (2 * i / d_model))
    return pe


def np_encoder(params, source, mask, norm, heads):
    """Embeddings * sqrt(d_model) + PE, then encoder layers: post-LN LayerNorm(x + Sublayer(x)) (sec. 3.1) or
    pre-LN x + Sublayer(LayerNorm(x)) with a final LayerNorm."""
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    d_model = p["source_embedding"]["embedding"].shape[1]
    x = p["source_embedding"]["embedding"][np.asarray(source)] * np.sqrt(d_model) + np_sinusoids(
        source.shape[1], d_model
    )
    mask = np.asarray(mask)
    layer = 0
    while f"encoder_layers_{layer}" in p:
        lp = p[f"encoder_layers_{layer}"]
        for norm_name, sublayer in [
            ("self_attention_norm", lambda h, lp=lp: np_multi_head(h, h, mask, lp["self_attention"], heads)),
            ("feed_forward_norm", lambda h, lp=lp: np_feed_forward(h, lp["feed_forward"])),
        ]:
            if norm == "post":
                x = np_layer_norm(x + sublayer(x), lp[norm_name])
            else:
                x = x + sublayer(np_layer_norm(x, lp[norm_name]))
        layer += 1
    if norm == "pre":
        x = np_layer_norm(x, p["encoder_norm"])
    return x * mask[..., None]


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_encoder_matches_numpy_reference_of_the_paper(norm):
    model, variables = model_and_variables(norm=norm, encoder_layers=2)
    encode = fast_jit(lambda v, s, m: model.apply(v, s, m, method=Transformer.encode))
    encoded = encode(variables, SOURCE, MASK)
    expected = np_encoder(variables["params"], SOURCE, MASK, norm, heads=2)
    np.testing.assert_allclose(np.asarray(encoded.memory), expected, rtol=1e-4, atol=1e-5)
    assert np.array_equal(np.asarray(encoded.mask), np.asarray(MASK))


# ---------------------------------------------------------------- masking


def test_changing_future_target_tokens_leaves_earlier_logits_unchanged():
    model, variables = model_and_variables()
    out = apply(model, variables, SOURCE, MASK, TARGET_IN)
    changed = TARGET_IN.at[:, 2:].set(jnp.array([[10, 11], [3, 3], [7, 8]]))
    out2 = apply(model, variables, SOURCE, MASK, changed)
    np.testing.assert_allclose(out.logits[:, :2], out2.logits[:, :2], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out.alignments[:, :2], out2.alignments[:, :2], rtol=1e-6, atol=1e-6)
    assert not np.allclose(out.logits[:, 2:], out2.logits[:, 2:])  # the later positions do see them


def test_padding_is_never_attended_and_its_tokens_do_not_matter():
    model, variables = model_and_variables()
    out = apply(model, variables, SOURCE, MASK, TARGET_IN)
    other_padding = jnp.where(MASK, SOURCE, 5)
    out2 = apply(model, variables, other_padding, MASK, TARGET_IN)
    np.testing.assert_allclose(out.logits, out2.logits, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out.alignments, out2.alignments, rtol=1e-6, atol=1e-6)
    alignments = np.asarray(out.alignments)
    assert np.all(alignments[~np.asarray(MASK)[:, None, :].repeat(4, 1)] == 0.0)
    np.testing.assert_allclose(alignments[:2].sum(-1), 1.0, rtol=1e-5)  # rows with a source sum to 1
    assert np.all(np.isfinite(np.asarray(out.logits)))  # the empty source (row 2) gives no NaN


# ---------------------------------------------------------------- teacher forcing == step-by-step decoding


def decode_gold(model, variables, source, mask, target_input):
    """Feeds the gold tokens through decode_step: logits [batch, tgt_len, V], weights [batch, tgt_len, src_len]."""
    encoded = model.apply(variables, source, mask, method=Transformer.encode)
    carry = model.apply(variables, encoded, method=Transformer.init_carry)

    def step(carry, token):
        carry, logits, weights = model.apply(variables, encoded, carry, token, method=Transformer.decode_step)
        return carry, (logits, weights)

    _, (logits, weights) = jax.lax.scan(step, carry, target_input.T)
    return jnp.swapaxes(logits, 0, 1), jnp.swapaxes(weights, 0, 1)


@pytest.mark.parametrize("norm,positions,tie", [("post", "learned", True), ("pre", "sinusoidal", False)])
def test_teacher_forced_logits_equal_incremental_decoding(norm, positions, tie):
    model, variables = model_and_variables(norm=norm, positions=positions, tie_embeddings=tie)
    out = apply(model, variables, SOURCE, MASK, TARGET_IN)
    logits, weights = fast_jit(decode_gold, static_argnums=0)(model, variables, SOURCE, MASK, TARGET_IN)
    np.testing.assert_allclose(logits, out.logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights, out.alignments, rtol=1e-4, atol=1e-5)
    assert ("output" in variables["params"]) != tie


# ---------------------------------------------------------------- decoding, jit, gradients


def test_greedy_and_beam_search_run_beam_one_is_greedy_and_the_key_cache_bounds_decoding():
    model, variables = model_and_variables()  # max_len 8: decode_step works for positions 0..7
    greedy = jax.jit(
        greedy_decode, static_argnames=("model", "max_len", "bos_id", "eos_id", "return_logits"), compiler_options=FAST
    )
    tokens, alignments, logits = greedy(
        model, variables, SOURCE, MASK, max_len=9, bos_id=BOS, eos_id=EOS, return_logits=True
    )
    assert tokens.shape == (3, 9) and alignments.shape == (3, 9, 5)
    assert np.all(np.isfinite(np.asarray(logits[:, :8]))) and np.all(np.isnan(np.asarray(logits[:, 8])))
    beam = jax.jit(
        beam_search,
        static_argnames=("model", "beam_size", "max_len", "bos_id", "eos_id", "n_best"),
        compiler_options=FAST,
    )
    result = beam(model, variables, SOURCE, MASK, beam_size=1, max_len=8, bos_id=BOS, eos_id=EOS)
    np.testing.assert_array_equal(result.tokens[:, 0], tokens[:, :8])
    np.testing.assert_allclose(result.alignments[:, 0], alignments[:, :8], rtol=1e-5, atol=1e-6)


def test_jit_equals_eager_and_the_model_is_a_static_argument():
    model, variables = model_and_variables()
    eager = model.apply(variables, SOURCE, MASK, TARGET_IN, train=False)
    jitted = apply(model, variables, SOURCE, MASK, TARGET_IN)
    np.testing.assert_allclose(jitted.logits, eager.logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jitted.alignments, eager.alignments, rtol=1e-5, atol=1e-5)
    same = build_model(small_config(), VOCAB, VOCAB)
    assert hash(same) == hash(model) and same == model


def test_gradients_are_finite_with_dropout_in_training():
    model, variables = model_and_variables(dropout=0.3, attention_dropout=0.2)

    def loss(params, rng):
        out = model.apply({"params": params}, SOURCE, MASK, TARGET_IN, train=True, rngs={"dropout": rng})
        return jnp.mean(jax.nn.logsumexp(out.logits, -1) - out.logits[..., 3])

    grad_fn = jax.jit(jax.value_and_grad(loss), compiler_options=FAST)
    value, grads = grad_fn(variables["params"], jax.random.PRNGKey(1))
    value2, _ = grad_fn(variables["params"], jax.random.PRNGKey(2))
    leaves = jax.tree.leaves(grads)
    assert np.isfinite(float(value)) and all(np.all(np.isfinite(np.asarray(g))) for g in leaves)
    assert sum(float(jnp.abs(g).sum()) for g in leaves) > 0
    assert float(value) != float(value2)  # dropout is active with train=True


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize("key,bad,valid", [("norm", "middle", "post"), ("positions", "rotary", "sinusoidal")])
def test_unknown_names_raise_with_the_valid_choices(key, bad, valid):
    with pytest.raises(ValueError, match=valid):
        build_model(small_config(**{key: bad}), VOCAB, VOCAB)
    model = Transformer(
        config=ml_collections.FrozenConfigDict(small_config(**{key: bad})),
        source_vocab_size=VOCAB,
        target_vocab_size=VOCAB,
    )
    with pytest.raises(ValueError, match=valid):  # also when the model is built without build_model
        jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), SOURCE, MASK, TARGET_IN, train=False))


def test_key_dim_sets_the_query_and_key_size_per_head():
    """Vaswani et al. (2017), Table 3 row B: d_k varies, d_v = d_model / h stays."""
    model, variables = model_and_variables(key_dim=3)  # d_model 8, 2 heads: d_k 3, d_v 4
    attention = variables["params"]["decoder_layers_0"]["cross_attention"]
    assert attention["query"]["kernel"].shape == (8, 2, 3) and attention["key"]["kernel"].shape == (8, 2, 3)
    assert attention["value"]["kernel"].shape == (8, 2, 4)
    out = apply(model, variables, SOURCE, MASK, TARGET_IN)
    logits, _ = fast_jit(decode_gold, static_argnums=0)(model, variables, SOURCE, MASK, TARGET_IN)
    np.testing.assert_allclose(logits, out.logits, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"heads": 3}, "divisible"),
        ({"dropout": 1.0}, "dropout"),
        ({"d_model": 7, "heads": 7}, "even"),
        ({"key_dim": -1}, "key_dim"),
    ],
)
def test_bad_sizes_raise(overrides, message):
    with pytest.raises(ValueError, match=message):
        build_model(small_config(**overrides), VOCAB, VOCAB)


def test_learned_positions_reject_a_source_longer_than_max_len():
    model = build_model(small_config(positions="learned", max_len=4), VOCAB, VOCAB)
    with pytest.raises(ValueError, match="max_len"):
        jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), SOURCE, MASK, TARGET_IN, train=False))


def test_build_model_picks_the_architecture():
    assert isinstance(build_model(small_config(), VOCAB, VOCAB), Transformer)
    rnn = default_model_config()
    assert isinstance(build_model(rnn, VOCAB, VOCAB), Seq2Seq)  # no architecture key: 'rnn'
    rnn.architecture = "rnn"
    model = build_model(rnn, VOCAB, VOCAB)
    assert isinstance(model, Seq2Seq) and isinstance(model.config, ml_collections.FrozenConfigDict)
    rnn.architecture = "transfomer"
    with pytest.raises(ValueError, match="rnn, transformer"):
        build_model(rnn, VOCAB, VOCAB)


def load_config_module(name):
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name,arg",
    [
        ("multi30k", "model=transformer"),
        ("multi30k", "model=transformer_nb6"),
        ("synthetic", "task=reverse,architecture=transformer"),
    ],
)
def test_transformer_configs_build_and_decode_within_the_key_cache(name, arg):
    config = load_config_module(name).get_config(arg)
    assert isinstance(build_model(config.model, 30, 30), Transformer)
    assert config.eval.max_decode_len <= config.model.max_len


def test_multi30k_transformer_has_the_requested_setup():
    config = load_config_module("multi30k").get_config("model=transformer")
    model, train = config.model, config.train
    assert (model.d_model, model.heads, model.encoder_layers, model.decoder_layers, model.ff_dim, model.dropout) == (
        256,
        8,
        3,
        3,
        512,
        0.1,
    )
    assert (train.adam_b1, train.adam_b2, train.adam_eps, train.label_smoothing, train.batch_size, train.schedule) == (
        0.9,
        0.98,
        1e-9,
        0.1,
        128,
        "warmup_rsqrt",
    )
    with pytest.raises(ValueError, match="rnn, transformer"):
        load_config_module("synthetic").get_config("task=reverse,architecture=transfomer")


# ---------------------------------------------------------------- end to end


def test_tiny_transformer_learns_to_copy(tmp_path):
    config = tiny_config(tmp_path, task="copy", steps=400)
    config.model.update(
        dict(
            architecture="transformer",
            d_model=32,
            heads=4,
            encoder_layers=1,
            decoder_layers=1,
            ff_dim=64,
            dropout=0.0,
            attention_dropout=0.0,
            norm="pre",
            positions="sinusoidal",
            tie_embeddings=False,
            max_len=16,
        )
    )
    config.train.update(dict(learning_rate=1e-2, schedule="warmup_rsqrt", warmup_steps=50, adam_b2=0.98))
    results = train_and_evaluate(config, str(tmp_path / "work"))
    assert results["metrics"]["validation"]["seq_accuracy"] >= 0.9, results["metrics"]
    assert results["metrics"]["test"]["token_accuracy"] >= 0.95, results["metrics"]
