"""Tests of the recurrent seq2seq models (attn_research/models) and greedy decoding.

Tiny dimensions everywhere (vocab 12, dims 8-16, source length 5, target length 4) and one set of
shapes, so the programs stay few and small. Most tests fill the parameters with N(0, 0.5^2) draws
(from the shapes `model.init` would create, via jax.eval_shape) rather than running the initializers,
whose XLA programs (orthogonal init's QR, truncated normals) dominate compile time on CPU; the
initializers themselves run in the first gradient test. Programs compile with XLA's optimizations off
(FAST), which cuts compile time about threefold at these sizes.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from attn_research.attention import SCORES
from attn_research.config_defaults import base_config
from attn_research.decoding import greedy_decode
from attn_research.models import (
    BRIDGES,
    CELLS,
    DECODERS,
    Encoded,
    Seq2Seq,
    build_model,
    default_model_config,
    default_transformer_config,
    validate_model_config,
)
from tests.grids import tiered
from tests.helpers import FAST, fast_jit

VOCAB = 12
BOS, EOS = 1, 2

SOURCE = jnp.array([[3, 4, 5, 6, 7], [8, 9, 10, 0, 0], [5, 0, 0, 0, 0]], jnp.int32)  # right-padded with 0
MASK = SOURCE > 0
TARGET_IN = jnp.array([[BOS, 3, 4, 5], [BOS, 6, 7, 8], [BOS, 9, 3, 4]], jnp.int32)
BATCH, SRC_LEN = SOURCE.shape
TGT_LEN = TARGET_IN.shape[1]


def tiny_config(**overrides) -> ml_collections.ConfigDict:
    config = default_model_config()
    config.embed_dim = 8
    config.encoder_hidden = 8
    config.decoder_hidden = 16  # == enc_dim of the bidirectional encoder, so dot/cosine scores fit
    config.dropout = 0.0
    config.attention.dim = 8
    config.attention.half_width = 1
    for key, value in overrides.items():
        if key.startswith("attention_"):
            config.attention[key[len("attention_") :]] = value
        else:
            config[key] = value
    return config


def _key(overrides: dict) -> str:
    """The cache key: the whole config, so equal models share one compiled program."""
    return tiny_config(**overrides).to_json(sort_keys=True)


@functools.cache
def _model_and_variables(key: str, real_init: bool):
    model = Seq2Seq(ml_collections.ConfigDict(json.loads(key)), VOCAB, VOCAB)
    init = functools.partial(model.init, train=False)
    if real_init:
        variables = fast_jit(init)(jax.random.key(0), SOURCE, MASK, TARGET_IN)
    else:
        shapes = jax.eval_shape(init, jax.random.key(0), SOURCE, MASK, TARGET_IN)
        leaves, treedef = jax.tree.flatten(shapes)
        rng = np.random.default_rng(len(leaves))
        variables = jax.tree.unflatten(
            treedef, [jnp.asarray(rng.normal(0.0, 0.5, leaf.shape), leaf.dtype) for leaf in leaves]
        )
    return model, variables


def build(real_init: bool = False, **overrides):
    """(model, variables) for tiny_config(**overrides), cached."""
    return _model_and_variables(_key(overrides), real_init)


@functools.cache
def _forward(key: str):
    model, variables = _model_and_variables(key, False)
    return fast_jit(functools.partial(model.apply, train=False))(variables, SOURCE, MASK, TARGET_IN)


def forward(**overrides):
    """Teacher-forced Seq2SeqOutput (train=False) of build(**overrides), cached."""
    return _forward(_key(overrides))


def teacher_forced_and_step_by_step(model, variables, tokens):
    """__call__ (train=False) and init_carry + a Python loop of decode_step over tokens [batch, steps],
    compiled together as one program.

    Returns (Seq2SeqOutput, logits [batch, steps, V], weights [batch, steps, src_len], final carry).
    """

    def run(variables, tokens):
        out = model.apply(variables, SOURCE, MASK, tokens, train=False)
        enc = model.apply(variables, SOURCE, MASK, method=Seq2Seq.encode)
        carry = model.apply(variables, enc, method=Seq2Seq.init_carry)
        logits, weights = [], []
        for t in range(tokens.shape[1]):
            carry, step_logits, step_weights = model.apply(
                variables, enc, carry, tokens[:, t], method=Seq2Seq.decode_step
            )
            logits.append(step_logits)
            weights.append(step_weights)
        return out, jnp.stack(logits, 1), jnp.stack(weights, 1), carry

    return fast_jit(run)(variables, tokens)


@functools.cache
def _encoded(key: str):
    model, variables = _model_and_variables(key, False)
    return fast_jit(functools.partial(model.apply, method=Seq2Seq.encode))(variables, SOURCE, MASK)


def encoded(**overrides) -> Encoded:
    """Seq2Seq.encode of build(**overrides) on SOURCE, cached."""
    return _encoded(_key(overrides))


# ---------------------------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("bidirectional", [True, False], ids=["bi", "uni"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("decoder", DECODERS)
def test_output_shapes(decoder, cell, bidirectional):
    """Shapes and dtypes, by abstract evaluation (values: the tests below)."""
    model, variables = build(decoder=decoder, cell=cell, bidirectional=bidirectional)
    out = jax.eval_shape(functools.partial(model.apply, train=False), variables, SOURCE, MASK, TARGET_IN)
    assert out.logits.shape == (BATCH, TGT_LEN, VOCAB)
    assert out.logits.dtype == jnp.float32
    if decoder in ("bahdanau", "luong"):
        assert out.alignments.shape == (BATCH, TGT_LEN, SRC_LEN)
        assert out.alignments.dtype == jnp.float32
    else:
        assert out.alignments is None


def check_alignments(alignments) -> None:
    """Zero on padded source positions, non-negative, rows summing to 1 (global softmax)."""
    alignments = np.asarray(alignments)
    padded = np.broadcast_to(~np.asarray(MASK)[:, None, :], alignments.shape)
    assert np.all(alignments[padded] == 0.0)
    assert np.all(alignments >= 0.0)
    np.testing.assert_allclose(alignments.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("decoder", ["bahdanau", "luong"])
def test_alignments_zero_on_padding_and_rows_sum_to_one(decoder):
    """LSTM here; the GRU models get the same checks in test_every_score_plugs_into_attentive_decoders."""
    check_alignments(forward(decoder=decoder, cell="lstm").alignments)


@pytest.mark.parametrize("bridge", BRIDGES)
def test_stacked_layers_and_bridges(bridge):
    """Two encoder and two decoder layers (LSTM): every bridge gives one (c, h) per decoder layer."""
    overrides = dict(cell="lstm", encoder_layers=2, decoder_layers=2, bridge=bridge, decoder="luong")
    model, variables = build(**overrides)
    enc = encoded(**overrides)
    assert len(enc.initial_state) == 2
    for c, h in enc.initial_state:
        assert c.shape == h.shape == (BATCH, 16)
    if bridge == "zeros":
        assert all(np.all(np.asarray(x) == 0) for x in jax.tree.leaves(enc.initial_state))
    if bridge == "learned":
        params = variables["params"]["bridge"]
        np.testing.assert_allclose(enc.initial_state[1][0], np.broadcast_to(params["initial_c_1"], (BATCH, 16)))
        np.testing.assert_allclose(enc.initial_state[0][1], np.broadcast_to(params["initial_h_0"], (BATCH, 16)))
    if bridge == "last":  # enc_dim 16 == decoder_hidden: the top layer's [h->_T; h<-_1], layer by layer
        np.testing.assert_allclose(enc.initial_state[1][1], enc.final_state, rtol=1e-6)
    out = jax.eval_shape(functools.partial(model.apply, train=False), variables, SOURCE, MASK, TARGET_IN)
    assert out.logits.shape == (BATCH, TGT_LEN, VOCAB)


# --------------------------------------------------------------------------------------------- encoder


@pytest.mark.parametrize("cell", CELLS)
def test_encoder_ignores_padding(cell):
    """A padded sequence's annotations at real positions equal the unpadded sequence's; padding gives 0."""
    model, variables = build(cell=cell, bidirectional=True, encoder_layers=2, bridge="last")
    encode = fast_jit(functools.partial(model.apply, method=Seq2Seq.encode))
    batch = encode(variables, SOURCE, MASK)
    annotations = np.asarray(batch.annotations)
    lengths = np.asarray(MASK.sum(-1))
    for i in (1, 2):  # the padded rows, each re-encoded alone at its own length
        n = int(lengths[i])
        alone = encode(variables, SOURCE[i : i + 1, :n], MASK[i : i + 1, :n])
        np.testing.assert_allclose(annotations[i, :n], alone.annotations[0], rtol=1e-5, atol=1e-6)
        assert np.all(annotations[i, n:] == 0.0)
        np.testing.assert_allclose(batch.final_state[i], alone.final_state[0], rtol=1e-5, atol=1e-6)
        for padded_leaf, alone_leaf in zip(jax.tree.leaves(batch.initial_state), jax.tree.leaves(alone.initial_state)):
            np.testing.assert_allclose(padded_leaf[i], alone_leaf[0], rtol=1e-5, atol=1e-6)
    # The backward direction must start at the real end: reversing the padded row naively would differ.
    hidden = 8
    assert not np.allclose(annotations[1, 0, hidden:], annotations[0, 0, hidden:])


@pytest.mark.parametrize("cell", CELLS)
def test_bahdanau_bridge_is_tanh_of_backward_first_state(cell):
    """Bahdanau et al. (2015), A.2.2: s_0 = tanh(W_s h<-_1), checked in NumPy from the parameters."""
    model, variables = build(cell=cell, bridge="bahdanau", bidirectional=True)
    enc = encoded(cell=cell, bridge="bahdanau", bidirectional=True)
    w_s = np.asarray(variables["params"]["bridge"]["W_s_0"]["kernel"])
    assert "bias" not in variables["params"]["bridge"]["W_s_0"]
    backward_first = np.asarray(enc.annotations)[:, 0, 8:]  # h<-_1: backward half at position 0
    expected = np.tanh(backward_first @ w_s)
    s_0 = enc.initial_state[0] if cell == "gru" else enc.initial_state[0][1]
    np.testing.assert_allclose(s_0, expected, rtol=1e-5, atol=1e-6)
    carry = model.apply(variables, enc, method=Seq2Seq.init_carry)
    np.testing.assert_allclose(jax.tree.leaves(carry["rnn"])[-1], s_0)


# ------------------------------------------------------------------------------ decoder equations


def _gru(p, h, x):
    """flax's GRUCell in NumPy: r, z gates; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    r = sigmoid(x @ p["ir"]["kernel"] + p["ir"]["bias"] + h @ p["hr"]["kernel"])
    z = sigmoid(x @ p["iz"]["kernel"] + p["iz"]["bias"] + h @ p["hz"]["kernel"])
    n = np.tanh(x @ p["in"]["kernel"] + p["in"]["bias"] + r * (h @ p["hn"]["kernel"] + p["hn"]["bias"]))
    return (1.0 - z) * n + z * h


