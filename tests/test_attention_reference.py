"""Independent NumPy references for the attention catalogue, written from the papers' equations.

The other tests/test_attention_*.py files import these functions. Nothing here calls
attn_research: the references read only the Flax params dict (W matrices) and compute in float64 with
plain loops, so that they share no code with the implementation. The tests at the bottom check the
references themselves on hand-worked cases, so that a wrong reference cannot hide a wrong implementation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

SCORE_NAMES = ("dot", "scaled_dot", "general", "multiplicative", "additive", "concat", "location", "cosine")
WINDOW_NAMES = ("global", "local_m", "local_p")
NORMALIZER_NAMES = ("softmax", "sparsemax", "hardmax", "sigmoid")

# The parameter scopes of the factored attention's parts (their SCOPE_NAME: the nn.compact auto-names of before).
SCORE_MODULE = {
    "general": "GeneralScore_0",
    "multiplicative": "MultiplicativeScore_0",
    "additive": "AdditiveScore_0",
    "concat": "ConcatScore_0",
    "location": "LocationScore_0",
    "cosine": "CosineScore_0",
}
LOCAL_P_MODULE = "LocalPredictiveWindow_0"


def f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------------------------------------ scores
def np_score(name: str, params: dict, h_t: np.ndarray, h_s: np.ndarray, s: int, max_len: int = 0) -> float:
    """e_t(s) for one query h_t and one key h_s (the key at source position s), float64.

    params: the score's own params dict (e.g. params["params"]["GeneralScore_0"]), or {} for dot, scaled_dot.
    """
    h_t, h_s = f64(h_t), f64(h_s)
    if name == "dot":  # Luong eq. 8
        return float(np.sum(h_t * h_s))
    if name == "scaled_dot":  # Vaswani eq. 1
        return float(np.sum(h_t * h_s) / math.sqrt(h_s.shape[0]))
    if name == "general":  # Luong eq. 8: h_t^T W_a h_s
        w_a = f64(params["W_a"])
        return float(sum(h_t[i] * w_a[i, j] * h_s[j] for i in range(h_t.shape[0]) for j in range(h_s.shape[0])))
    if name == "multiplicative":  # Britz sec. 4.5: <W1 h_s, W2 h_t>; Flax kernels are [in, out]
        w1, w2 = f64(params["W1"]["kernel"]).T, f64(params["W2"]["kernel"]).T
        return float(np.dot(w1 @ h_s, w2 @ h_t))
    if name == "additive":  # Bahdanau eq. 6: v^T tanh(W1 h_s + W2 h_t); tfa normalize: v -> g v/||v||, + b
        w1, w2, v = f64(params["W1"]["kernel"]).T, f64(params["W2"]["kernel"]).T, f64(params["v"])
        inner = w1 @ h_s + w2 @ h_t
        if "g" in params:
            v = f64(params["g"]) * v / math.sqrt(float(np.sum(v * v)))
            inner = inner + f64(params["b"])
        return float(np.dot(v, np.tanh(inner)))
    if name == "concat":  # Luong eq. 8: v_a^T tanh(W_a [h_t; h_s]); the param is stored [in, out]
        # W_a^T is stored as its query block [query_dim, d] and key block [key_dim, d]
        w_a = np.concatenate([f64(params["W_a_query"]), f64(params["W_a_key"])], axis=0).T
        v_a = f64(params["v_a"])[:, 0]
        return float(np.dot(v_a, np.tanh(w_a @ np.concatenate([h_t, h_s]))))
    if name == "location":  # Luong eq. 8: a_t = softmax(W_a h_t); positions >= max_len get no weight
        if s >= max_len:
            return -math.inf
        w_a = f64(params["W_a"]["kernel"]).T  # [max_len, query_dim]
        return float(np.dot(w_a[s], h_t))
    if name == "cosine":  # g * cos(h_t, h_s)
        g = float(f64(params["g"]))
        return g * float(np.dot(h_t, h_s) / (np.linalg.norm(h_t) * np.linalg.norm(h_s)))
    raise KeyError(name)


def np_scores(name: str, params: dict, query, keys, max_len: int = 0) -> np.ndarray:
    """[batch, query_len, key_len] float64 scores by looping over every (b, t, s)."""
    query, keys = f64(query), f64(keys)
    batch, query_len, _ = query.shape
    key_len = keys.shape[1]
    out = np.zeros((batch, query_len, key_len))
    for b in range(batch):
        for t in range(query_len):
            for s in range(key_len):
                out[b, t, s] = np_score(name, params, query[b, t], keys[b, s], s, max_len)
    return out


def score_params(name: str, params: dict) -> dict:
    """The score's own params out of a FactoredAttention params dict."""
    return params.get("params", {}).get(SCORE_MODULE.get(name, ""), {})


