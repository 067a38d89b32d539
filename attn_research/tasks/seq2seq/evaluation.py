"""Evaluation of a seq2seq split: teacher-forced loss/perplexity/token accuracy, greedy exact match and BLEU."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import numpy as np

from attn_research.data import make_batches
from attn_research.decoding.greedy import greedy_decode
from attn_research.metrics import corpus_bleu, token_bleu
from attn_research.tasks.base import EvalResult, Evaluator
from attn_research.training.mesh import shard_batch, to_host
from attn_research.training.steps import eval_step


class Decoded(NamedTuple):
    """A split's greedy outputs (EvalResult.plot_data of the seq2seq task)."""

    hypotheses: list[str]  # detokenized greedy outputs, in split order
    hypothesis_ids: list[list[int]]  # greedy output ids up to (not including) eos
    alignments: list[np.ndarray]  # [hyp_len + 1, src_len] greedy alignment weights (eos step included)


def strip_after_eos(ids, eos_id: int) -> list[int]:
    """The ids before the first eos (all of them if there is none)."""
    ids = [int(i) for i in ids]
    return ids[: ids.index(eos_id)] if eos_id in ids else ids


class Seq2SeqEvaluator(Evaluator):
    """Evaluates splits with a fixed model; compiles the greedy decoder once per evaluator.

    task: the Seq2SeqTask (its step_arrays); batch_size: rows per evaluation batch (divisible by the mesh
    size); max_decode_len: greedy steps.
    """

    def __init__(self, task, model, data, mesh, *, batch_size: int, max_decode_len: int):
        self.task, self.model, self.data, self.mesh = task, model, data, mesh
        self.batch_size, self.max_decode_len = batch_size, max_decode_len
        vocab = data.target_vocab
        self._decode = jax.jit(
            lambda params, source, mask: greedy_decode(
                model, params, source, mask, max_len=max_decode_len, bos_id=vocab.bos_id, eos_id=vocab.eos_id
            )
        )

    def evaluate(self, state, split_name: str, keep_plots: int = 0) -> EvalResult:
        """Metrics (loss, ppl, token_accuracy, seq_accuracy, bleu) over the whole split; plot_data: Decoded,
        with the alignments of the first `keep_plots` examples."""
        split = self.data.splits[split_name]
        vocab = self.data.target_vocab
        n = len(split.target_ids)
        hyp_ids: list[list[int]] = [[] for _ in range(n)]
        alignments: list[np.ndarray] = []
        sums = {"nll_sum": 0.0, "tokens": 0.0, "correct_tokens": 0.0}
        for batch in make_batches(split, self.batch_size, seed=0, epoch=0, shuffle=False):
            sharded = shard_batch(self.task.step_arrays(batch), self.mesh)
            for key, value in to_host(eval_step(state, sharded)).items():
                sums[key] += float(value)
            tokens, weights = to_host(self._decode(state.params, sharded["source"], sharded["source_mask"]))
            for row, index in enumerate(batch["index"]):
                if index < 0:
                    continue
                hyp_ids[index] = strip_after_eos(tokens[row], vocab.eos_id)
                if index < keep_plots:
                    src_len = int(batch["source_mask"][row].sum())
                    alignments.append((index, np.asarray(weights[row, : len(hyp_ids[index]) + 1, :src_len])))
        hyp_tokens = [vocab.decode(ids) for ids in hyp_ids]
        hypotheses = [vocab.detokenize(tokens) for tokens in hyp_tokens]
        exact = sum(list(h) == [int(t) for t in ref] for h, ref in zip(hyp_ids, split.target_ids))
        loss = sums["nll_sum"] / max(sums["tokens"], 1.0)
        metrics = {
            "loss": loss,
            "ppl": math.exp(min(loss, 50.0)),
            "token_accuracy": sums["correct_tokens"] / max(sums["tokens"], 1.0),
            "seq_accuracy": exact / max(n, 1),
            "bleu": corpus_bleu(hypotheses, list(split.references)),
            "bleu_tokens": token_bleu(hyp_tokens, split.target_tokens),
        }
        ordered = [a for _, a in sorted(alignments, key=lambda pair: pair[0])]
        return EvalResult(metrics, Decoded(hypotheses, hyp_ids, ordered))
