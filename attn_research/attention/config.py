"""The attention part of an experiment config: config.model.attention (read by build_attention)."""

from __future__ import annotations

import ml_collections


def attention_config(
    score: str = "additive", window: str = "global", normalizer: str = "softmax", dim: int = 512, **extra
) -> ml_collections.ConfigDict:
    """config.model.attention: the keys build_attention reads (attn_research/attention/registry.py)."""
    config = ml_collections.ConfigDict(
        {
            "family": "factored",
            "score": score,
            "window": window,
            "normalizer": normalizer,
            "dim": dim,
            "half_width": 10,
            "max_len": 100,
            "temperature": 1.0,
            "normalize": False,
            "scale": 10.0,
            "heads": 1,
            "qk_dim": dim,
            "v_dim": dim,
            "causal": False,
            "dropout_rate": 0.0,
            "channels": 10,
            "filter_width": 31,
            "location_source": "previous",
            "att_win": 5,
            "fertility": 0.0,
            "forward_score": "location_aware",
            "transition_agent": False,
            "mode": "parallel",
            "noise_std": 1.0,
            "energy_bias_init": -4.0,
            "chunk_size": 2,
            "estimator": "reinforce",
            "eval_mode": "argmax",
            "gumbel_temperature": 1.0,
            "entropy_weight": 0.0,
            "baseline_decay": 0.9,
        }
    )
    config.update(extra)
    return config
