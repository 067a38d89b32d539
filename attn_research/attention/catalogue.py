"""The catalogue of registered attention parts: name, equation and source, for the README table.

tests/test_catalogue.py checks that every registered name has exactly one row here and that the README
table is the one `catalogue_markdown()` renders (`make readme` rewrites it).
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    """One row of the README catalogue table."""

    kind: str  # score | window | normalizer | family
    name: str  # the config value
    equation: str
    source: str


CATALOGUE: tuple[Entry, ...] = (
    Entry("score", "dot", "e = h_t^T h_s", "Luong et al. 2015, eq. 8"),
    Entry("score", "scaled_dot", "e = q^T k / sqrt(d_k)", "Vaswani et al. 2017, eq. 1"),
    Entry("score", "general", "e = h_t^T W_a h_s", "Luong et al. 2015, eq. 8"),
    Entry("score", "multiplicative", "e = <W1 h_s, W2 h_t>, d = attention dim", "Britz et al. 2017, sec. 4.5"),
    Entry(
        "score",
        "additive",
        "e = v^T tanh(W1 h_s + W2 s_{t-1}) (normalize: v -> g v / norm(v), + b)",
        "Bahdanau et al. 2015, eq. 6 / A.1.2; Salimans & Kingma 2016",
    ),
    Entry(
        "score", "concat", "e = v_a^T tanh(W_a [h_t; h_s]) (= additive with W_a = [W2; W1])", "Luong et al. 2015, eq. 8"
    ),
    Entry("score", "location", "a_t = softmax(W_a h_t) over positions < max_len", "Luong et al. 2015, eq. 8"),
    Entry("score", "cosine", "e = g cos(h_t, h_s), g learned", "Graves et al. 2014, sec. 3.3.1"),
    Entry("window", "global", "all source positions", "Luong et al. 2015, sec. 3.1"),
    Entry("window", "local_m", "p_t = t; abs(s - p_t) <= D", "Luong et al. 2015, sec. 3.2"),
    Entry(
        "window",
        "local_p",
        "p_t = S sigmoid(v_p^T tanh(W_p h_t)); a_t(s) *= exp(-(s-p_t)^2 / (2 (D/2)^2))",
        "Luong et al. 2015, eqs. 9-10",
    ),
    Entry("normalizer", "softmax", "a_s = exp(e_s/T) / sum exp(e_s'/T)", "Bahdanau et al. 2015, eq. 6"),
    Entry("normalizer", "sparsemax", "a = argmin_{p in simplex} norm(p - e)^2", "Martins & Astudillo 2016, eq. 2"),
    Entry("normalizer", "hardmax", "a = one_hot(argmax_s e_s)", "Xu et al. 2015, sec. 4.1 (argmax of the alignment)"),
    Entry("normalizer", "sigmoid", "a_s = sigmoid(e_s) / sum sigmoid(e_s')", "Chorowski et al. 2015, sec. 2.3"),
    Entry("family", "factored", "c = sum_s normalize(window(score(q, k)))_s v_s", "DESIGN.md"),
    Entry(
        "family",
        "multi_head",
        "Concat(head_1..h) W^O, head_i = softmax(QW^Q (KW^K)^T / sqrt(d_k)) VW^V; sinusoidal positions",
        "Vaswani et al. 2017, sec. 3.2.2, 3.5",
    ),
    Entry(
        "family",
        "location_aware",
        "e_ij = w^T tanh(W s_{i-1} + V h_j + U f_ij + b), f_i = F * a_{i-1} "
        "(location_source: previous, cumulative, previous_2d, recurrent)",
        "Chorowski et al. 2015, sec. 2.2, eqs. 5-9; ESPnet AttLoc, AttCovLoc, AttLoc2D, AttLocRec",
    ),
    Entry(
        "family",
        "coverage",
        "e_ij = v^T tanh(W_s s_{i-1} + W_h h_j + w_c C_{i-1,j} + b), C_ij = C_{i-1,j} + a_ij (/ Phi_j)",
        "Tu et al. 2016, sec. 3.1.1; See et al. 2017, eqs. 10-11",
    ),
    Entry(
        "family",
        "forward",
        "a^_t(n) = ((1-u) a^_{t-1}(n) + u a^_{t-1}(n-1)) y_t(n) / Z, u = 1/2 or u_t = sigmoid(W_ta [c_t; q_t] + b_ta)",
        "Zhang et al. 2018, sec. 3, eqs. 8-14",
    ),
    Entry(
        "family",
        "multi_head_additive",
        "c = [sum_j a^h_j W_v^h h_j]_h W_o, a^h = softmax(w_h^T tanh(W_h s + V_h h_j + b_h))",
        "ESPnet AttMultiHeadAdd; Bahdanau et al. 2015, eq. 6",
    ),
    Entry(
        "family",
        "multi_head_location",
        "multi_head_additive with + U_h (F_h * a^h_{i-1})_j in each head",
        "ESPnet AttMultiHeadLoc; Chorowski et al. 2015, eq. 9",
    ),
    Entry(
        "family",
        "monotonic",
        "p_ij = sigmoid(g v^T/norm(v) tanh(W s_{i-1} + V h_j + b) + r + noise); "
        "a_ij = p_ij ((1 - p_{i,j-1}) a_{i,j-1} / p_{i,j-1} + a_{i-1,j}); test: first j >= t_{i-1} with p_ij >= 0.5",
        "Raffel et al. 2017, sec. 2.2-2.5, eqs. 9-14, appendix C.1",
    ),
    Entry(
        "family",
        "mocha",
        "b_ij = sum_{k=j}^{j+w-1} a_ik exp(u_ij) / sum_{l=k-w+1}^{k} exp(u_il), "
        "a: monotonic; test: softmax(u) over the w keys ending at t_i",
        "Chiu & Raffel 2018, sec. 2.2-2.3, eq. 20",
    ),
    Entry(
        "family",
        "hard",
        "s_t ~ Multinoulli(a_t), weights one_hot(s_t); REINFORCE with baseline b and entropy "
        "bonus, or Gumbel-softmax straight-through",
        "Xu et al. 2015, sec. 4.1, eq. 12; Jang et al. 2017",
    ),
)


def catalogue_markdown() -> str:
    """The README table: one row per registered part."""
    lines = ["| kind | name (config value) | equation | source |", "| --- | --- | --- | --- |"]
    for entry in CATALOGUE:
        lines.append(f"| {entry.kind} | `{entry.name}` | `{entry.equation}` | {entry.source} |")
    return "\n".join(lines)
