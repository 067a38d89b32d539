"""One preprocessing pipeline per run (issue 25): a split and the same split's raw files decode alike.

A tiny Multi30k-style model (raw, cased lines of the real files in a temporary manual_dir) is trained a
few steps, once with lowercased Moses words and once with sentencepiece; `evaluate --split=test` and
`evaluate --source_file/--reference_file` on the raw test files must give identical hypotheses and BLEU,
and the run folder must translate input without references on its own.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from attn_research.config_defaults import attention_config, base_config
from attn_research.data import load_dataset
from attn_research.data.preprocessing import load_preprocessing, preprocessing_of
from attn_research.evaluate import evaluate_run
from attn_research.training.loop import train_and_evaluate
from tests.helpers import SHARED_DATA

MULTI30K = SHARED_DATA / "multi30k"
needs_multi30k = pytest.mark.skipif(
    not MULTI30K.is_dir(),
    reason=f"Multi30k files not found at {MULTI30K} (the test copies their first lines into a temporary manual_dir)",
)
LINES = {"train": 64, "val": 16, "test_2016_flickr": 24}  # one batch each: few shapes to compile
STEPS = 4  # the hypotheses need not be good, only equal between the two paths


def _raw_lines(stem: str, lang: str, count: int) -> list[str]:
    with gzip.open(MULTI30K / f"{stem}.{lang}.gz", "rt", encoding="utf-8") as f:
        return [next(f).rstrip("\n") for _ in range(count)]


def _manual_dir(root) -> str:
    """The first lines of the real Multi30k de/en files, in the builder's file names (raw, cased)."""
    manual = root / "multi30k"
    manual.mkdir()
    for stem, count in LINES.items():
        for lang in ("de", "en"):
            with gzip.open(manual / f"{stem}.{lang}.gz", "wt", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in _raw_lines(stem, lang, count)))
    return str(manual)


def _tiny_multi30k(tmp_path, tokenizer: str):
    config = base_config()
    config.experiment, config.name = "m30k_test", f"tiny_{tokenizer}"
    config.results_dir = ""  # the default: nothing recorded under results/
    config.data.update(
        dict(
            name="multi30k",
            source_lang="de",
            target_lang="en",
            tokenizer=tokenizer,
            min_freq=1,
            vocab_size=150,
            lowercase=True,
            manual_dir=_manual_dir(tmp_path),
            tfds_dir=str(tmp_path / "tfds"),
        )
    )
    config.model.update(
        dict(
            embed_dim=16,
            encoder_hidden=32,
            decoder_hidden=32,
            dropout=0.0,
            decoder="bahdanau",
        )
    )
    config.model.attention = attention_config("additive", dim=16)  # replaced whole (it holds FieldReferences)
    config.train.update(
        dict(
            batch_size=64,
            num_steps=STEPS,
            learning_rate=1e-2,
            log_every_steps=STEPS,
            eval_every_steps=STEPS,
            checkpoint_every_steps=STEPS,
        )
    )
    config.eval.update(dict(batch_size=32, max_decode_len=10, num_heatmaps=0))
    config.wandb.update(dict(mode="disabled", dir=str(tmp_path)))
    return config


def _raw_test_files(tmp_path) -> tuple[str, str]:
    return (
        os.path.join(tmp_path, "multi30k", "test_2016_flickr.de.gz"),
        os.path.join(tmp_path, "multi30k", "test_2016_flickr.en.gz"),
    )


def _hypotheses(folder) -> list[str]:
    return (folder / "hypotheses.txt").read_text(encoding="utf-8").splitlines()


