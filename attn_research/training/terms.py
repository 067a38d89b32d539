"""Training terms: what a module adds to the loss, reached through a Flax collection, never by key probing.

A module that needs a term in the loss (the hard attention's REINFORCE surrogate, Xu et al. 2015, eq. 12;
next the doubly stochastic regularization of Show, Attend and Tell, eq. 14, or a coverage loss) sows what
the term reads into the collection TERMS_COLLECTION under the term's name, and registers the term beside
itself:

    @TRAINING_TERMS.register("reinforce", equation="...", source="Xu et al. 2015, sec. 4.1, eq. 12")
    class Reinforce: ...                               # settings, init_state, loss (TrainingTerm)

    self.sow(TERMS_COLLECTION, "reinforce", {"log_prob": ..., "entropy": ...})   # in the module's __call__

The train step applies the model with the collection mutable, finds every sown name (at any depth of the
module tree; a module under nn.scan needs the collection in the scan's variable_axes, which stacks the sown
values along the scanned axis) and adds each registered term's loss. A term's persistent variables (the
REINFORCE moving-average baseline) live in TrainState.term_state[name], initialized by init_state and
replaced by the step with what the term returns. The task supplies the signals a term may read (e.g.
"log_likelihood" [batch], "step_mask" [batch, steps]: tasks/base.py LossOutput).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import jax

from attn_research.registry import Registry

TERMS_COLLECTION = "training_terms"
TRAINING_TERMS = Registry("training term")

Array = jax.Array


class TermOutput(NamedTuple):
    """A term's share of one step: loss (scalar added to the differentiated loss), metrics (float32 scalars,
    summed over the steps of a log window like the task's), state (the term's new persistent variables)."""

    loss: Array
    metrics: dict[str, Array]
    state: Any


class TrainingTerm(Protocol):
    """What TRAINING_TERMS holds (a class whose methods need no instance, or an object with these)."""

    def settings(self, model_config: Mapping[str, Any]) -> Any:
        """Hashable static settings read from the model's config, or None: the term is off for this model."""

    def init_state(self) -> Any:
        """The term's persistent variables before the first step (a pytree of arrays)."""

    def loss(self, sown: list[Any], signals: Mapping[str, Array], state: Any, settings: Any) -> TermOutput:
        """The term from every value sown under its name (one per sowing module), the task's signals and the
        term's variables."""


def sown_values(tree: Mapping[str, Any] | None, name: str) -> list[Any]:
    """Every value sown under `name` anywhere in a TERMS_COLLECTION tree, in module order (sow keeps a tuple
    per module; each element is one call's value)."""
    found: list[Any] = []
    for key, value in (tree or {}).items():
        if key == name and isinstance(value, tuple):
            found.extend(value)
        elif isinstance(value, Mapping):
            found.extend(sown_values(value, name))
    return found


def sown_names(tree: Mapping[str, Any] | None) -> set[str]:
    """The names sown anywhere in a TERMS_COLLECTION tree."""
    names: set[str] = set()
    for key, value in (tree or {}).items():
        if isinstance(value, tuple):
            names.add(key)
        elif isinstance(value, Mapping):
            names |= sown_names(value)
    return names


def active_terms(sown: Mapping[str, Any] | None, model_config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """((name, settings), ...) for every registered term sown by the model (at init) whose settings for
    `model_config` are not None, sorted by name. Raises ValueError for a sown name no term registers."""
    terms = []
    for name in sorted(sown_names(sown)):
        settings = TRAINING_TERMS.get(name).settings(model_config)
        if settings is not None:
            terms.append((name, settings))
    return tuple(terms)