@pytest.mark.parametrize("decoder", ["bahdanau", "luong"])
def test_decoder_equations_in_numpy(decoder):
    """Teacher-forced logits and alignments equal the papers' equations computed in NumPy (GRU, dot score).

    bahdanau (Bahdanau et al. 2015, eqs. 4-6, A.2.2): c_i from s_{i-1}; s_i = GRU(s_{i-1}, [E y_{i-1}; c_i]);
    logits = W_o [s_i; c_i; E y_{i-1}] + b_o.
    luong with input feeding (Luong et al. 2015, eqs. 5-6, sec. 3.3): h_t = GRU(h_{t-1}, [E y_{t-1}; h~_{t-1}]);
    c_t from h_t; h~_t = tanh(W_c [c_t; h_t]); logits = W_s h~_t + b_s.
    """
    overrides = dict(decoder=decoder, attention_score="dot")
    _, variables = build(**overrides)
    out = forward(**overrides)
    enc = encoded(**overrides)
    p = jax.tree.map(np.asarray, variables["params"]["decoder"])
    annotations, mask = np.asarray(enc.annotations), np.asarray(enc.mask)
    state = np.asarray(enc.initial_state[0])
    feed = np.zeros_like(state)

    def attend(query):
        energy = np.where(mask, np.einsum("bsd,bd->bs", annotations, query), -np.inf)
        weights = np.exp(energy - energy.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        return weights, np.einsum("bs,bsd->bd", weights, annotations)

    for t in range(TGT_LEN):
        y = p["embed"]["embedding"][np.asarray(TARGET_IN[:, t])]
        if decoder == "bahdanau":
            weights, context = attend(state)
            state = _gru(p["cells_0"], state, np.concatenate([y, context], -1))
            logits = np.concatenate([state, context, y], -1) @ p["output"]["kernel"] + p["output"]["bias"]
        else:
            state = _gru(p["cells_0"], state, np.concatenate([y, feed], -1))
            weights, context = attend(state)
            feed = np.tanh(np.concatenate([context, state], -1) @ p["W_c"]["kernel"])
            logits = feed @ p["output"]["kernel"] + p["output"]["bias"]
        np.testing.assert_allclose(out.alignments[:, t], weights, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(out.logits[:, t], logits, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------- scan versus steps


SCAN_CASES = [
    ("bahdanau", True),
    ("luong", True),
    ("luong", False),
]


WINDOWS = ["global", "local_m", "local_p"]
SCAN_GRID = [(*case, window) for case in SCAN_CASES for window in WINDOWS]
SCAN_IDS = [f"{name}-{window}" for name in ("bahdanau", "luong-feed", "luong-nofeed") for window in WINDOWS]


# make test: each decoder and each window once (the diagonal); make test-all: all 9.
@pytest.mark.parametrize(
    "decoder,input_feeding,window",
    tiered(SCAN_GRID, [(*case, window) for case, window in zip(SCAN_CASES, WINDOWS)], ids=SCAN_IDS),
)
def test_teacher_forcing_equals_step_by_step(decoder, input_feeding, window):
    overrides = dict(
        decoder=decoder,
        input_feeding=input_feeding,
        attention_window=window,
        cell="lstm" if window == "local_p" else "gru",
    )
    out, logits, weights, carry = teacher_forced_and_step_by_step(*build(**overrides), TARGET_IN)
    np.testing.assert_allclose(out.logits, logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.alignments, weights, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(carry["attention"]["position"], TGT_LEN)
    if window == "local_m":  # p_t = t, D = 1: only positions t-1..t+1 may carry weight
        s = np.arange(SRC_LEN)[None, None, :]
        t = np.arange(TGT_LEN)[None, :, None]
        assert np.all(np.asarray(weights)[np.broadcast_to(np.abs(s - t) > 1, weights.shape)] == 0.0)


@pytest.mark.parametrize("decoder", ["none_state", "none_input"])
def test_no_attention_teacher_forcing_equals_step_by_step(decoder):
    out, logits, weights, _ = teacher_forced_and_step_by_step(*build(decoder=decoder), TARGET_IN)
    np.testing.assert_allclose(out.logits, logits, rtol=1e-4, atol=1e-5)
    assert np.all(np.asarray(weights) == 0.0)


# ------------------------------------------------------------------------------------- the catalogue


SCORE_GRID = [(decoder, score) for decoder in ("bahdanau", "luong") for score in sorted(SCORES)]


# make test: every score once, the decoders alternating; make test-all: every score in both.
@pytest.mark.parametrize(
    "decoder,score",
    tiered(SCORE_GRID, [(("bahdanau", "luong")[i % 2], score) for i, score in enumerate(sorted(SCORES))]),
)
def test_every_score_plugs_into_attentive_decoders(decoder, score):
    out = forward(decoder=decoder, attention_score=score)
    assert out.logits.shape == (BATCH, TGT_LEN, VOCAB)
    assert np.all(np.isfinite(out.logits)) and np.all(np.isfinite(out.alignments))
    check_alignments(out.alignments)


@pytest.mark.parametrize("decoder", ["bahdanau", "luong"])
def test_multi_head_family_plugs_in(decoder):
    """Multi-head attention: alignments are the mean over heads, [batch, tgt_len, src_len]."""
    overrides = dict(
        decoder=decoder,
        attention_family="multi_head",
        attention_score="scaled_dot",
        attention_heads=2,
        attention_qk_dim=8,
        attention_v_dim=8,
    )
    out = forward(**overrides)
    assert out.alignments.shape == (BATCH, TGT_LEN, SRC_LEN)
    assert np.all(np.isfinite(out.logits))
    check_alignments(out.alignments)


# ---------------------------------------------------------------------------------- teacher forcing


def test_teacher_forcing_ratio_zero_feeds_back_argmax():
    """ratio 0 in training feeds the previous argmax: the logits of greedy decoding, until greedy stops."""
    model, variables = build(decoder="luong", teacher_forcing_ratio=0.0)
    out = fast_jit(functools.partial(model.apply, train=True))(
        variables, SOURCE, MASK, TARGET_IN, rngs={"teacher_forcing": jax.random.key(3)}
    )
    greedy = fast_jit(
        functools.partial(greedy_decode, model, max_len=TGT_LEN, bos_id=BOS, eos_id=EOS, return_logits=True)
    )
    tokens, _, greedy_logits = greedy(variables, SOURCE, MASK)
    tokens = np.asarray(tokens)
    for b in range(BATCH):
        ends = np.flatnonzero(tokens[b] == EOS)
        valid = TGT_LEN if ends.size == 0 else min(TGT_LEN, ends[0] + 2)  # inputs agree until eos was fed
        np.testing.assert_allclose(out.logits[b, :valid], greedy_logits[b, :valid], rtol=1e-4, atol=1e-5)
    # ... and not the teacher-forced logits (the gold tokens differ from the argmax).
    assert not np.allclose(out.logits, forward(decoder="luong").logits, atol=1e-4)


def test_teacher_forcing_ratio_below_one_under_jit():
    model, variables = build(decoder="bahdanau", teacher_forcing_ratio=0.5, dropout=0.3)
    apply = fast_jit(functools.partial(model.apply, train=True))
    rngs = {"teacher_forcing": jax.random.key(1), "dropout": jax.random.key(2)}
    first = apply(variables, SOURCE, MASK, TARGET_IN, rngs=rngs)
    again = apply(variables, SOURCE, MASK, TARGET_IN, rngs=rngs)
    assert np.all(np.isfinite(first.logits))
    np.testing.assert_array_equal(first.logits, again.logits)
    other = apply(
        variables, SOURCE, MASK, TARGET_IN, rngs={"teacher_forcing": jax.random.key(5), "dropout": jax.random.key(2)}
    )
    assert not np.allclose(first.logits, other.logits)
    with pytest.raises(Exception, match="teacher_forcing"):  # the rng is required
        jax.eval_shape(
            functools.partial(model.apply, train=True),
            variables,
            SOURCE,
            MASK,
            TARGET_IN,
            rngs={"dropout": jax.random.key(2)},
        )


# -------------------------------------------------------------------------------------------- greedy


def _pick_eos(free_tokens: np.ndarray) -> int:
    """A token that some rows emit before the last step and then stop emitting (so forcing eos after it
    matters), while other rows never emit it: both branches of the eos handling run."""
    for token in range(VOCAB):
        emitted = [b for b in range(BATCH) if token in free_tokens[b, :-1]]
        if (
            not emitted
            or len(emitted) == BATCH
            or any(token in free_tokens[b] for b in range(BATCH) if b not in emitted)
        ):
            continue
        if any(np.any(free_tokens[b, int(np.flatnonzero(free_tokens[b] == token)[0]) :] != token) for b in emitted):
            return token
    raise AssertionError(f"no usable eos among the free-running tokens {free_tokens.tolist()}")


def test_greedy_jit_equals_python_loop():
    overrides = dict(decoder="luong", cell="gru")
    model, variables = build(**overrides)
    max_len = 6
    enc = encoded(**overrides)
    step = fast_jit(functools.partial(model.apply, method=Seq2Seq.decode_step))  # one step at a time

    def python_loop(eos):
        carry = model.apply(variables, enc, method=Seq2Seq.init_carry)
        token = np.full((BATCH,), BOS, np.int32)
        finished = np.zeros(BATCH, bool)
        tokens, alignments = [], []
        for _ in range(max_len):
            carry, logits, weights = step(variables, enc, carry, jnp.asarray(token))
            token = np.where(finished, eos, np.argmax(np.asarray(logits), -1)).astype(np.int32)
            alignments.append(np.where(finished[:, None], 0.0, np.asarray(weights)))
            finished |= token == eos
            tokens.append(token)
        return np.stack(tokens, 1), np.stack(alignments, 1)

    eos = _pick_eos(python_loop(eos=-1)[0])
    jitted = jax.jit(greedy_decode, static_argnames=("model", "max_len", "bos_id", "eos_id"), compiler_options=FAST)
    tokens, alignments = jitted(model, variables, SOURCE, MASK, max_len=max_len, bos_id=BOS, eos_id=eos)
    assert tokens.shape == (BATCH, max_len) and tokens.dtype == jnp.int32
    assert alignments.shape == (BATCH, max_len, SRC_LEN) and alignments.dtype == jnp.float32
    expected_tokens, expected_alignments = python_loop(eos)
    np.testing.assert_array_equal(tokens, expected_tokens)
    np.testing.assert_allclose(alignments, expected_alignments, rtol=1e-4, atol=1e-6)
    tokens, alignments = np.asarray(tokens), np.asarray(alignments)
    for b in range(BATCH):  # after the first eos: eos tokens and zero alignments
        ends = np.flatnonzero(tokens[b] == eos)
        if ends.size:
            assert np.all(tokens[b, ends[0] :] == eos)
            assert np.all(alignments[b, ends[0] + 1 :] == 0.0) and np.isclose(alignments[b, ends[0]].sum(), 1.0)


# ------------------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "key,bad,choices", [("decoder", "bahdanou", DECODERS), ("cell", "rnn", CELLS), ("bridge", "first", BRIDGES)]
)
def test_unknown_names_list_valid_choices(key, bad, choices):
    config = tiny_config(**{key: bad})
    for check in (
        lambda: validate_model_config(config),
        lambda: jax.eval_shape(
            functools.partial(Seq2Seq(config, VOCAB, VOCAB).init, train=False),
            jax.random.key(0),
            SOURCE,
            MASK,
            TARGET_IN,
        ),
    ):
        with pytest.raises(ValueError) as error:
            check()
        for choice in choices:
            assert choice in str(error.value)


def test_config_errors_and_defaults():
    with pytest.raises(ValueError, match="none_state"):
        validate_model_config(tiny_config(decoder="none_state", bridge="zeros"))
    with pytest.raises(ValueError, match="teacher_forcing_ratio"):
        validate_model_config(tiny_config(teacher_forcing_ratio=1.5))
    config = default_model_config()
    assert (
        config.embed_dim,
        config.cell,
        config.encoder_layers,
        config.encoder_hidden,
        config.bidirectional,
        config.decoder,
        config.decoder_layers,
        config.decoder_hidden,
        config.bridge,
        config.input_feeding,
        config.maxout,
        config.dropout,
        config.teacher_forcing_ratio,
    ) == (256, "gru", 1, 512, True, "bahdanau", 1, 512, "bahdanau", True, False, 0.5, 1.0)
    assert (config.attention.score, config.attention.window, config.attention.normalizer, config.attention.dim) == (
        "additive",
        "global",
        "softmax",
        512,
    )
    # Hashable by content (a static argument of jax.jit).
    assert hash(Seq2Seq(tiny_config(), VOCAB, VOCAB)) == hash(Seq2Seq(tiny_config(), VOCAB, VOCAB))
    assert Seq2Seq(tiny_config(), VOCAB, VOCAB) == Seq2Seq(tiny_config(), VOCAB, VOCAB)
    assert Seq2Seq(tiny_config(), VOCAB, VOCAB) != Seq2Seq(tiny_config(cell="lstm"), VOCAB, VOCAB)


def test_carry_leaves_have_batch_leading_axis():
    model, variables = build(decoder="luong", cell="lstm")
    enc = encoded(decoder="luong", cell="lstm")
    assert isinstance(enc, Encoded)
    carry = model.apply(variables, enc, method=Seq2Seq.init_carry)
    assert set(carry) == {"rnn", "attention", "feed"}
    for leaf in jax.tree.leaves((enc, carry)):
        assert leaf.shape[0] == BATCH


# ------------------------------------------------------------------------------------------ gradients


@pytest.mark.parametrize(
    "real_init,overrides",
    [
        (
            True,
            dict(
                decoder="luong",
                cell="lstm",
                attention_window="local_p",
                teacher_forcing_ratio=0.5,
                dropout=0.2,
                encoder_layers=2,
                decoder_layers=2,
                bridge="last",
            ),
        ),
        (False, dict(decoder="bahdanau", cell="gru", maxout=True, bridge="bahdanau", dropout=0.2)),
    ],
    ids=["luong-lstm-2layers-local_p-initializers", "bahdanau-gru-maxout"],
)
def test_gradients_are_finite(real_init, overrides):
    """Gradients of a cross-entropy loss in training mode (dropout, sampled inputs) are finite and reach
    every part; the first case uses the model's own initializers (model.init)."""
    model, variables = build(real_init=real_init, **overrides)
    targets = jnp.concatenate([TARGET_IN[:, 1:], jnp.full((BATCH, 1), EOS, jnp.int32)], 1)
    rngs = {"dropout": jax.random.key(1), "teacher_forcing": jax.random.key(2)}

    def loss(params):
        out = model.apply({"params": params}, SOURCE, MASK, TARGET_IN, train=True, rngs=rngs)
        log_p = jax.nn.log_softmax(out.logits)
        return -jnp.mean(jnp.take_along_axis(log_p, targets[..., None], -1))

    value, grads = fast_jit(jax.value_and_grad(loss))(variables["params"])
    assert np.isfinite(value)
    norms = {
        jax.tree_util.keystr(path): float(jnp.linalg.norm(g)) for path, g in jax.tree_util.tree_leaves_with_path(grads)
    }
    assert all(np.isfinite(n) for n in norms.values())
    parts = {"encoder", "decoder", "attention"} | ({"bridge"} if "bridge" in grads else set())
    for part in parts:
        assert any(n > 0 for path, n in norms.items() if part in path), part


# ------------------------------------------------------------------------------ parameter paths (checkpoints)
PARAM_PATHS = json.load(open(Path(__file__).parent / "fixtures" / "param_paths_0ae9e1b.json"))


FAST_CASES = ("rnn_lstm_luong_general_2x2_learned", "transformer_post_sinusoidal")  # the others: slow (~3 s each)


@pytest.mark.parametrize(
    "case",
    [
        case if case in FAST_CASES else pytest.param(case, marks=pytest.mark.slow)
        for case in sorted(PARAM_PATHS["cases"])
    ],
)
def test_parameter_paths_are_those_of_older_checkpoints(case):
    """Every architecture (each decoder, bridge, cell and attention family) names its parameters as the code of
    commit 0ae9e1b did (paths and shapes recorded by building the same configs with that commit's code), so its
    checkpoints still restore; a renamed class or a moved default would show here."""
    overrides = dict(PARAM_PATHS["cases"][case])
    attention = overrides.pop("attention", {})
    if overrides.pop("transformer", False):
        model_config = default_transformer_config()
    else:
        model_config = base_config().model
        for key, value in attention.items():
            model_config.attention[key] = value
    model_config.update(overrides)
    model = build_model(model_config, 11, 13)
    source, target = jnp.ones((2, 5), jnp.int32), jnp.ones((2, 4), jnp.int32)
    shapes = jax.eval_shape(lambda: model.init({"params": jax.random.key(0)}, source, source > 0, target, train=False))[
        "params"
    ]
    paths = {
        "/".join(str(key.key) for key in path): list(leaf.shape)
        for path, leaf in jax.tree_util.tree_flatten_with_path(shapes)[0]
    }
    assert paths == PARAM_PATHS["paths"][case]
