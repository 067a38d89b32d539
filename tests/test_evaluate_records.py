"""Evaluation records and reporting: the saved pipeline, decoding records that never overwrite another
config's, the sacreBLEU signature, the BLEU-by-length chart and the heatmap's labels (fast, no training)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sacrebleu

from attn_research.data import default_data_config, load_dataset
from attn_research.data.preprocessing import load_preprocessing, preprocessing_of, save_preprocessing
from attn_research.evaluate import bleu_by_length_figure, output_dir
from attn_research.evaluate_results import read_decoding_results, write_decoding_result
from attn_research.jsonio import write_json
from attn_research.logging.attention_plots import attention_figure
from attn_research.metrics.bleu import corpus_bleu, corpus_bleu_with_signature


def _synthetic(**overrides):
    config = default_data_config("synthetic")
    config.update(
        {"task": "reverse", "synthetic_vocab_size": 6, "num_train": 50, "num_validation": 5, "num_test": 5, **overrides}
    )
    return config


def test_saved_pipeline_reads_back_and_encodes_as_the_loader(tmp_path):
    config = _synthetic(reverse_source=True)
    data = load_dataset(config)
    assert load_preprocessing(tmp_path) is None  # nothing saved yet: a run from before
    save_preprocessing(tmp_path, data, config)
    saved = load_preprocessing(tmp_path)
    assert saved.reverse_source and not saved.lowercase and saved.text.references == "tokens"
    assert saved.source_vocab.tokens == data.source_vocab.tokens and not saved.same_as(preprocessing_of(data, config))
    test = data.splits["test"]
    # the test split's raw text (sources un-reversed) through the saved pipeline gives the split back
    raw_sources = [" ".join(reversed(tokens)) for tokens in test.source_tokens]
    again = saved.encode("test", raw_sources, test.references)
    assert [x.tolist() for x in again.source_ids] == [x.tolist() for x in test.source_ids]
    assert [x.tolist() for x in again.target_ids] == [x.tolist() for x in test.target_ids]
    unreferenced = saved.encode("input", raw_sources)
    assert unreferenced.references == [""] * len(test) and all(len(t) == 0 for t in unreferenced.target_ids)
    other = load_dataset(_synthetic(synthetic_vocab_size=7))
    assert "source vocabulary" in saved.same_as(preprocessing_of(other, config))


def _metrics(bleu: float) -> dict:
    return {
        "split": "test",
        "beam": 1,
        "length_penalty": 0.0,
        "unk_replace": False,
        "num_sentences": 2,
        "bleu": bleu,
        "bleu_by_length": [{"bucket": "[0, 5)", "lo": 0, "hi": None, "bleu": bleu, "count": 2}],
    }


def test_a_decoding_record_of_another_config_is_never_overwritten(tmp_path):
    decoding = {"beam": 1, "length_penalty": 0.0, "max_decode_len": 50, "checkpoint": {"step": 10}}
    first = write_decoding_result(
        str(tmp_path),
        "exp",
        "run",
        _metrics(10.0),
        config={"seed": 0},
        decoding=decoding,
        checkpoint_step=10,
        decode_time_s=1.0,
    )
    same = write_decoding_result(
        str(tmp_path),
        "exp",
        "run",
        _metrics(11.0),
        config={"seed": 0},
        decoding=decoding,
        checkpoint_step=10,
        decode_time_s=1.0,
    )
    assert same == first and first.endswith("run__test__beam1.json")
    other_config = write_decoding_result(
        str(tmp_path),
        "exp",
        "run",
        _metrics(20.0),
        config={"seed": 1},
        decoding=decoding,
        checkpoint_step=10,
        decode_time_s=1.0,
    )
    other_len = write_decoding_result(
        str(tmp_path),
        "exp",
        "run",
        _metrics(30.0),
        config={"seed": 0},
        decoding={**decoding, "max_decode_len": 80},
        checkpoint_step=10,
        decode_time_s=1.0,
    )
    assert len({first, other_config, other_len}) == 3
    assert all(p.startswith(first.removesuffix(".json") + "-") for p in (other_config, other_len))
    records = {r["path"]: r for r in read_decoding_results(str(tmp_path))}
    assert records[first]["metrics"]["bleu"] == 11.0 and records[first]["config"] == {"seed": 0}
    assert records[other_config]["metrics"]["bleu"] == 20.0 and records[other_len]["decoding"]["max_decode_len"] == 80


def test_bleu_signature_is_sacrebleus():
    hypotheses, references = ["the cat sat on the mat .", "a dog runs"], ["the cat sat on a mat .", "a dog runs"]
    score, signature = corpus_bleu_with_signature(hypotheses, references)
    reference = sacrebleu.metrics.BLEU()
    assert (
        score
        == pytest.approx(reference.corpus_score(hypotheses, [references]).score)
        == corpus_bleu(hypotheses, references)
    )
    assert signature == str(reference.get_signature()) and signature.startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    with pytest.raises(ValueError, match="one reference per hypothesis"):
        corpus_bleu_with_signature(hypotheses, references[:1])


def test_bleu_by_length_chart_leaves_out_empty_buckets():
    rows = [
        {"bucket": "[0, 5)", "bleu": 12.0, "count": 3},
        {"bucket": "[5, 10)", "bleu": None, "count": 0},
        {"bucket": "[10, inf)", "bleu": 30.0, "count": 1},
    ]
    ax = bleu_by_length_figure(rows, "t").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["[0, 5)", "[10, inf)"]
    assert [round(p.get_height(), 6) for p in ax.patches] == [12.0, 30.0]


def test_attention_heatmap_has_axis_labels_and_a_colour_bar():
    fig = attention_figure(np.full((2, 3), 1 / 3), ["ein", "hund", "."], ["a", "dog"])
    heatmap, colorbar = fig.axes
    assert heatmap.get_xlabel() == "source" and heatmap.get_ylabel() == "target"
    assert colorbar.get_ylim() == pytest.approx((0.0, 1.0))


def test_decoding_record_is_json_without_nan(tmp_path):
    with pytest.raises(ValueError, match="non-finite"):
        write_decoding_result(
            str(tmp_path),
            "exp",
            "run",
            _metrics(float("nan")),
            config={},
            decoding={},
            checkpoint_step=1,
            decode_time_s=1.0,
        )
    assert not list(tmp_path.rglob("*.json"))
    path = write_decoding_result(
        str(tmp_path), "exp", "run", _metrics(1.0), config={}, decoding={}, checkpoint_step=1, decode_time_s=1.0
    )
    assert json.loads(open(path).read())["metrics"]["bleu"] == 1.0


def test_a_workdir_evaluation_of_other_settings_goes_to_a_sibling_folder(tmp_path):
    settings = {"input": {"source_file": "/a.txt", "source_sha256": "0f"}, "beam": 1, "checkpoint": {"step": 5}}
    first = output_dir(str(tmp_path), "eval_file_beam1", settings)
    assert first == str(tmp_path / "eval_file_beam1")
    write_json(tmp_path / "eval_file_beam1" / "metrics.json", {"bleu": 1.0, "settings": settings})
    assert output_dir(str(tmp_path), "eval_file_beam1", settings) == first  # the same evaluation again
    other = output_dir(str(tmp_path), "eval_file_beam1", {**settings, "input": {"source_file": "/b.txt"}})
    assert other.startswith(first + "-") and other != first
    write_json(tmp_path / "eval_test_beam1" / "metrics.json", {"bleu": 1.0})  # written before settings were kept
    assert output_dir(str(tmp_path), "eval_test_beam1", settings) != str(tmp_path / "eval_test_beam1")
