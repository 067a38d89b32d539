"""Hard stochastic attention: Xu et al. (2015), "Show, attend and tell", sec. 4.1.

The alignment a_t (any FactoredAttention whose weights are a distribution; Xu et al.: additive score,
softmax) is the parameter of a Multinoulli over the keys. In training one position s_t ~ Multinoulli(a_t)
is sampled and the context is that key's value (weights one_hot(s_t)). Two gradient estimators:

  reinforce  the score-function estimator of eq. 12: the trainer adds the surrogate loss
             -mean((R - b) sum_t log p(s_t)) - lambda_e mean H[s] (`reinforce_loss`), with reward
             R = log p(y | s, a), a moving-average baseline b_k = 0.9 b_{k-1} + 0.1 R (`update_baseline`)
             and the alignment entropy H[s] = -sum_s a_s log a_s as a bonus.
  gumbel     Gumbel-softmax straight-through (Jang et al. 2017, sec. 2-3): forward one_hot(argmax(log a + g)),
             backward through softmax((log a + g) / tau), g ~ Gumbel(0, 1) (`gumbel_straight_through`).

At evaluation the weights are one_hot(argmax a_t) or the expectation a_t itself (`eval_mode`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import normalizers
from attn_research.attention.factored import FactoredAttention
from attn_research.attention.registry import FAMILIES
from attn_research.attention.settings import fields_from_config
from attn_research.attention.types import AttentionOutput, context_vector
from attn_research.training.terms import TERMS_COLLECTION, TRAINING_TERMS, TermOutput
from attn_research.validation import check_choice, check_positive

Array = jax.Array
F32 = jnp.float32

ESTIMATORS = ("reinforce", "gumbel")
EVAL_MODES = ("argmax", "expectation")


def safe_log(alignment: Array) -> Array:
    """log a where a > 0, -inf where a == 0, with a zero (not NaN) gradient at a == 0."""
    positive = alignment > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, alignment, 1.0)), -jnp.inf)


def alignment_entropy(alignment: Array) -> Array:
    """H = -sum_s a_s log a_s over the last axis (0 log 0 = 0), in nats: [..., key_len] -> [...].

    Zero weights enter as 0 * log 1, so the gradient is finite there too (0 * log 0 would give NaN).
    """
    return -jnp.sum(alignment * jnp.log(jnp.where(alignment > 0, alignment, 1.0)), axis=-1)


def position_log_prob(alignment: Array, position: Array) -> Array:
    """log a_{s} of the chosen position s: alignment [..., key_len], position [...] int -> [...]; 0 for rows
    with no weight at all (nothing could be chosen)."""
    chosen = jnp.take_along_axis(safe_log(alignment), position[..., None], axis=-1)[..., 0]
    return jnp.where(jnp.any(alignment > 0, axis=-1), chosen, 0.0)


def sample_position(rng: Array, alignment: Array) -> Array:
    """s ~ Multinoulli(a) along the last axis: alignment [..., key_len] -> [...] int32 (0 for all-zero rows)."""
    return jax.random.categorical(rng, safe_log(alignment), axis=-1).astype(jnp.int32)


def one_hot_position(position: Array, alignment: Array) -> Array:
    """one_hot(s) [..., key_len] in the alignment's dtype, all zero on rows of the alignment with no weight."""
    has_weight = jnp.any(alignment > 0, axis=-1, keepdims=True)
    return jax.nn.one_hot(position, alignment.shape[-1], dtype=alignment.dtype) * has_weight


def gumbel_straight_through(alignment: Array, gumbel_noise: Array, temperature: float) -> Array:
    """Jang et al. (2017): one_hot(argmax(log a + g)) forward, gradient of softmax((log a + g) / tau).

    alignment a, gumbel_noise g: [..., key_len]; temperature tau > 0. Keys with a = 0 are never chosen;
    rows with no weight give all-zero weights. The forward value is exactly one-hot (the relaxation enters
    as soft - stop_gradient(soft), which is exactly 0). Raises ValueError if tau <= 0.
    """
    allowed = alignment > 0
    logits = safe_log(alignment) + gumbel_noise
    soft = normalizers.softmax(logits, allowed, temperature)
    hard = one_hot_position(jnp.argmax(jnp.where(allowed, logits, -jnp.inf), axis=-1), alignment)
    return hard + (soft - jax.lax.stop_gradient(soft))


