"""Captioning metrics: the doubly stochastic penalty (Xu et al. 2015, eq. 14), caption metrics (exact match,
BLEU-1..4 through sacrebleu) and attention localization against the items' boxes."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from sacrebleu.metrics import BLEU

Array = jax.Array
BLEU_ORDERS = (1, 2, 3, 4)


def doubly_stochastic_penalty(alignments: Array, step_mask: Array) -> Array:
    """Xu et al. (2015), eq. 14: sum_i (1 - sum_t alpha_ti)^2 per example, over the counted steps only.

    alignments: [batch, steps, L] attention weights; step_mask: [batch, steps] bool (the words and EOS).
    Returns [batch] float32.
    """
    totals = jnp.sum(jnp.where(step_mask[..., None], alignments.astype(jnp.float32), 0.0), axis=1)  # [batch, L]
    return jnp.sum(jnp.square(1.0 - totals), axis=-1)


def bleu_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """{"bleu1".."bleu4"}: sacrebleu corpus BLEU with max n-gram order 1..4 (13a tokenization, 'exp' smoothing, one
    reference per hypothesis), in [0, 100], with sacrebleu's effective_order: an order with no n-gram in the whole
    corpus is left out of the geometric mean (captions of 1-3 items hold no 4-gram, where plain BLEU-4 is 0 even for
    a perfect system). Raises ValueError if the lists differ in length or are empty."""
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(f"need as many hypotheses as references (> 0), got {len(hypotheses)} and {len(references)}")
    scores = {}
    for order in BLEU_ORDERS:
        bleu = BLEU(max_ngram_order=order, effective_order=True)
        scores[f"bleu{order}"] = float(bleu.corpus_score(list(hypotheses), [list(references)]).score)
    return scores


def bleu_signature() -> str:
    """sacrebleu's signature of bleu4 (Post 2018), e.g. 'nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:..'."""
    bleu = BLEU(max_ngram_order=4, effective_order=True)
    bleu.corpus_score(["a"], [["a"]])
    return str(bleu.get_signature())


def region_cells(grid: tuple[int, int], height: int, width: int) -> np.ndarray:
    """The pixel cell of each annotation region: float64 [L, 4] (top, left, bottom, right), row-major over the
    grid [H', W'] (region i = row i // W', column i % W'), each cell height / H' x width / W' pixels."""
    rows, columns = grid
    cell_h, cell_w = height / rows, width / columns
    r, c = np.divmod(np.arange(rows * columns), columns)
    return np.stack([r * cell_h, c * cell_w, (r + 1) * cell_h, (c + 1) * cell_w], axis=1)


def localization_sums(
    alignments: np.ndarray,
    boxes: np.ndarray,
    num_items: np.ndarray,
    lengths: np.ndarray,
    grid: tuple[int, int],
    height: int,
    width: int,
) -> dict[str, float]:
    """Attention localization of generated words against the gold items' boxes.

    alignments: [n, steps, L] the weights of each generated step (greedy decoding); boxes: [n, items, 4] (top,
    left, bottom, right) pixels, bottom / right exclusive, in reading order; num_items: [n]; lengths: [n] the
    generated words before EOS. Generated word t (t < min(lengths, num_items)) is compared with gold item t:
      hit   the argmax region's cell centre lies inside the item's box;
      mass  sum_i alpha_ti * |cell_i & box| / |cell_i| (the attention mass inside the box when each region's weight
            is spread uniformly over its cell: the upsampled map).
    Returns {"localization_hits", "localization_mass", "localized_words"} (sums; the metrics are hits / words and
    mass / words).
    """
    cells = region_cells(grid, height, width)
    centres = np.stack([(cells[:, 0] + cells[:, 2]) / 2, (cells[:, 1] + cells[:, 3]) / 2], axis=1)
    area = (cells[:, 2] - cells[:, 0]) * (cells[:, 3] - cells[:, 1])
    hits = mass = words = 0.0
    for n in range(len(alignments)):
        for t in range(int(min(lengths[n], num_items[n]))):
            top, left, bottom, right = (float(v) for v in boxes[n, t])
            weights = np.asarray(alignments[n, t], np.float64)
            y, x = centres[int(np.argmax(weights))]
            hits += float(top <= y < bottom and left <= x < right)
            overlap_h = np.clip(np.minimum(cells[:, 2], bottom) - np.maximum(cells[:, 0], top), 0, None)
            overlap_w = np.clip(np.minimum(cells[:, 3], right) - np.maximum(cells[:, 1], left), 0, None)
            mass += float(np.sum(weights * overlap_h * overlap_w / area))
            words += 1.0
    return {"localization_hits": hits, "localization_mass": mass, "localized_words": words}