# ----------------------------------------------------------------------------------- normalizers
def np_sparsemax(z) -> np.ndarray:
    """Martins & Astudillo (2016), Algorithm 1, for a 1-D vector z."""
    z = f64(z)
    z_sorted = np.sort(z)[::-1]
    k_z = 0
    running = 0.0
    support_sum = 0.0
    for k in range(1, z.shape[0] + 1):
        running += z_sorted[k - 1]
        if 1.0 + k * z_sorted[k - 1] > running:
            k_z, support_sum = k, running
    tau = (support_sum - 1.0) / k_z
    return np.maximum(z - tau, 0.0)


def np_simplex_projection_bisect(z, iters: int = 200) -> np.ndarray:
    """argmin_{p in simplex} ||p - z||^2 by bisection on tau: sum_s max(z_s - tau, 0) = 1 (a second method)."""
    z = f64(z)
    lo, hi = z.min() - 1.0, z.max()
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if np.sum(np.maximum(z - mid, 0.0)) > 1.0:
            lo = mid
        else:
            hi = mid
    return np.maximum(z - 0.5 * (lo + hi), 0.0)


def np_normalize_row(name: str, e, allowed, temperature: float = 1.0) -> np.ndarray:
    """Weights for one row of scores e [key_len] over the allowed (bool) keys; zeros elsewhere."""
    e, allowed = f64(e), np.asarray(allowed, bool) & np.isfinite(f64(e))
    out = np.zeros(e.shape)
    idx = np.flatnonzero(allowed)
    if idx.size == 0:
        return out
    z = e[idx]
    if name == "softmax":
        ex = np.exp((z - z.max()) / temperature)
        out[idx] = ex / ex.sum()
    elif name == "sparsemax":
        out[idx] = np_sparsemax(z)
    elif name == "hardmax":
        out[idx[int(np.argmax(z))]] = 1.0
    elif name == "sigmoid":  # Chorowski et al. 2015, sec. 2.3
        gates = np_sigmoid(z)
        out[idx] = gates / gates.sum()
    else:
        raise KeyError(name)
    return out


def np_normalize(name: str, e, allowed, temperature: float = 1.0) -> np.ndarray:
    e = f64(e)
    out = np.zeros(e.shape)
    for index in np.ndindex(*e.shape[:-1]):
        out[index] = np_normalize_row(name, e[index], np.asarray(allowed)[index], temperature)
    return out


# ---------------------------------------------------------------------------------------- windows
def np_local_p_position(params: dict, h_t, source_length: float) -> float:
    """Luong eq. 9: p_t = S sigmoid(v_p^T tanh(W_p h_t))."""
    w_p = f64(params["W_p"]["kernel"]).T  # [dim, query_dim]
    v_p = f64(params["v_p"]["kernel"])[:, 0]
    return float(source_length) * float(np_sigmoid(np.dot(v_p, np.tanh(w_p @ f64(h_t)))))


def np_window(name: str, params: dict, query, mask, positions, half_width: int):
    """(allowed [batch, query_len, key_len] bool, factor float64 of the same shape) for a window.

    positions: [batch, query_len] target positions t. local_p's S is the number of unmasked keys.
    """
    query, mask = f64(query), np.asarray(mask, bool)
    batch, query_len, _ = query.shape
    key_len = mask.shape[1]
    allowed = np.ones((batch, query_len, key_len), bool)
    factor = np.ones((batch, query_len, key_len))
    for b in range(batch):
        for t in range(query_len):
            for s in range(key_len):
                if name == "local_m":  # p_t = t, |s - p_t| <= D
                    allowed[b, t, s] = abs(s - positions[b][t]) <= half_width
                elif name == "local_p":  # eqs. 9-10, sigma = D / 2
                    p_t = np_local_p_position(params["params"][LOCAL_P_MODULE], query[b, t], mask[b].sum())
                    allowed[b, t, s] = abs(s - p_t) <= half_width
                    sigma = half_width / 2.0
                    factor[b, t, s] = math.exp(-((s - p_t) ** 2) / (2.0 * sigma**2))
    return allowed, factor


