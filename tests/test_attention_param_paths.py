"""Parameter paths do not depend on class names: every submodule and parameter of an attention module is named
explicitly, so renaming a class (Attention -> FactoredAttention) leaves checkpoints readable.

The expected paths are those of the code before the rename (git show 0ae9e1b:attn_research/attention/), read
from it: the factored attention created its score and window in nn.compact without a name, so Flax named them
<Class>_0 (AdditiveScore_0, LocalPredictiveWindow_0, ...); HardAttention holds its base as the field `base`;
MonotonicAttention names its Energy "energy" (whose score is again <Class>_0, plus the bias "r");
MonotonicChunkwiseAttention names "monotonic" and "chunk_energy"; the decoders hold the attention as the
setup attribute `attention`; the other families create their params by name (self.param / nn.Dense(name=...)).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import pytest

from attn_research.attention import attention_config, build_attention
from attn_research.models.seq2seq import Seq2Seq, default_model_config

ADDITIVE = {"W1/kernel", "W2/kernel", "v"}  # scores.AdditiveScore: nn.Dense "W1", "W2" and the param "v"
NORMALIZED = ADDITIVE | {"g", "b"}  # normalize=True adds g and b


def _under(scope: str, paths: set[str]) -> set[str]:
    return {f"{scope}/{p}" for p in paths}


EXPECTED = {
    "additive global": (dict(score="additive"), _under("AdditiveScore_0", ADDITIVE)),
    "additive normalized": (dict(score="additive", normalize=True), _under("AdditiveScore_0", NORMALIZED)),
    "general local_p": (
        dict(score="general", window="local_p"),
        {"GeneralScore_0/W_a", "LocalPredictiveWindow_0/W_p/kernel", "LocalPredictiveWindow_0/v_p/kernel"},
    ),
    "multiplicative": (dict(score="multiplicative"), _under("MultiplicativeScore_0", {"W1/kernel", "W2/kernel"})),
    "concat local_m": (
        dict(score="concat", window="local_m"),
        _under("ConcatScore_0", {"W_a_key", "W_a_query", "v_a"}),
    ),
    "location": (dict(score="location"), {"LocationScore_0/W_a/kernel"}),
    "cosine": (dict(score="cosine"), {"CosineScore_0/g"}),
    "dot": (dict(score="dot"), set()),
    "hard": (dict(family="hard", score="additive"), _under("base/AdditiveScore_0", ADDITIVE)),
    "monotonic": (
        dict(family="monotonic", score="additive"),
        _under("energy/AdditiveScore_0", NORMALIZED) | {"energy/r"},
    ),
    "mocha": (
        dict(family="mocha", score="additive"),
        _under("monotonic/energy/AdditiveScore_0", NORMALIZED)
        | {"monotonic/energy/r"}
        | _under("chunk_energy/AdditiveScore_0", ADDITIVE),
    ),
    "coverage": (dict(family="coverage"), {"W_h", "b_attn", "v", "w_c", "W_s"}),
    "location_aware": (dict(family="location_aware"), {"V", "b", "w", "F", "U", "W"}),
    "multi_head": (
        dict(family="multi_head", score="scaled_dot", heads=2),
        {f"{layer}/{p}" for layer in ("query", "key", "value", "out") for p in ("kernel", "bias")},
    ),
    "multi_head_location": (
        dict(family="multi_head_location", heads=2),
        {"V", "b", "w", "F", "U", "W_v", "W_o", "W"},
    ),
}


def _paths(tree) -> set[str]:
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {"/".join(str(k.key) for k in path) for path, _ in flat}


@pytest.mark.parametrize("case", EXPECTED)
def test_attention_param_paths_are_those_before_the_rename(case):
    settings, expected = EXPECTED[case]
    module = build_attention(attention_config(dim=4, max_len=5, channels=2, filter_width=3, **settings))
    q, k = jnp.ones((1, 2, 4)), jnp.ones((1, 3, 4))
    variables = jax.eval_shape(
        lambda: module.init({"params": jax.random.key(0), "sampling": jax.random.key(1)}, q, k, k, None)
    )
    assert _paths(variables.get("params", {})) == expected


@pytest.mark.parametrize(
    "decoder,settings,case",
    [
        ("bahdanau", dict(score="additive"), "additive global"),
        ("luong", dict(score="general", window="local_p"), "general local_p"),
    ],
)
def test_a_models_attention_params_sit_under_decoder_attention(decoder, settings, case):
    config = default_model_config()
    config.update(dict(embed_dim=4, encoder_hidden=4, decoder_hidden=4, decoder=decoder, dropout=0.0))
    config.attention = attention_config(dim=4, **settings)
    model = Seq2Seq(ml_collections.FrozenConfigDict(config), 5, 5)
    source, mask = jnp.ones((1, 3), jnp.int32), jnp.ones((1, 3), bool)
    variables = jax.eval_shape(lambda: model.init(jax.random.key(0), source, mask, source, train=False))
    assert _paths(variables["params"]["decoder"]["attention"]) == EXPECTED[case][1]
