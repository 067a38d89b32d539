"""The stateful attentions (location-aware, coverage, forward, multi-head additive / location) and the coverage loss.

Each module runs with N(0, 0.5^2) parameters (from the shapes `init` would create) and is checked against a
float64 NumPy implementation written here from the papers' equations with plain loops, reading only the
params dict; then the properties (padding, fully masked rows, gradients, jit / vmap, parallel = step by
step) and the plug-in into both attentive decoders and beam search. One compiled program per case, cached.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from attn_research.attention import build_attention
from attn_research.config_defaults import base_config
from attn_research.decoding import beam_search
from attn_research.models import Seq2Seq, default_model_config
from attn_research.tasks.seq2seq import Seq2SeqTask
from attn_research.tasks.seq2seq.loss import coverage_loss
from attn_research.training.state import TrainState
from attn_research.training.steps import train_step
from tests.grids import tiered
from tests.helpers import fast_jit

B, T, S = 3, 4, 6  # batch, query_len, key_len
QDIM, KDIM, VDIM = 5, 4, 3
DIM, CHANNELS, WIDTH, ATT_WIN, HEADS, TEMPERATURE = 5, 3, 3, 2, 2, 0.8
MASK = np.array([[1] * 6, [1, 1, 1, 1, 0, 0], [0] * 6], bool)  # right-padded; batch 2 fully masked

CASES = {
    "location_previous": dict(family="location_aware", location_source="previous"),
    "location_cumulative": dict(family="location_aware", location_source="cumulative"),
    "location_previous_2d": dict(family="location_aware", location_source="previous_2d"),
    "location_recurrent": dict(family="location_aware", location_source="recurrent"),
    "coverage": dict(family="coverage"),
    "coverage_fertility": dict(family="coverage", fertility=2.0),
    "forward_location": dict(family="forward"),
    "forward_location_ta": dict(family="forward", transition_agent=True),
    "forward_additive_ta": dict(family="forward", forward_score="additive", transition_agent=True),
    "multi_head_additive": dict(family="multi_head_additive"),
    "multi_head_location": dict(family="multi_head_location"),
}


def case_config(case: str) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(
        dict(
            dim=DIM,
            channels=CHANNELS,
            filter_width=WIDTH,
            att_win=ATT_WIN,
            heads=HEADS,
            temperature=TEMPERATURE,
            **CASES[case],
        )
    )


def randomize(tree, seed: int, scale: float = 0.5):
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda x: jnp.asarray(rng.normal(size=x.shape) * scale, x.dtype), tree)


def inputs(seed: int):
    rng = np.random.default_rng(seed)
    return tuple(
        jnp.asarray(rng.normal(size=shape), jnp.float32) for shape in ((B, T, QDIM), (B, S, KDIM), (B, S, VDIM))
    )


# ------------------------------------------------------------------------------ NumPy references (float64)
def f64(x) -> np.ndarray:
    return np.asarray(x, np.float64)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_softmax(energy, real, temperature=1.0):
    """Softmax over the real keys (zero elsewhere; all zero if none is real)."""
    out = np.zeros(len(energy))
    if not real.any():
        return out
    top = max(energy[j] / temperature for j in range(len(energy)) if real[j])
    for j in range(len(energy)):
        if real[j]:
            out[j] = math.exp(energy[j] / temperature - top)
    return out / out.sum()


def np_conv_same(signal, filters):
    """f[j, c] = sum_k sum_r F[k, r, c] signal[j + k - (W-1)/2, r], zero outside the keys (Chorowski eq. 8)."""
    length = signal.shape[0]
    width, _, channels = filters.shape
    out = np.zeros((length, channels))
    for j in range(length):
        for k in range(width):
            src = j + k - (width - 1) // 2
            if 0 <= src < length:
                out[j] += signal[src] @ filters[k]
    return out


def np_energy(query_proj, keys_proj, extra, w):
    """e_j = w^T tanh(query_proj + keys_proj[j] + extra[j]), one query."""
    return np.array([w @ np.tanh(query_proj + keys_proj[j] + extra[j]) for j in range(len(keys_proj))])


def np_location(p, query, keys, values, mask, source):
    """Chorowski et al. (2015), eqs. 5-9, with the ESPnet sources; zero initial alignments and LSTM state."""
    p = {k: f64(v) for k, v in p.items()}
    query, keys, values = f64(query), f64(keys), f64(values)
    weights, context = np.zeros((B, T, S)), np.zeros((B, T, VDIM))
    final = {}
    for b in range(B):
        previous, coverage, history = np.zeros(S), np.zeros(S), np.zeros((ATT_WIN, S))
        h, c = np.zeros(DIM), np.zeros(DIM)
        keys_proj = keys[b] @ p["V"] + p["b"]
        for i in range(T):
            signal = {
                "previous": previous[:, None],
                "cumulative": coverage[:, None],
                "previous_2d": history.T,
                "recurrent": previous[:, None],
            }[source]
            f = np_conv_same(signal, p["F"])
            if source == "recurrent":  # ESPnet AttLocRec: max-pool relu(f) over the real keys -> LSTM cell
                pooled = np.zeros(CHANNELS)
                if mask[b].any():
                    pooled = np.max(np.maximum(f[mask[b]], 0.0), axis=0)
                gates = pooled @ p["lstm_Wx"] + h @ p["lstm_Wh"]
                gi, gf, gg, go = gates[:DIM], gates[DIM : 2 * DIM], gates[2 * DIM : 3 * DIM], gates[3 * DIM :]
                c = sigmoid(gf) * c + sigmoid(gi) * np.tanh(gg)
                h = sigmoid(go) * np.tanh(c)
                location = np.tile(h, (S, 1))
            else:
                location = f @ p["U"]
            a = np_softmax(np_energy(query[b, i] @ p["W"], keys_proj, location, p["w"]), mask[b], TEMPERATURE)
            weights[b, i], context[b, i] = a, a @ values[b]
            previous, coverage, history = a, coverage + a, np.vstack([history[1:], a])
        state = {
            "previous": {"alignment": previous},
            "cumulative": {"coverage": coverage},
            "previous_2d": {"alignments": history},
            "recurrent": {"alignment": previous, "lstm_h": h, "lstm_c": c},
        }[source]
        for key, value in state.items():
            final.setdefault(key, []).append(value)
    return weights, context, {k: np.stack(v) for k, v in final.items()}


def np_coverage(p, query, keys, values, mask, fertility):
    """Tu et al. (2016), sec. 3.1.1 / See et al. (2017), eqs. 10-11: C_0 = 0, C_i = C_{i-1} + a_i (/ Phi)."""
    p = {k: f64(v) for k, v in p.items()}
    query, keys, values = f64(query), f64(keys), f64(values)
    weights, context, final = np.zeros((B, T, S)), np.zeros((B, T, VDIM)), np.zeros((B, S))
    for b in range(B):
        coverage = np.zeros(S)
        phi = np.ones(S)
        if fertility:
            phi = np.array([fertility * sigmoid(keys[b, j] @ p["U_f"]) for j in range(S)])
        keys_proj = keys[b] @ p["W_h"] + p["b_attn"]
        for i in range(T):
            extra = np.array([coverage[j] * p["w_c"] for j in range(S)])
            a = np_softmax(np_energy(query[b, i] @ p["W_s"], keys_proj, extra, p["v"]), mask[b], TEMPERATURE)
            weights[b, i], context[b, i] = a, a @ values[b]
            coverage = coverage + a / phi
        final[b] = coverage
    return weights, context, {"coverage": final}


def np_forward(p, query, keys, values, mask, location, agent):
    """Zhang et al. (2018), eqs. 8-14: alpha_0 = one-hot at key 0, u_0 = 0.5, y_t = softmax(e_t / T)."""
    p = {k: f64(v) for k, v in p.items()}
    query, keys, values = f64(query), f64(keys), f64(values)
    weights, context = np.zeros((B, T, S)), np.zeros((B, T, VDIM))
    final = {"alignment": np.zeros((B, S)), "transition": np.zeros(B)}
    for b in range(B):
        alpha = np.zeros(S)
        alpha[0] = 1.0
        u = 0.5
        keys_proj = keys[b] @ p["V"] + p["b"]
        for t in range(T):
            extra = np_conv_same(alpha[:, None], p["F"]) @ p["U"] if location else np.zeros((S, DIM))
            y = np_softmax(np_energy(query[b, t] @ p["W"], keys_proj, extra, p["w"]), mask[b], TEMPERATURE)
            new = np.zeros(S)
            for n in range(S):
                before = alpha[n - 1] if n > 0 else 0.0
                new[n] = ((1 - u) * alpha[n] + u * before if agent else alpha[n] + before) * y[n]
            alpha = new / new.sum() if new.sum() > 0 else new
            c = alpha @ values[b]
            weights[b, t], context[b, t] = alpha, c
            if agent:
                u = sigmoid(np.concatenate([c, query[b, t]]) @ p["W_ta"] + p["b_ta"])
        final["alignment"][b], final["transition"][b] = alpha, u
    if not agent:
        del final["transition"]
    return weights, context, final


def np_multi_head(p, query, keys, values, mask, location):
    """ESPnet AttMultiHeadAdd / AttMultiHeadLoc: per-head additive (location) attention, [c_1..c_H] W_o."""
    p = {k: f64(v) for k, v in p.items()}
    query, keys, values = f64(query), f64(keys), f64(values)
    weights, context = np.zeros((B, HEADS, T, S)), np.zeros((B, T, VDIM))
    final = np.zeros((B, HEADS, S))
    for b in range(B):
        previous = np.zeros((HEADS, S))
        for i in range(T):
            heads_out = []
            for h in range(HEADS):
                keys_proj = keys[b] @ p["V"][h] + p["b"][h]
                extra = np_conv_same(previous[h][:, None], p["F"][h]) @ p["U"][h] if location else np.zeros((S, DIM))
                a = np_softmax(np_energy(query[b, i] @ p["W"][h], keys_proj, extra, p["w"][h]), mask[b], TEMPERATURE)
                weights[b, h, i] = a
                heads_out.append(sum(a[j] * (values[b, j] @ p["W_v"][h]) for j in range(S)))
                previous[h] = a
            context[b, i] = np.concatenate(heads_out) @ p["W_o"]
        final[b] = previous
    return weights, context, ({"alignment": final} if location else {"position": np.full(B, T)})


def reference(case: str, params, query, keys, values):
    config, p = CASES[case], params["params"]
    family = config["family"]
    if family == "location_aware":
        return np_location(p, query, keys, values, MASK, config["location_source"])
    if family == "coverage":
        return np_coverage(p, query, keys, values, MASK, config.get("fertility", 0.0))
    if family == "forward":
        return np_forward(
            p,
            query,
            keys,
            values,
            MASK,
            config.get("forward_score") != "additive",
            config.get("transition_agent", False),
        )
    return np_multi_head(p, query, keys, values, MASK, family == "multi_head_location")


# -------------------------------------------------------------------------------- one program per case
@functools.cache
def run_case(case: str):
    """(module, params, inputs, outputs): the parallel call, the same queries one at a time, and gradients."""
    module = build_attention(case_config(case))
    query, keys, values = inputs(7)
    mask = jnp.asarray(MASK)
    params = randomize(jax.eval_shape(module.init, jax.random.key(0), query, keys, values, mask), 11)

    def run(params, query, keys, values):
        parallel = module.apply(params, query, keys, values, mask)
        memory = module.apply(params, keys, method=module.precompute)

        def one_query(state, query_i):  # the decoder pattern: one query per call, keys projected once
            out = module.apply(params, query_i[:, None], keys, values, mask, state, precomputed=memory)
            return out.state, (out.context, out.weights)

        state, (contexts, weights) = jax.lax.scan(one_query, module.init_state(B, S), jnp.swapaxes(query, 0, 1))
        time_axis = 2 if parallel.weights.ndim == 4 else 1  # weights [T, batch, (heads,) 1, key_len]
        stepped = (jnp.concatenate(list(contexts), 1), jnp.concatenate(list(weights), time_axis), state)

        def objective(params, query, keys, values):
            out = module.apply(params, query, keys, values, mask)
            return jnp.sum(out.context**2) + jnp.sum(out.weights * jnp.arange(S))

        grads = jax.grad(objective, argnums=(0, 1, 2, 3))(params, query, keys, values)
        return parallel, stepped, grads

    return module, params, (query, keys, values), fast_jit(run)(params, query, keys, values)


@pytest.mark.parametrize("case", CASES)
def test_matches_numpy_reference(case):
    _, params, (query, keys, values), (out, _, _) = run_case(case)
    ref_weights, ref_context, ref_state = reference(case, params, query, keys, values)
    np.testing.assert_allclose(out.weights, ref_weights, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(out.context, ref_context, rtol=2e-5, atol=2e-6)
    assert set(out.state) == set(ref_state)
    for key, value in ref_state.items():
        np.testing.assert_allclose(out.state[key], value, rtol=2e-5, atol=2e-6, err_msg=key)


@pytest.mark.parametrize("case", CASES)
def test_padding_normalization_and_fully_masked_rows(case):
    _, _, _, (out, _, _) = run_case(case)
    weights = np.asarray(out.weights)
    if weights.ndim == 4:  # multi-head: [batch, heads, query_len, key_len]
        weights = np.moveaxis(weights, 1, 0).reshape(-1, B, T, S)
    else:
        weights = weights[None]
    padded = np.broadcast_to(~MASK[None, :, None, :], weights.shape)
    assert np.all(weights[padded] == 0.0)  # exactly zero, not small
    assert np.all(weights >= 0.0)
    np.testing.assert_allclose(weights[:, :2].sum(-1), 1.0, rtol=1e-5)
    assert np.all(weights[:, 2] == 0.0) and np.all(np.asarray(out.context)[2] == 0.0)
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(out))
    assert all(np.asarray(x).shape[0] == B for x in jax.tree.leaves(out.state))  # beam search reorders axis 0


@pytest.mark.parametrize("case", CASES)
def test_parallel_call_equals_step_by_step(case):
    _, _, _, (out, (context, weights, state), _) = run_case(case)
    np.testing.assert_allclose(weights, out.weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, out.context, rtol=1e-5, atol=1e-6)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), state, out.state)


@pytest.mark.parametrize("case", CASES)
def test_gradients_are_finite_and_reach_every_parameter(case):
    _, _, _, (_, _, grads) = run_case(case)
    param_grads, *input_grads = grads
    for path, g in jax.tree_util.tree_leaves_with_path(param_grads):
        assert np.all(np.isfinite(g)), path
        assert np.any(g != 0.0), f"no gradient reaches {jax.tree_util.keystr(path)}"
    assert all(np.all(np.isfinite(g)) for g in input_grads)
    assert np.all(np.asarray(input_grads[1])[1, 4:] == 0.0)  # padded keys do not influence anything


@pytest.mark.parametrize("case", ["forward_location_ta"])
def test_jit_and_vmap_equal_eager(case):
    module, params, (query, keys, values), (out, _, _) = run_case(case)
    eager = module.apply(params, query, keys, values, jnp.asarray(MASK))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), eager, out)
    other = inputs(8)
    stacked = [jnp.stack([a, b]) for a, b in zip((query, keys, values), other)]
    batched = jax.vmap(lambda q, k, v: module.apply(params, q, k, v, jnp.asarray(MASK)))(*stacked)
    second = module.apply(params, *other, jnp.asarray(MASK))
    for i, expected in enumerate((eager, second)):
        np.testing.assert_allclose(batched.weights[i], expected.weights, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(batched.context[i], expected.context, rtol=1e-5, atol=1e-6)


def test_forward_attention_moves_at_most_one_key_per_step():
    """After the (t+1)-th query alpha is zero beyond key t + 1 (eq. 9 from the first key), whatever the scores."""
    _, _, _, (out, _, _) = run_case("forward_location")
    weights = np.asarray(out.weights)
    for t in range(T):
        assert np.all(weights[:, t, t + 2 :] == 0.0)
        assert np.all(weights[0, t, : t + 2] > 0.0)  # ... and every reachable key of a full row has weight


def test_invalid_settings_raise_value_errors():
    q, k, v = inputs(1)
    for bad, match in (
        (dict(family="location_aware", location_source="prev"), "previous, previous_2d"),
        (dict(family="forward", forward_score="dot"), "additive, location_aware"),
        (dict(family="location_aware", filter_width=4), "odd"),
        (dict(family="multi_head_location", filter_width=0), "odd"),
        (dict(family="coverage", fertility=-1.0), "fertility"),
        (dict(family="multi_head_additive", heads=0), "heads"),
        (dict(family="forward", temperature=0.0), "temperature"),
        (dict(family="covrage"), "coverage"),
    ):
        with pytest.raises(ValueError, match=match):
            module = build_attention(ml_collections.ConfigDict(dict(dim=4, **bad)))
            jax.eval_shape(module.init, jax.random.key(0), q, k, v)
    module = build_attention(ml_collections.ConfigDict(dict(family="coverage", dim=4)))
    with pytest.raises(ValueError, match="key_len"):
        jax.eval_shape(module.init, jax.random.key(0), q, k, v[:, :3])


# ---------------------------------------------------------------------------------------- coverage loss
def np_coverage_loss(alignments, target_mask):
    """See et al. (2017), eq. 12, looping over target steps: sum_i min(a_i^t, sum_{t'<t, real} a_i^{t'})."""
    batch, steps, length = alignments.shape
    out = np.zeros((batch, steps))
    for b in range(batch):
        coverage = np.zeros(length)
        for t in range(steps):
            if target_mask[b, t]:
                out[b, t] = sum(min(alignments[b, t, i], coverage[i]) for i in range(length))
                coverage += alignments[b, t]
    return out


def test_coverage_loss_against_numpy_and_a_worked_case():
    worked = coverage_loss(jnp.array([[[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]]), jnp.array([[True, True, True]]))
    np.testing.assert_allclose(worked, [[0.0, 0.5, 0.5]])  # c = [0,0], [1,0], [1.5,0.5]
    rng = np.random.default_rng(3)
    alignments = rng.dirichlet(np.ones(5), size=(3, 4))
    target_mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]], bool)
    got = coverage_loss(jnp.asarray(alignments, jnp.float32), jnp.asarray(target_mask))
    np.testing.assert_allclose(got, np_coverage_loss(alignments, target_mask), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="target_mask"):
        coverage_loss(jnp.zeros((3, 4, 5)), jnp.ones((3, 5), bool))


# ------------------------------------------------------------------------- in the decoders and beam search
VOCAB, BOS, EOS = 10, 1, 2
SOURCE = jnp.array([[3, 4, 5, 6, 7], [8, 9, 3, 0, 0], [5, 0, 0, 0, 0]], jnp.int32)
TARGET_IN = jnp.array([[BOS, 3, 4, 5], [BOS, 6, 7, 8], [BOS, 9, 3, 4]], jnp.int32)
TARGET_OUT = jnp.array([[3, 4, 5, EOS], [6, 7, 8, EOS], [9, 3, EOS, 0]], jnp.int32)
TARGET_MASK = jnp.array([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 0]], bool)
DECODER_CASES = {  # (decoder, attention config, run beam search): every family in both decoders, beam search
    # once per family (each beam search program costs about a second of compilation)
    "bahdanau-location_2d": ("bahdanau", dict(family="location_aware", location_source="previous_2d"), True),
    "luong-location_recurrent": ("luong", dict(family="location_aware", location_source="recurrent"), False),
    "bahdanau-coverage": ("bahdanau", dict(family="coverage", fertility=2.0), False),
    "luong-coverage": ("luong", dict(family="coverage"), True),
    "bahdanau-forward_ta": ("bahdanau", dict(family="forward", transition_agent=True), True),
    "luong-forward_additive": ("luong", dict(family="forward", forward_score="additive"), False),
    "bahdanau-multi_head_location": ("bahdanau", dict(family="multi_head_location"), False),
    "luong-multi_head_location": ("luong", dict(family="multi_head_location"), True),
    "bahdanau-multi_head_additive": ("bahdanau", dict(family="multi_head_additive"), True),
    "luong-multi_head_additive": ("luong", dict(family="multi_head_additive"), False),
}


@functools.cache
def run_model(case: str):
    decoder, attention, with_beam = DECODER_CASES[case]
    config = default_model_config()
    config.update(dict(embed_dim=8, encoder_hidden=4, decoder_hidden=8, dropout=0.0, decoder=decoder))
    config.attention = ml_collections.ConfigDict(
        dict(dim=4, channels=2, filter_width=3, att_win=2, heads=2, **attention)
    )
    model = Seq2Seq(ml_collections.FrozenConfigDict(config), VOCAB, VOCAB)
    mask = SOURCE > 0
    shapes = jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0), SOURCE, mask, TARGET_IN)
    variables = randomize(shapes, 5)

    def run(variables):
        out = model.apply(variables, SOURCE, mask, TARGET_IN, train=False)
        encoded = model.apply(variables, SOURCE, mask, method=Seq2Seq.encode)
        carry = model.apply(variables, encoded, method=Seq2Seq.init_carry)

        def step(carry, token):
            carry, logits, weights = model.apply(variables, encoded, carry, token, method=Seq2Seq.decode_step)
            return carry, (logits, weights)

        _, (logits, weights) = jax.lax.scan(step, carry, TARGET_IN.T)
        beams = None
        if with_beam:
            beams = beam_search(model, variables, SOURCE, mask, beam_size=2, max_len=4, bos_id=BOS, eos_id=EOS)
        return out, jnp.swapaxes(logits, 0, 1), jnp.swapaxes(weights, 0, 1), beams

    return model, variables, fast_jit(run)(variables)


# make test: the five cases with beam search (every family once, both decoders); make test-all: all ten.
@pytest.mark.parametrize("case", tiered(DECODER_CASES, [k for k, (_, _, beam) in DECODER_CASES.items() if beam]))
def test_family_plugs_into_decoders_and_beam_search(case):
    _, _, (out, logits, weights, beams) = run_model(case)
    np.testing.assert_allclose(out.logits, logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.alignments, weights, rtol=1e-4, atol=1e-6)
    alignments = np.asarray(out.alignments)
    assert np.all(alignments[np.broadcast_to(~np.asarray(SOURCE > 0)[:, None, :], alignments.shape)] == 0.0)
    np.testing.assert_allclose(alignments.sum(-1), 1.0, rtol=1e-5)
    if beams is not None:
        assert beams.tokens.shape == (B, 1, 4)
        assert np.all(np.isfinite(beams.scores)) and np.all(np.isfinite(beams.alignments))
        padded = np.broadcast_to(~np.asarray(SOURCE > 0)[:, None, None, :], beams.alignments.shape)
        assert np.all(np.asarray(beams.alignments)[padded] == 0.0)


@pytest.mark.slow  # compiles a whole-model gradient: about 5 s of CPU
def test_train_step_adds_the_weighted_coverage_loss():
    """loss = mean token cross-entropy + lambda * mean coverage loss per target token (See et al., eq. 13)."""
    model, variables, (out, _, _, _) = run_model("bahdanau-coverage")
    config = base_config()
    config.train.coverage_loss_weight = 0.5
    state = TrainState.create(
        apply_fn=model.apply,
        params=variables["params"],
        tx=optax.sgd(0.0),
        rng=jax.random.PRNGKey(0),
        task=Seq2SeqTask(config),
    )
    batch = dict(
        source=SOURCE, source_mask=SOURCE > 0, target_input=TARGET_IN, target_output=TARGET_OUT, target_mask=TARGET_MASK
    )
    _, metrics = train_step(state, batch)
    logits, targets, mask = f64(out.logits), np.asarray(TARGET_OUT), np.asarray(TARGET_MASK)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    tokens = mask.sum()
    nll = -sum(log_probs[b, t, targets[b, t]] for b in range(B) for t in range(4) if mask[b, t]) / tokens
    covloss = np_coverage_loss(f64(out.alignments), mask).sum() / tokens
    np.testing.assert_allclose(metrics["coverage_loss"], covloss, rtol=1e-4)
    np.testing.assert_allclose(metrics["loss"], nll + 0.5 * covloss, rtol=1e-4)
    assert covloss > 0