def np_attention(
    score: str,
    window: str,
    normalizer: str,
    params: dict,
    query,
    keys,
    values,
    mask,
    positions=None,
    half_width: int = 1,
    max_len: int = 0,
    temperature: float = 1.0,
):
    """The factored attention, from the equations: (context, weights, allowed) in float64."""
    query = f64(query)
    batch, query_len, _ = query.shape
    mask = np.asarray(mask, bool)
    if positions is None:
        positions = np.broadcast_to(np.arange(query_len), (batch, query_len))
    e = np_scores(score, score_params(score, params), query, keys, max_len)
    win_allowed, factor = np_window(window, params, query, mask, positions, half_width)
    allowed = mask[:, None, :] & win_allowed & np.isfinite(e)
    weights = np_normalize(normalizer, e, allowed, temperature) * factor
    context = np.einsum("bqk,bkd->bqd", weights, f64(values))
    return context, weights, allowed


# ------------------------------------------------------------------------------------- multi-head
def np_multihead(params: dict, query, keys, values, allowed, prior_scores=None, return_scores=False):
    """Vaswani et al. (2017) eq. 1 and sec. 3.2.2 from the DenseGeneral params, with head loops.

    allowed: [batch, query_len, key_len] bool. prior_scores [batch, heads, query_len, key_len] or None: added to
    each head's scores before the softmax (RealFormer's residual attention, He et al. 2021, eq. 4). Returns
    (context [batch, query_len, out_dim], weights [batch, heads, query_len, key_len]), and the scores that went
    into the softmax [batch, heads, query_len, key_len] when return_scores; rows with no allowed key get zero
    weights and zero context.
    """
    p = params["params"]
    query, keys, values = f64(query), f64(keys), f64(values)
    wq, bq = f64(p["query"]["kernel"]), f64(p["query"]["bias"])  # [in, heads, d_k], [heads, d_k]
    wk, bk = f64(p["key"]["kernel"]), f64(p["key"]["bias"])
    wv, bv = f64(p["value"]["kernel"]), f64(p["value"]["bias"])
    wo, bo = f64(p["out"]["kernel"]), f64(p["out"]["bias"])  # [heads, d_v, out], [out]
    heads, d_k = wq.shape[1], wq.shape[2]
    batch, query_len, _ = query.shape
    key_len = keys.shape[1]
    weights = np.zeros((batch, heads, query_len, key_len))
    scores = np.zeros((batch, heads, query_len, key_len))
    context = np.zeros((batch, query_len, wo.shape[-1]))
    for b in range(batch):
        head_outputs = []
        for h in range(heads):
            q = query[b] @ wq[:, h, :] + bq[h]
            k = keys[b] @ wk[:, h, :] + bk[h]
            v = values[b] @ wv[:, h, :] + bv[h]
            logits = q @ k.T / math.sqrt(d_k)
            if prior_scores is not None:
                logits = logits + f64(prior_scores[b, h])
            scores[b, h] = logits
            for t in range(query_len):
                weights[b, h, t] = np_normalize_row("softmax", logits[t], allowed[b, t])
            head_outputs.append(weights[b, h] @ v)  # [query_len, d_v]
        concat = np.concatenate(head_outputs, axis=-1)  # [query_len, heads * d_v]
        out = concat @ wo.reshape(-1, wo.shape[-1]) + bo
        context[b] = np.where(allowed[b].any(-1, keepdims=True), out, 0.0)
    return (context, weights, scores) if return_scores else (context, weights)


