"""The recurrent attention model (RAM) of Mnih et al. (2014), sec. 3 and 4.1, and the model config of the task.

For t = 0 .. N - 1 (N = model.glimpses):
    x_t = rho(x, l_t)                                     glimpse sensor (sensor.py): k patches of g x g
    h_g = ReLU(Linear(flatten(x_t))), h_l = ReLU(Linear(l_t))                        (glimpse_hidden units each)
    g_t = ReLU(Linear(h_g) + Linear(h_l))                 glimpse network f_g        (glimpse_features units)
    h_t = f_h(h_{t-1}, g_t)                               core network: 'rnn' ReLU(Linear(h_{t-1}) + Linear(g_t))
                                                          (the paper's rectifier core) or 'lstm'
    mu_t = tanh(Linear(stop_gradient(h_t))), l_{t+1} ~ N(mu_t, sigma^2 I), clipped to [-1, 1]
                                                          location network f_l (t < N-1)
    b_t = Linear(stop_gradient(h_t))                      the learned baseline (t < N-1)
    p(y | x) = softmax(Linear(h_{N-1}))                   action network f_a (classification at the last step)
The hybrid loss of sec. 3.2 trains the action, core and glimpse networks by the classification gradient and the
location network by REINFORCE alone: hence f_l (and the baseline) read h_t through stop_gradient. l_0 = (0, 0),
the centre. Locations 'random' (the ablation): every l_t uniform in [-1, 1]^2 instead. In
evaluation (train=False) a learned policy looks at mu_t (no noise); random locations come from a fixed key
(PRNGKey(0): every evaluation batch draws the same locations row by row). In training the noise is drawn from
the rng 'sampling'. The classifier baselines of the table are classifiers.py.

Model config keys (default_model_config): architecture ['ram' | 'fc' | 'conv'], glimpses N [6], glimpse_size
g [8], scales k [3], locations ['learned' | 'random'], core ['rnn' | 'lstm'], glimpse_hidden [128],
glimpse_features [256], hidden [256], location_std sigma [0.1], reinforce_weight w [1.0] (losses.py), and for
the classifiers (classifiers.py) fc_hidden [256], conv_filters [8], conv_kernel [10], conv_stride [5].
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from attn_research.models.cells import make_cell
from attn_research.tasks.glimpses.losses import gaussian_log_prob
from attn_research.tasks.glimpses.sensor import check_sensor, glimpse_sensor
from attn_research.validation import check_choice

Array = jax.Array
F32 = jnp.float32
ARCHITECTURES = ("ram", "fc", "conv")
LOCATIONS = ("learned", "random")
CORES = ("rnn", "lstm")
RAM_KEYS = (
    "glimpses",
    "glimpse_size",
    "scales",
    "locations",
    "core",
    "glimpse_hidden",
    "glimpse_features",
    "hidden",
    "location_std",
    "reinforce_weight",
)
CLASSIFIER_KEYS = {"fc": ("fc_hidden",), "conv": ("conv_filters", "conv_kernel", "conv_stride", "fc_hidden")}


def default_model_config() -> ml_collections.ConfigDict:
    """config.model of the glimpses task (module docstring)."""
    return ml_collections.ConfigDict(
        {
            "architecture": "ram",
            "glimpses": 6,
            "glimpse_size": 8,
            "scales": 3,
            "locations": "learned",
            "core": "rnn",
            "glimpse_hidden": 128,
            "glimpse_features": 256,
            "hidden": 256,
            "location_std": 0.1,
            "reinforce_weight": 1.0,
            "fc_hidden": 256,
            "conv_filters": 8,
            "conv_kernel": 10,
            "conv_stride": 5,
        }
    )


def check_model_config(model: Any, side: int) -> None:
    """One-line ValueErrors: the choices, zero glimpses, a glimpse larger than the side x side canvas, sizes < 1,
    location_std <= 0, reinforce_weight < 0, a conv kernel larger than the canvas."""
    architecture = check_choice("glimpses model (model.architecture)", model.get("architecture"), ARCHITECTURES)
    check_choice("glimpse locations (model.locations)", model.get("locations"), LOCATIONS)
    check_choice("core network (model.core)", model.get("core"), CORES)
    if int(model.glimpses) < 1:
        raise ValueError(f"model.glimpses must be >= 1 (the glimpses before classifying), got {model.glimpses}")
    for key in ("glimpse_hidden", "glimpse_features", "hidden", "fc_hidden", "conv_filters", "conv_stride"):
        if int(model[key]) < 1:
            raise ValueError(f"model.{key} must be >= 1, got {model[key]}")
    if not float(model.location_std) > 0:
        raise ValueError(f"model.location_std must be > 0, got {model.location_std}")
    if float(model.reinforce_weight) < 0:
        raise ValueError(f"model.reinforce_weight must be >= 0, got {model.reinforce_weight}")
    if architecture == "conv" and not 1 <= int(model.conv_kernel) <= side:
        raise ValueError(f"model.conv_kernel must be in 1..{side} (the canvas side), got {model.conv_kernel}")
    if architecture == "ram":
        check_sensor(int(model.glimpse_size), int(model.scales), side, side)


def recorded_keys(model: Any) -> dict[str, Any]:
    """config.model reduced to the keys the chosen architecture reads (a missing key: its default)."""
    defaults = default_model_config()
    keys = RAM_KEYS if model.architecture == "ram" else CLASSIFIER_KEYS[model.architecture]
    recorded = {"architecture": model.architecture}
    for key in keys:
        value = model[key] if key in model else defaults[key]
        recorded[key] = value
    return recorded


class GlimpseOutput(NamedTuple):
    """A model's result: logits [batch, classes] float32; for RAM also locations [batch, N, 2] (the l_t looked
    at, in [-1, 1]), and with learned locations log_probs and baselines [batch, N - 1] (log pi(l_t | h_{t-1}) and
    b_{t-1} for t = 1 .. N - 1); None where a model has none."""

    logits: Array
    locations: Array | None = None
    log_probs: Array | None = None
    baselines: Array | None = None


class RecurrentAttentionModel(nn.Module):
    """RAM (module docstring). config: config.model; classes: the number of classes.

    __call__(images uint8 or float [batch, H, W, 1] (pixels / 255), *, train) -> GlimpseOutput. train=True draws
    the rng 'sampling' (location noise, or the random locations). Raises ValueError as check_sensor does."""

    config: ml_collections.ConfigDict
    classes: int

    def __hash__(self) -> int:
        return hash((type(self).__name__, ml_collections.FrozenConfigDict(self.config), self.classes))

    @nn.compact
    def __call__(self, images: Array, *, train: bool = False) -> GlimpseOutput:
        config = self.config
        glimpses, std = int(config.glimpses), float(config.location_std)
        learned = config.locations == "learned"
        x = images.astype(F32) / 255.0
        batch = x.shape[0]
        image_dense = nn.Dense(int(config.glimpse_hidden), name="f_g_image")
        location_dense = nn.Dense(int(config.glimpse_hidden), name="f_g_location")
        what = nn.Dense(int(config.glimpse_features), name="f_g_what")
        where = nn.Dense(int(config.glimpse_features), use_bias=False, name="f_g_where")
        hidden = int(config.hidden)
        if config.core == "lstm":
            cell = make_cell("lstm", hidden, cell_name="f_h")
            carry = (jnp.zeros((batch, hidden), F32), jnp.zeros((batch, hidden), F32))
        else:
            recurrent = nn.Dense(hidden, use_bias=False, name="f_h_recurrent")
            core_input = nn.Dense(hidden, name="f_h_input")
            carry = jnp.zeros((batch, hidden), F32)
        f_l = nn.Dense(2, name="f_l")
        f_b = nn.Dense(1, name="f_b")
        f_a = nn.Dense(self.classes, name="f_a")
        key = self.make_rng("sampling") if train else jax.random.PRNGKey(0)
        keys = jax.random.split(key, glimpses)
        if learned:
            location = jnp.zeros((batch, 2), F32)
        else:
            location = jax.random.uniform(keys[0], (batch, 2), F32, -1.0, 1.0)
        locations, log_probs, baselines = [], [], []
        for t in range(glimpses):
            locations.append(location)
            patches = glimpse_sensor(x, location, int(config.glimpse_size), int(config.scales))
            h_g = nn.relu(image_dense(patches.reshape(batch, -1)))
            h_l = nn.relu(location_dense(location))
            g = nn.relu(what(h_g) + where(h_l))
            if config.core == "lstm":
                carry, h = cell(carry, g)
            else:
                carry = h = nn.relu(recurrent(carry) + core_input(g))
            if t == glimpses - 1:
                break
            if learned:
                mean = jnp.tanh(f_l(jax.lax.stop_gradient(h)))
                sample = mean + std * jax.random.normal(keys[t + 1], mean.shape, F32) if train else mean
                sample = jax.lax.stop_gradient(sample)
                log_probs.append(gaussian_log_prob(sample, mean, std))
                baselines.append(f_b(jax.lax.stop_gradient(h))[:, 0])
                location = jnp.clip(sample, -1.0, 1.0)
            else:
                location = jax.random.uniform(keys[t + 1], (batch, 2), F32, -1.0, 1.0)
        logits = f_a(h).astype(F32)
        stacked = jnp.stack(locations, axis=1)
        if not learned:
            return GlimpseOutput(logits, stacked)
        empty = jnp.zeros((batch, 0), F32)
        return GlimpseOutput(
            logits,
            stacked,
            jnp.stack(log_probs, axis=1) if log_probs else empty,
            jnp.stack(baselines, axis=1) if baselines else empty,
        )
