"""The four paper experiments: their sweeps, their published numbers (checked against the transcription in
shared/docs/published_numbers.md, never typed from our own output) and, marked slow, their smoke sweeps."""

from __future__ import annotations

import os
import re
import runpy

import pytest

from attn_research.sweep import write_tables
from attn_research.sweeps import expand, load_experiment, runner
from attn_research.sweeps.spec import check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLISHED = os.path.join(os.path.dirname(REPO), "shared", "docs", "published_numbers.md")
PAPER_TABLES = ("luong2015_table4", "britz2017_attention", "bahdanau2015_length")  # transcribed in PUBLISHED
NAMES = (*PAPER_TABLES, "lake2018_scan", "vaswani2017_heads", "attention_variants_reverse")


def path(name):
    return os.path.join(REPO, "experiments", f"{name}.py")


def full_rows(experiment):
    return {experiment.table.row_label(expand.without_seed(p)) for p in expand.points(experiment, "full")}


@pytest.mark.parametrize("name", NAMES)
def test_experiment_loads_its_keys_exist_and_its_published_rows_are_rows_of_the_sweep(name):
    experiment = load_experiment(path(name))
    assert experiment.name == name
    check_config_keys(experiment, path(name))
    assert set(experiment.table.published) <= full_rows(experiment)
    assert len(expand.points(experiment, "smoke")) <= 4, "a smoke sweep stays small"


def test_the_full_sweeps_have_the_papers_shape():
    luong = load_experiment(path("luong2015_table4"))
    assert len(full_rows(luong)) == 12 and len(expand.points(luong, "full")) == 12 * 3  # issue 22: >= 3 seeds
    assert {"global (location)", "local-m (general)", "local-p (concat)"} <= full_rows(luong)

    britz = load_experiment(path("britz2017_attention"))
    assert full_rows(britz) == {f"{s}-{d}" for s in ("Add", "Mul") for d in (128, 256, 512)} | {
        "None-State",
        "None-Input",
        "Mul-128, T 11.3",
        "Mul-256, T 16.0",
        "Mul-512, T 22.6",
    }
    assert len(britz.scale("full").seeds) >= 3 and len(expand.points(britz, "full")) == 11 * 3

    # the gap scale: one setting changed per row against Mul-512 (issue 22, item 2), every row named for it
    gap = [expand.without_seed(p) for p in expand.points(britz, "gap")]
    assert sorted(britz.table.row_label(p) for p in gap) == sorted(
        ["Mul-512", "Mul-512, T 22.6", "Mul-128, T 11.3", "Mul-512, lr 0.001", "Add-512, 6 epochs", "Mul-512, 6 epochs"]
    )
    assert all(len(set(p) - {"model.attention.score", "model.attention.dim"}) <= 1 for p in gap), gap

    bahdanau = load_experiment(path("bahdanau2015_length"))
    assert full_rows(bahdanau) == {"RNNencdec-30", "RNNencdec-50", "RNNsearch-30", "RNNsearch-50"}
    assert bahdanau.scale("full").evaluation is not None and bahdanau.table.by_length
    search = [p for p in expand.points(bahdanau, "full") if "model.decoder" not in p]
    assert sorted(p["data.max_len"] for p in search) == [15] * 3 + [25] * 3  # 3 seeds each

    lake = load_experiment(path("lake2018_scan"))
    assert len(full_rows(lake)) == 4 * 2 * 2 and len(lake.scale("full").seeds) == 5
    assert {p["data.split"] for p in expand.points(lake, "full")} == {
        "simple",
        "length",
        "addprim_jump",
        "addprim_turn_left",
    }


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
@pytest.mark.parametrize("name", PAPER_TABLES)
def test_every_published_cell_is_in_the_transcription(name):
    with open(PUBLISHED) as f:
        text = f.read()
    for label, cells in load_experiment(path(name)).table.published.items():
        row = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
        for value in cells.values():
            if row:  # the paper's table row: the value is one of its cells
                assert value in [cell.strip() for cell in row[0].split("|")], (label, value)
            else:  # Luong's concat perplexities sit in footnote 15: "6.7 (global), 7.1 (local-m), ..."
                window = re.match(r"(\S+) \(", label).group(1)
                assert f"{value} ({window})" in text, (label, value)