@FAMILIES.register(
    "hard",
    equation="s_t ~ Multinoulli(a_t), weights one_hot(s_t); REINFORCE with baseline b and entropy "
    "bonus, or Gumbel-softmax straight-through",
    source="Xu et al. 2015, sec. 4.1, eq. 12; Jang et al. 2017",
)
class HardAttention(nn.Module):
    """Xu et al. (2015), sec. 4.1: a stochastic choice of one key per query, from a base attention's alignment.

    base: the FactoredAttention giving the alignment a_t (softmax, sparsemax, sigmoid or hardmax normalizer; window
    global or local_m, so that a_t is a distribution over the allowed keys). estimator: 'reinforce' or
    'gumbel' (module docstring). eval_mode: 'argmax' or 'expectation'. gumbel_temperature: tau of 'gumbel'.

    __call__(query [batch, query_len, query_dim], keys, values, mask [batch, key_len] or None, state or None,
             precomputed (base.precompute) or None, *, train)
      -> AttentionOutput(context [batch, query_len, value_dim], weights [batch, query_len, key_len] float32,
                         state {"position": [batch] int32, "log_prob": [batch] float32, "entropy": [batch]}).
    train=True samples (rng 'sampling'): weights one_hot(s_t); train=False: eval_mode, no rng needed.
    state["log_prob"] is log a_t(s_t) of the last query's chosen position (differentiable: the REINFORCE
    term), state["entropy"] its alignment entropy H[a_t] in nats; both 0 for a query with nothing to attend.
    Raises ValueError for an unknown estimator or eval_mode, a local_p base window, or tau <= 0.
    """

    base: FactoredAttention
    estimator: str = "reinforce"
    eval_mode: str = "argmax"
    gumbel_temperature: float = 1.0

    TRAINER_KEYS: ClassVar[dict[str, float]] = {"entropy_weight": 0.0, "baseline_decay": 0.9}  # reinforce_settings

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HardAttention:
        """The module a config describes: base = FactoredAttention.from_config(config) (its keys), estimator,
        eval_mode, gumbel_temperature (a missing or None key keeps the default). Raises ValueError for an unknown
        score, window, normalizer, estimator or eval_mode."""
        module = cls(**fields_from_config(cls, config))
        check_choice("hard attention estimator", module.estimator, ESTIMATORS)
        check_choice("hard attention eval_mode", module.eval_mode, EVAL_MODES)
        return module

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """The base attention's {"position"} plus "log_prob" and "entropy", [batch] float32 zeros."""
        zeros = jnp.zeros((batch_size,), F32)
        return {**self.base.init_state(batch_size, key_len), "log_prob": zeros, "entropy": zeros}

    def precompute(self, keys: Array) -> Array | None:
        """The base attention's key projection (FactoredAttention.precompute)."""
        return self.base.precompute(keys)

    @nn.compact
    def __call__(
        self,
        query: Array,
        keys: Array,
        values: Array,
        mask: Array | None = None,
        state: Any = None,
        precomputed: Array | None = None,
        *,
        train: bool = False,
    ) -> AttentionOutput:
        check_choice("hard attention estimator", self.estimator, ESTIMATORS)
        check_choice("hard attention eval_mode", self.eval_mode, EVAL_MODES)
        if self.base.window == "local_p":
            raise ValueError(
                "hard attention samples from the alignment, which must be a distribution; the "
                "local_p window scales it by a Gaussian: use window 'global' or 'local_m'"
            )
        check_positive("gumbel_temperature", self.gumbel_temperature)
        base_state = None if state is None else {"position": state["position"]}
        out = self.base(query, keys, values, mask, base_state, precomputed, train=train)
        alignment = out.weights
        if not train:
            position = jnp.argmax(alignment, axis=-1)
            weights = alignment if self.eval_mode == "expectation" else one_hot_position(position, alignment)
        elif self.estimator == "reinforce":
            position = sample_position(self.make_rng("sampling"), alignment)
            weights = one_hot_position(position, alignment)
        else:
            noise = jax.random.gumbel(self.make_rng("sampling"), alignment.shape, alignment.dtype)
            weights = gumbel_straight_through(alignment, noise, self.gumbel_temperature)
            position = jnp.argmax(weights, axis=-1)
        new_state = {
            **out.state,
            "log_prob": position_log_prob(alignment, position)[:, -1],
            "entropy": alignment_entropy(alignment)[:, -1],
        }
        if self.estimator == "reinforce":  # what the REINFORCE term reads (Reinforce below; training/terms.py)
            self.sow(
                TERMS_COLLECTION, "reinforce", {"log_prob": new_state["log_prob"], "entropy": new_state["entropy"]}
            )
        return AttentionOutput(context_vector(weights, values), weights, new_state)


# ------------------------------------------------------------------------------------- the training term
class ReinforceSettings(NamedTuple):
    """What the REINFORCE term needs: lambda_e and the baseline's decay (0.9 in Xu et al.)."""

    entropy_weight: float
    baseline_decay: float