def np_sinusoidal(positions, dim: int) -> np.ndarray:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)) (Vaswani sec. 3.5)."""
    positions = np.asarray(positions)
    out = np.zeros(positions.shape + (dim,))
    for index in np.ndindex(*positions.shape):
        pos = float(positions[index])
        for i in range(dim // 2):
            angle = pos / 10000.0 ** (2.0 * i / dim)
            out[index + (2 * i,)] = math.sin(angle)
            out[index + (2 * i + 1,)] = math.cos(angle)
    return out


# ------------------------------------------------------------- the references, checked by hand
def test_reference_sparsemax_hand_worked():
    # z = [1, 0.5, -1]: k(z) = 2 (1 + 2*0.5 = 2 > 1.5, 1 + 3*(-1) = -2 < 0.5), tau = (1.5 - 1)/2 = 0.25.
    np.testing.assert_allclose(np_sparsemax([1.0, 0.5, -1.0]), [0.75, 0.25, 0.0], atol=1e-12)
    np.testing.assert_allclose(np_sparsemax([0.1, 0.1]), [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(np_sparsemax([3.0, 0.0, 0.0]), [1.0, 0.0, 0.0], atol=1e-12)
    z = np.random.default_rng(0).normal(size=(50, 7)) * 2
    for row in z:
        np.testing.assert_allclose(np_sparsemax(row), np_simplex_projection_bisect(row), atol=1e-9)


def test_reference_normalizers_hand_worked():
    e = np.array([0.0, math.log(3.0), 5.0])
    allowed = np.array([True, True, False])
    np.testing.assert_allclose(np_normalize_row("softmax", e, allowed), [0.25, 0.75, 0.0], atol=1e-12)
    # T = 2: exp(log 3 / 2) = sqrt 3.
    np.testing.assert_allclose(
        np_normalize_row("softmax", e, allowed, 2.0),
        [1 / (1 + math.sqrt(3)), math.sqrt(3) / (1 + math.sqrt(3)), 0.0],
        atol=1e-12,
    )
    np.testing.assert_allclose(np_normalize_row("hardmax", e, allowed), [0.0, 1.0, 0.0])
    # sigma(0) = 1/2, sigma(log 3) = 3/4: weights 0.4, 0.6.
    np.testing.assert_allclose(np_normalize_row("sigmoid", e, allowed), [0.4, 0.6, 0.0], atol=1e-12)
    assert not np_normalize_row("softmax", e, np.zeros(3, bool)).any()


def test_reference_scores_hand_worked():
    h_t, h_s = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    assert np_score("dot", {}, h_t, h_s, 0) == 1.0
    assert np_score("scaled_dot", {}, h_t, h_s, 0) == pytest.approx(1.0 / math.sqrt(2))
    assert np_score("general", {"W_a": np.array([[0.0, 1.0], [1.0, 0.0]])}, h_t, h_s, 0) == 1.0 * -1 + 2 * 3
    concat = {"W_a_query": np.eye(2), "W_a_key": np.zeros((2, 2)), "v_a": np.array([[1.0], [1.0]])}  # = h_t
    assert np_score("concat", concat, h_t, h_s, 0) == pytest.approx(math.tanh(1.0) + math.tanh(2.0))
    additive = {
        "W1": {"kernel": np.eye(2)},
        "W2": {"kernel": np.eye(2)},
        "v": np.array([3.0, 4.0]),
        "g": np.array(10.0),
        "b": np.array([0.0, -1.0]),
    }  # g v / ||v|| = [6, 8]
    assert np_score("additive", additive, h_t, h_s, 0) == pytest.approx(6 * math.tanh(4.0) + 8 * math.tanh(0.0))
    location = {"W_a": {"kernel": np.array([[1.0, 0.0], [0.0, 1.0]])}}
    assert np_score("location", location, h_t, h_s, 1, max_len=2) == 2.0
    assert np_score("location", location, h_t, h_s, 2, max_len=2) == -math.inf
    assert np_score("cosine", {"g": np.array(2.0)}, np.array([1.0, 0.0]), np.array([1.0, 1.0]), 0) == pytest.approx(
        2.0 / math.sqrt(2)
    )


def test_reference_sinusoidal_hand_worked():
    pe = np_sinusoidal(np.array([0, 1]), 4)
    np.testing.assert_allclose(pe[0], [0.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(pe[1], [math.sin(1.0), math.cos(1.0), math.sin(0.01), math.cos(0.01)])
