"""The evaluation command line (attn_research.evaluate) and the alignment metrics."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest

from attn_research import readme
from attn_research.data import SPECIAL_TOKENS, Vocabulary, WhitespaceTokenizer
from attn_research.data.preprocessing import Preprocessing, TextPipeline
from attn_research.evaluate import evaluate_run, read_lines
from attn_research.metrics import (
    alignment_accuracy,
    alignment_error_rate,
    attention_entropy,
    gold_alignment,
    hard_alignments,
)
from attn_research.training.loop import train_and_evaluate
from tests.helpers import tiny_config


def test_alignment_error_rate_hand_example():
    sure = {(0, 0), (1, 2)}
    possible = sure | {(1, 1)}
    predicted = {(0, 0), (1, 1), (2, 2)}
    # |A&S| = 1, |A&P| = 2, |A| = 3, |S| = 2 -> 1 - 3/5
    assert alignment_error_rate(predicted, sure, possible) == pytest.approx(0.4)
    assert alignment_error_rate(sure, sure, possible) == 0.0
    assert alignment_error_rate(predicted, sure) == pytest.approx(1 - 2 / 5)  # P defaults to S
    with pytest.raises(ValueError):
        alignment_error_rate(predicted, sure, {(0, 0)})


def test_alignment_accuracy_and_hard_alignments():
    weights = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    assert hard_alignments(weights) == {(0, 0), (1, 2), (2, 0)}
    assert hard_alignments(np.vstack([weights, np.zeros(3)])) == {(0, 0), (1, 2), (2, 0)}
    # 2 of 3 correct, plus 1 of 1: 3 of 4 steps
    assert alignment_accuracy([weights, np.array([[0.0, 1.0]])], [[0, 2, 1], [1]]) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        alignment_accuracy([weights], [[0, 1]])


def test_attention_entropy():
    entropies = attention_entropy(np.array([[0.25] * 4, [1.0, 0, 0, 0], [0, 0, 0, 0]]))
    assert entropies.shape == (2,)  # the all-zero (masked) row is ignored
    assert entropies[0] == pytest.approx(math.log(4))
    assert entropies[1] == pytest.approx(0.0)


def test_gold_alignment():
    assert gold_alignment("copy", 4).tolist() == [0, 1, 2, 3]
    assert gold_alignment("reverse", 4).tolist() == [3, 2, 1, 0]
    assert gold_alignment("copy", 4, reverse_source=True).tolist() == [3, 2, 1, 0]
    assert gold_alignment("reverse", 4, reverse_source=True).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="sort"):
        gold_alignment("sort", 4)


def test_read_lines_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_lines(str(tmp_path / "missing.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_text("a0 a1\n\na2\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 2"):
        read_lines(str(bad))
    not_gz = tmp_path / "plain.gz"
    not_gz.write_text("a0\n")
    with pytest.raises(ValueError, match="plain.gz"):
        read_lines(str(not_gz))


def test_pipeline_reads_file_sources_backwards_for_a_reverse_source_run():
    tokenizer = WhitespaceTokenizer()
    vocab = Vocabulary([*SPECIAL_TOKENS, "a0", "a1", "a2"], tokenizer)
    text = TextPipeline(tokenizer, tokenizer, references="tokens")
    sources, references = ["a0 a1 a2", " a2  a0 "], ["a2 a1 a0", "a0   a2"]
    plain = Preprocessing(text, vocab, vocab).encode("file", sources, references)
    backwards = Preprocessing(text, vocab, vocab, reverse_source=True).encode("file", sources, references)
    assert plain.source_tokens == [["a0", "a1", "a2"], ["a2", "a0"]]
    assert backwards.source_tokens == [["a2", "a1", "a0"], ["a0", "a2"]]
    assert [ids.tolist() for ids in backwards.source_ids] == [[6, 5, 4], [4, 6]]
    assert backwards.target_tokens == plain.target_tokens and backwards.references == ["a2 a1 a0", "a0 a2"]


def test_unfinished_run_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="has not finished"):
        evaluate_run(str(tmp_path), beam=1)


def test_evaluate_trained_reverse_run(tmp_path):
    # 400 steps: at 300 the tiny model sits at the 0.9 alignment threshold (0.895 on one machine, above on another)
    config = tiny_config(tmp_path, task="reverse", steps=400)
    workdir = tmp_path / "work"
    results = train_and_evaluate(config, str(workdir))

    greedy = evaluate_run(str(workdir), split="test", beam=1, heatmaps=2)
    out = workdir / "eval_test_beam1"
    for name in ("metrics.json", "hypotheses.txt", "bleu_by_length.png", "attention_0.png", "attention_1.png"):
        assert (out / name).exists(), name
    assert not (out / "attention_2.png").exists()
    assert json.loads((out / "metrics.json").read_text()) == greedy
    assert greedy["num_sentences"] == 64
    assert len((out / "hypotheses.txt").read_text().splitlines()) == 64
    assert greedy["bleu"] == pytest.approx(results["metrics"]["test"]["bleu"], abs=1e-6)
    # the token-level BLEU (torchtext's): the training run's evaluation and attn_research.evaluate agree
    assert 0 < greedy["bleu_tokens"] == pytest.approx(results["metrics"]["test"]["bleu_tokens"], abs=1e-6)
    assert greedy["seq_accuracy"] == pytest.approx(results["metrics"]["test"]["seq_accuracy"])
    assert greedy["alignment_accuracy"] >= 0.9, greedy
    assert 0.0 <= greedy["alignment_error_rate"] <= 0.1
    assert greedy["attention_entropy"] >= 0.0
    # sources of 3-6 tokens: width 5 from the data, the tail [5, inf) holds >= 20 of the 64 sentences
    assert [row["bucket"] for row in greedy["bleu_by_length"]] == ["[0, 5)", "[5, inf)"]
    assert sum(row["count"] for row in greedy["bleu_by_length"]) == 64 and greedy["bleu_by_length"][-1]["hi"] is None

    beam = evaluate_run(str(workdir), split="test", beam=3, heatmaps=1)
    assert (workdir / "eval_test_beam3" / "metrics.json").exists()
    assert (workdir / "eval_test_beam3" / "attention_0.png").exists()
    assert beam["beam"] == 3 and beam["bleu"] >= greedy["bleu"] - 5.0

    # both decodings are recorded with provenance beside the training results, with one plot of both curves
    decoding = tmp_path / "results" / "test" / "decoding"
    records = {b: json.loads((decoding / f"tiny_reverse__test__beam{b}.json").read_text()) for b in (1, 3)}
    assert records[1]["metrics"]["bleu"] == greedy["bleu"] and records[3]["metrics"]["bleu"] == beam["bleu"]
    assert records[3]["checkpoint_step"] == records[1]["checkpoint_step"] > 0
    assert records[1]["num_sentences"] == 64 and records[1]["sentences_per_s"] > 0
    assert records[1]["git_commit"] and records[1]["machine"]["cpu_count"] >= 1
    assert (decoding / "tiny_reverse__test__bleu_by_length.png").stat().st_size > 0
    table = readme.decoding_markdown(str(tmp_path / "results")).splitlines()
    assert len(table) == 4
    assert "[greedy](" in table[2] and "[beam 3 (alpha 0.6)](" in table[3]

    # the same model on a pair of gzipped files
    sources = ["a0 a1 a2 a3", "a5 a5 a7", "a6 a2 a4 a1 a3"]
    references = [" ".join(s.split()[::-1]) for s in sources]
    for name, lines in (("src.txt.gz", sources), ("ref.txt.gz", references)):
        with gzip.open(tmp_path / name, "wt") as f:
            f.write("\n".join(lines) + "\n")
    on_files = evaluate_run(
        str(workdir),
        beam=1,
        source_file=str(tmp_path / "src.txt.gz"),
        reference_file=str(tmp_path / "ref.txt.gz"),
        heatmaps=0,
    )
    hypotheses = (workdir / "eval_file_beam1" / "hypotheses.txt").read_text().splitlines()
    assert on_files["num_sentences"] == 3 and len(hypotheses) == 3
    assert on_files["seq_accuracy"] >= 2 / 3, hypotheses
    assert sorted(p.name for p in decoding.glob("*.json")) == [
        "tiny_reverse__test__beam1.json",
        "tiny_reverse__test__beam3.json",
    ]
    short_ref = tmp_path / "short.txt"
    short_ref.write_text("a0\n")
    with pytest.raises(ValueError, match=r"src.txt.gz.*short.txt"):
        evaluate_run(str(workdir), beam=1, source_file=str(tmp_path / "src.txt.gz"), reference_file=str(short_ref))