def test_lake_published_numbers_are_the_papers_sentences():
    """Lake & Baroni's numbers are not in PUBLISHED (its section 5 is empty): each is in the paper's sentence
    for its split, quoted in the experiment file, as the top performer (unmarked or †: the sentence's first
    number) or the overall-best network (‡: its last)."""
    module = runpy.run_path(path("lake2018_scan"))
    quotes, experiment = module["PAPER_TEXT"], module["EXPERIMENT"]
    assert set(quotes) == {"simple", "length", "addprim_jump", "addprim_turn_left"}
    seen = set()
    for label, cells in experiment.table.published.items():
        numbers = re.findall(r"(\d+(?:\.\d+)?)%", quotes[label.split(",")[0]])
        for part in cells["test/seq_accuracy"].split(" / "):
            value, _, mark = part.partition(" ")
            assert value == (numbers[-1] if mark == "‡" else numbers[0]), (label, part, numbers)
            seen.add((label.split(",")[0], value))
    assert len(seen) == 8, "each split's top performer and overall-best network, once each"


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
def test_vaswani_published_pairs_are_rows_of_table_3():
    """Each row's (perplexity, BLEU) pair is one row of the transcription's Table 3, with the heads / key size
    of our scaled row (h for row A; d_k = 64 / n for row B)."""
    with open(PUBLISHED) as f:
        rows = [
            [c.strip() for c in line.split("|")[1:-1]]
            for line in f
            if line.startswith("| (") or line.startswith("| base")
        ]
    for label, cells in load_experiment(path("vaswani2017_heads")).table.published.items():
        matches = [r for r in rows if r[4:6] == [cells["validation/ppl"], cells["eval/bleu"]]]
        assert matches, label
        if label.startswith("(A) h="):
            assert any(r[0] == "(A)" and r[1] == label[len("(A) h=") :] for r in matches), label
        elif label.startswith("(B) d_k=base/"):
            assert any(r[0] == "(B)" and r[2] == str(64 // int(label.rsplit("/", 1)[1])) for r in matches), label


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_smoke_sweep_runs_end_to_end(name, tmp_path):
    experiment = load_experiment(path(name))
    paths = runner.Paths(str(tmp_path / "results"), str(tmp_path / "workdirs"))
    assert runner.run_sweep(experiment, path(name), "smoke", paths, parallel=2, out=lambda line: None) == []
    written = write_tables(experiment, path(name), "smoke", paths, str(tmp_path / "tables"))
    table = open(next(p for p in written if p.endswith(".md"))).read()
    points = expand.points(experiment, "smoke")
    assert table.count(" | 1/1 | ") == len(points), table


def test_britz_findings_check_the_claims_on_the_rows():
    from attn_research.sweeps.aggregate import Row, Stat

    britz = load_experiment(path("britz2017_attention"))

    def row(label, bleu):
        return Row(label, {}, 3, 3, {"test/bleu": Stat(bleu, 0.3, bleu + 0.3, 3)})

    additive = {128: 19.0, 256: 19.4, 512: 19.6}
    rows = [row(f"Add-{d}", b) for d, b in additive.items()]
    rows += [row("Mul-128", 18.5), row("Mul-256", 19.0), row("Mul-512", 17.0)]  # 512: 2.6 below
    rows += [row("Mul-128, T 11.3", 19.1), row("Mul-256, T 16.0", 19.0), row("Mul-512, T 22.6", 18.9)]
    rows += [row("None-State", 6.8), row("None-Input", 8.0)]
    lines = britz.table.findings(rows)
    assert lines[0].startswith("Multiplicative (the paper's definition) within 1 BLEU of additive at every d: does not")
    assert "-0.50 / -0.40 / -2.60 BLEU" in lines[0]
    assert lines[1].startswith(
        "Scaled multiplicative (T = sqrt(d), our variant) within 1 BLEU of additive at every d: holds"
    )
    assert "+0.10 / -0.40 / -0.70 BLEU" in lines[1]
    assert lines[2] == "The dimension matters little for additive: holds here (spread 0.60 BLEU over d)."
    assert lines[3].startswith("No attention does far worse: holds here (best without attention 8.00, worst with 17.00")
    rows[-1] = row("None-Input", 17.5)  # above Mul-512
    assert britz.table.findings(rows)[3].startswith("No attention does far worse: does not hold")
    assert britz.table.findings(rows[:3]) == [
        "The dimension matters little for additive: holds here (spread 0.60 BLEU over d)."
    ]


def test_lake_findings_check_each_splits_claim_on_its_top_performer():
    from attn_research.sweeps.aggregate import Row, Stat

    lake = load_experiment(path("lake2018_scan"))

    def row(label, accuracy, runs=5):
        return Row(label, {}, runs, 5, {"test/seq_accuracy": Stat(accuracy, 0.01, accuracy, runs)})

    rows = [
        row("simple, LSTM, no attention", 0.994),  # below 99.5
        row("simple, GRU, attention", 1.0),  # not the paper's top performer: not read
        row("addprim_turn_left, GRU, attention", 0.86, runs=3),
        row("length, GRU, attention", 0.30),  # does not fail
    ]
    lines = lake.table.findings(rows)
    assert lines == [
        "The paper's claim, simple, LSTM, no attention: generalizes near perfectly (exact match >= 99.5%): does not "
        "hold here (99.4 ± 1.0 over 5 seeds).",
        "The paper's claim, addprim_turn_left, GRU, attention: generalizes to the new primitive (exact match >= 85%): "
        "holds here (86.0 ± 1.0 over 3 seeds).",
        "The paper's claim, length, GRU, attention: fails on longer commands (exact match < 25%): does not hold here "
        "(30.0 ± 1.0 over 5 seeds).",
    ]


def test_vaswani_findings_check_the_three_claims_on_the_rows():
    from attn_research.sweeps.aggregate import Row, Stat

    vaswani = load_experiment(path("vaswani2017_heads"))

    def row(label, bleu, std=0.2):
        return Row(label, {}, 3, 3, {"eval/bleu": Stat(bleu, std, bleu, 3)})

    rows = [row("(A) h=1", 35.0), row("base", 36.5), row("(A) h=16", 36.6), row("(A) h=32", 36.5, std=0.3)]
    rows += [row("(B) d_k=base/4", 35.9)]
    assert vaswani.table.findings(rows) == [
        "The paper's claim that one head is worse than the best: holds here ((A) h=1 35.00 vs (A) h=16 36.60 BLEU, "
        "seed spread 0.20).",
        "The paper's claim that too many heads hurt: does not hold here ((A) h=32 36.50 vs (A) h=16 36.60 BLEU, "
        "seed spread 0.30).",
        "The paper's claim that a smaller key size hurts, (B) d_k=base/4: holds here ((B) d_k=base/4 35.90 vs base "
        "36.50 BLEU, seed spread 0.20).",
    ]
    assert vaswani.table.findings([row("base", 36.5)]) == []


def test_bahdanau_findings_check_the_claims_on_the_rows():
    from attn_research.sweeps.aggregate import BY_LENGTH, Row, Stat

    bahdanau = load_experiment(path("bahdanau2015_length"))

    def row(label, bleu, buckets):
        stats = {"eval/bleu": Stat(bleu, None, bleu, 1), BY_LENGTH + "[0, 5)": None}
        stats |= {BY_LENGTH + bucket: Stat(value, None, value, 1) for bucket, value in buckets.items()}
        return Row(label, {}, 1, 3, stats)

    # buckets deliberately out of length order: the findings sort them ([20, inf) is the longest)
    rows = [
        row("RNNencdec-30", 20.0, {"[20, inf)": 10.0, "[5, 10)": 40.0}),  # loses 75%
        row("RNNencdec-50", 30.0, {"[20, inf)": 20.0, "[5, 10)": 40.0}),  # 50%
        row("RNNsearch-30", 25.0, {"[20, inf)": 30.0, "[5, 10)": 50.0}),  # 40%
        row("RNNsearch-50", 35.0, {"[20, inf)": 49.5, "[5, 10)": 50.0}),  # 1%, within 1 BLEU of its best
    ]
    assert bahdanau.table.findings(rows) == [
        "RNNsearch above RNNencdec at every length limit: holds here (-30: 25.00 vs 20.00 BLEU; -50: 35.00 vs 30.00 "
        "BLEU).",
        "RNNsearch-30 above RNNencdec-50 (the paper: 21.50 vs 17.82): does not hold here (25.00 vs 30.00).",
        "RNNencdec degrades more with sentence length than RNNsearch (Fig. 2): holds here (BLEU lost from the [5, 10) "
        "to the [20, inf) bucket: RNNencdec-30 75%, RNNencdec-50 50%, RNNsearch-30 40%, RNNsearch-50 1%).",
        "RNNsearch-50 does not deteriorate on long sentences: holds here (49.50 BLEU on [20, inf) against 50.00 on "
        "[5, 10)).",
    ]
    rows[2] = row("RNNsearch-30", 25.0, {"[20, inf)": 20.0, "[5, 10)": 50.0})  # 60%: more than RNNencdec-50's 50%
    assert "than RNNsearch (Fig. 2): does not hold here" in bahdanau.table.findings(rows)[2]
    assert bahdanau.table.findings(rows[:1]) == []