def reinforce_settings(attention_config: Mapping[str, Any] | None) -> ReinforceSettings | None:
    """ReinforceSettings for an attention config of family 'hard' with estimator 'reinforce', else None.

    Reads config.entropy_weight [0.0] and config.baseline_decay [0.9]. Raises ValueError unless
    0 <= baseline_decay < 1 and entropy_weight >= 0.
    """
    if attention_config is None or attention_config.get("family") != "hard":
        return None
    if (attention_config.get("estimator") or "reinforce") != "reinforce":
        return None
    entropy_weight = float(attention_config.get("entropy_weight") or 0.0)
    decay = attention_config.get("baseline_decay")
    decay = 0.9 if decay is None else float(decay)
    if not 0.0 <= decay < 1.0 or entropy_weight < 0.0:
        raise ValueError(f"need 0 <= baseline_decay < 1 and entropy_weight >= 0, got {decay} and {entropy_weight}")
    return ReinforceSettings(entropy_weight, decay)


def reinforce_loss(
    log_prob: Array, entropy: Array, target_mask: Array, sequence_nll: Array, baseline: Array, entropy_weight: float
) -> tuple[Array, Array]:
    """The surrogate whose gradient is Xu et al.'s (2015) eq. 12 estimator (less the log-likelihood term).

    log_prob, entropy: [batch, tgt_len] log p(s_t) and H[a_t] of every target step (Seq2SeqOutput.attention_aux);
    target_mask: [batch, tgt_len] bool (padding steps count for nothing); sequence_nll: [batch] -log p(y | s, a);
    baseline: the scalar b. Returns (loss, mean reward), loss =
        -mean_n((R_n - b) sum_t log p(s_t)) - entropy_weight * (mean entropy over the real steps),
    with R_n = -sequence_nll_n held constant (stop_gradient): its gradient, averaged over samples, is
    -grad E[R] - entropy_weight * grad H.
    """
    mask = target_mask.astype(F32)
    reward = -jax.lax.stop_gradient(sequence_nll.astype(F32))
    advantage = reward - jax.lax.stop_gradient(baseline)
    score_term = -jnp.mean(advantage * jnp.sum(log_prob * mask, axis=-1))
    mean_entropy = jnp.sum(entropy * mask) / jnp.maximum(jnp.sum(mask), 1.0)
    return score_term - entropy_weight * mean_entropy, jnp.mean(reward)


def update_baseline(baseline: Array, mean_reward: Array, decay: float) -> Array:
    """b_k = decay * b_{k-1} + (1 - decay) * mean reward (Xu et al. 2015, sec. 4.1, decay 0.9)."""
    return decay * baseline + (1.0 - decay) * mean_reward


@TRAINING_TERMS.register(
    "reinforce",
    equation="-mean_n((R_n - b) sum_t log p(s_t)) - lambda_e mean_t H[a_t]; b <- decay b + (1 - decay) mean R",
    source="Xu et al. 2015, sec. 4.1, eq. 12",
)
class Reinforce:
    """The training term of HardAttention(estimator='reinforce'), found through what it sows ("reinforce":
    {"log_prob", "entropy"} per decoder step, stacked to [batch, steps] by the decoder's scan).

    Reads the task's signals "log_likelihood" ([batch] log p(y | s, a), the reward R) and "step_mask"
    ([batch, steps] bool; a hard attention outside a decoder scan sows [batch], read as [batch, 1]); its state is {"baseline": float32 scalar b}. The loss adds reinforce_loss's
    gradient only (surrogate - stop_gradient(surrogate) is 0 in value), so the reported loss stays the task's;
    metrics {"mean_reward"}. Several hard attentions in one model each add their surrogate, with the one
    reward and baseline.
    """

    @staticmethod
    def settings(model_config: Mapping[str, Any]) -> ReinforceSettings | None:
        """reinforce_settings of model_config.attention (None without one)."""
        return reinforce_settings(model_config.get("attention"))

    @staticmethod
    def init_state() -> dict[str, Array]:
        """{"baseline": 0.0} (float32)."""
        return {"baseline": jnp.zeros((), F32)}

    @staticmethod
    def loss(sown: list[Any], signals: Mapping[str, Array], state: Any, settings: ReinforceSettings) -> TermOutput:
        """TermOutput(surrogate - stop_gradient(surrogate), {"mean_reward"}, {"baseline": update_baseline(...)})."""
        total, mean_reward = 0.0, None
        shape = signals["step_mask"].shape  # [batch] from a module outside a scan reads as [batch, 1]
        for value in sown:
            surrogate, mean_reward = reinforce_loss(
                jnp.reshape(value["log_prob"], shape),
                jnp.reshape(value["entropy"], shape),
                signals["step_mask"],
                -signals["log_likelihood"],
                state["baseline"],
                settings.entropy_weight,
            )
            total = total + (surrogate - jax.lax.stop_gradient(surrogate))  # its gradient, not its value
        baseline = update_baseline(state["baseline"], mean_reward, settings.baseline_decay)
        return TermOutput(total, {"mean_reward": mean_reward}, {"baseline": baseline})
