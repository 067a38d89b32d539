"""Unknown-word replacement by attention: copy the most attended source word for every `<unk>`.

Luong et al. (2015), "Effective Approaches to Attention-based NMT", sec. 4.1 / 5 (and Jean et al. 2015,
sec. 3.2, which use the alignment the same way): each `<unk>` in the output is replaced by the source word
with the highest alignment weight at the target step that produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["replace_unknown_words"]


def replace_unknown_words(
    hypothesis_ids: Sequence[int], alignments, source_tokens: Sequence[str], target_vocab: Any
) -> list[str]:
    """The hypothesis as target tokens, each `<unk>` replaced by its most attended source token.

    hypothesis_ids: target ids y_1, y_2, ... (as produced, without bos); read up to (not including) the
        first eos; pad and bos ids are skipped, as Vocabulary.decode does.
    alignments: [hyp_len, src_len] (or more rows, e.g. the eos step's), row t = the alignment weights of the
        step that produced hypothesis_ids[t]; src_len may include padding columns beyond the source.
    source_tokens: the source words, [n_source] (n_source <= src_len); padding columns are ignored.
    target_vocab: an attn_research.data.Vocabulary (uses .tokens and .unk_id).
    Returns the list of target token strings. Ties go to the first source position.
    Raises ValueError if alignments is not 2-D, has fewer rows than the tokens read, has fewer columns than
    source_tokens, or source_tokens is empty while an `<unk>` must be replaced.
    """
    alignments = np.asarray(alignments)
    if alignments.ndim != 2:
        raise ValueError(f"alignments must be [hyp_len, src_len], got shape {alignments.shape}")
    n_source = len(source_tokens)
    if alignments.shape[1] < n_source:
        raise ValueError(f"alignments have {alignments.shape[1]} source columns for {n_source} source tokens")
    tokens = target_vocab.tokens
    out = []
    for t, token_id in enumerate(int(i) for i in hypothesis_ids):
        if token_id == target_vocab.eos_id:
            break
        if token_id in (target_vocab.pad_id, target_vocab.bos_id):
            continue
        if token_id == target_vocab.unk_id:
            if t >= alignments.shape[0]:
                raise ValueError(f"no alignment row for target step {t} (alignments shape {alignments.shape})")
            if n_source == 0:
                raise ValueError("cannot replace <unk>: no source tokens")
            out.append(source_tokens[int(np.argmax(alignments[t, :n_source]))])
        else:
            out.append(tokens[token_id])
    return out