def _check_split_equals_files(tmp_path, tokenizer: str, results_dir: str | None = None) -> tuple:
    config = _tiny_multi30k(tmp_path, tokenizer)
    workdir = tmp_path / "work"
    train_and_evaluate(config, str(workdir))
    data = load_dataset(config.data)
    source_file, reference_file = _raw_test_files(tmp_path)
    assert any(c.isupper() for c in gzip.open(reference_file, "rt").read())  # raw, cased files

    # the saved pipeline turns the raw files into exactly the split's ids and references
    saved = load_preprocessing(workdir)
    assert saved is not None and saved.lowercase and not saved.same_as(preprocessing_of(data, config.data))
    from_files = saved.encode(
        "file",
        _raw_lines("test_2016_flickr", "de", LINES["test_2016_flickr"]),
        _raw_lines("test_2016_flickr", "en", LINES["test_2016_flickr"]),
    )
    test = data.splits["test"]
    assert [x.tolist() for x in from_files.source_ids] == [x.tolist() for x in test.source_ids]
    assert from_files.references == test.references

    on_split = evaluate_run(str(workdir), split="test", beam=1, heatmaps=0, results_dir=results_dir)
    on_files = evaluate_run(str(workdir), beam=1, source_file=source_file, reference_file=reference_file, heatmaps=0)
    hypotheses = _hypotheses(workdir / "eval_test_beam1")
    assert hypotheses == _hypotheses(workdir / "eval_file_beam1")
    assert on_split["bleu"] == on_files["bleu"] and on_split["seq_accuracy"] == on_files["seq_accuracy"]
    assert on_split["bleu_signature"] == on_files["bleu_signature"]
    summary = json.loads((workdir / "summary.json").read_text())  # the split's BLEU joins the run's summary
    assert summary["eval/test/beam1/bleu"] == on_split["bleu"] and "eval/file/beam1/bleu" not in summary
    assert on_split["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    assert on_split["lowercased"] is on_files["lowercased"] is True
    assert all(h == h.lower() for h in hypotheses)
    assert not (tmp_path / "results").exists()  # config.results_dir "": nothing recorded
    return config, workdir, hypotheses


@needs_multi30k
def test_split_and_raw_files_decode_identically_lowercased_moses(tmp_path):
    # an explicit results_dir records the split's decoding, with the run's config and the decoding settings
    config, workdir, hypotheses = _check_split_equals_files(tmp_path, "moses", results_dir=str(tmp_path / "rec"))
    record = json.loads((tmp_path / "rec" / "m30k_test" / "decoding" / "tiny_moses__test__beam1.json").read_text())
    assert record["config"]["data"]["tokenizer"] == "moses"
    assert record["decoding"]["max_decode_len"] == 10 and record["decoding"]["checkpoint"]["step"] == STEPS
    assert record["metrics"]["bleu_signature"].startswith("nrefs:1|")

    # a workdir trained before the pipeline was saved: rebuilt from its results.json config; translation
    # without references from the checkpoint of step STEPS (= the best here) gives the same outputs
    source_file = _raw_test_files(tmp_path)[0]
    with pytest.raises(FileNotFoundError, match=f"no checkpoint of step 7 in .*; steps saved: {STEPS}"):
        evaluate_run(str(workdir), beam=1, source_file=source_file, checkpoint="7")
    shutil.rmtree(workdir / "preprocessing")
    out = tmp_path / "out.txt"
    translated = evaluate_run(
        str(workdir), beam=1, source_file=source_file, output=str(out), heatmaps=0, checkpoint=str(STEPS)
    )
    assert out.read_text(encoding="utf-8").splitlines() == hypotheses
    assert "bleu" not in translated and translated["split"] == "input" and translated["lowercased"]
    assert translated["checkpoint_step"] == STEPS


@pytest.mark.slow  # trains a SentencePiece model and a tiny run: 46 s; the Moses twin above stays in make test
@needs_multi30k
def test_split_and_raw_files_decode_identically_sentencepiece(tmp_path, monkeypatch, capsys):
    config, workdir, hypotheses = _check_split_equals_files(tmp_path, "sentencepiece")
    assert sorted(p.name for p in (workdir / "preprocessing").glob("*.model")) == ["source.model", "target.model"]
    # the run folder is self-contained: without the data set or its sentencepiece cache, stdin -> stdout
    shutil.rmtree(tmp_path / "tfds")
    shutil.rmtree(tmp_path / "multi30k")
    sources = "\n".join(_raw_lines("test_2016_flickr", "de", LINES["test_2016_flickr"])) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sources.encode("utf-8")), encoding="utf-8"))
    capsys.readouterr()
    evaluate_run(str(workdir), beam=1, source_file="-", output="-", heatmaps=0, checkpoint="latest")
    assert capsys.readouterr().out.splitlines() == hypotheses


def test_command_line_errors_are_one_line_before_any_model_loads(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "attn_research.evaluate",
            f"--workdir={tmp_path}",
            f"--source_file={tmp_path / 'missing.txt'}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0] == f"error: no such file: {tmp_path / 'missing.txt'}"
    with pytest.raises(ValueError, match="--checkpoint must be best, latest or a step number, got 'newest'"):
        evaluate_run(str(tmp_path), checkpoint="newest")
    with pytest.raises(ValueError, match="--reference_file needs --source_file"):
        evaluate_run(str(tmp_path), reference_file=str(tmp_path / "ref.txt"))
