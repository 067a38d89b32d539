"""Seed aggregation and the Markdown / LaTeX / CSV tables, on a small hand-made set of results."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os

import numpy as np
import pytest

from attn_research.sweeps import Block, Experiment, Metric, Scale, Table, aggregate, tables

BLEU = Metric("test/bleu", "BLEU")
PPL = Metric("test/ppl", "ppl", goal="minimize")
ACC = Metric("test/seq_accuracy", "exact match (%)", scale=100, digits=1)


def experiment(by_length=False):
    return Experiment(
        name="toy_table",
        title="Toy et al. (2020), Table 1: scores",
        config="configs/synthetic.py:task=reverse",
        blocks=(Block({"model.attention.score": ["dot", "general", "concat"]}),),
        scales={"full": Scale("the real thing", seeds=(0, 1, 2)), "smoke": Scale("quick")},
        table=Table(
            metrics=(BLEU, PPL, ACC),
            row_label=lambda p: f"global ({p['model.attention.score']})",
            row_title="attention",
            source="Toy et al. (2020), Table 1",
            published={
                "global (dot)": {"test/bleu": "18.6", "test/ppl": "6.1"},
                "global (general)": {"test/ppl": "6.1 ‡"},
            },
            notes=("‡ not verified.",),
            by_length=by_length,
        ),
        objective=Metric("validation/bleu", "BLEU"),
    )


# Hand-made results: dot has three seeds, general one (two failed), concat none. Wall times in minutes:
# dot 10 + 12 + 14 = 36, general 24, so 60 min = 1.0 h for 4 runs.
RECORDS = {
    "score=dot,seed=0": {"test/bleu": 20.0, "test/ppl": 6.0, "test/seq_accuracy": 0.50, "wall_time_min": 10.0},
    "score=dot,seed=1": {"test/bleu": 22.0, "test/ppl": 5.0, "test/seq_accuracy": 0.55, "wall_time_min": 12.0},
    "score=dot,seed=2": {"test/bleu": 27.0, "test/ppl": 7.0, "test/seq_accuracy": 0.60, "wall_time_min": 14.0},
    "score=general,seed=1": {"test/bleu": 15.5, "test/ppl": 8.25, "test/seq_accuracy": 0.125, "wall_time_min": 24.0},
}
POINTS = [{"model.attention.score": s, "seed": seed} for s in ("dot", "general", "concat") for seed in (0, 1, 2)]


def rows():
    return aggregate.aggregate(POINTS, RECORDS, (BLEU, PPL, ACC), experiment().table.row_label)


def test_seeds_are_aggregated_as_mean_sample_std_and_best():
    dot, general, concat = rows()
    assert [r.label for r in (dot, general, concat)] == ["global (dot)", "global (general)", "global (concat)"]
    assert (dot.runs, dot.expected, general.runs, concat.runs) == (3, 3, 1, 0)
    bleu = np.array([20.0, 22.0, 27.0])
    assert dot.stats["test/bleu"].mean == pytest.approx(bleu.mean())
    assert dot.stats["test/bleu"].std == pytest.approx(bleu.std(ddof=1))
    assert dot.stats["test/bleu"].best == 27.0
    assert dot.stats["test/ppl"].best == 5.0, "the best perplexity is the lowest"
    assert general.stats["test/bleu"] == aggregate.Stat(15.5, None, 15.5, 1)
    assert concat.stats["test/bleu"] is None


def test_summarize_skips_missing_and_non_finite_values():
    assert aggregate.summarize([None, math.nan, 2.0, 4.0]) == aggregate.Stat(3.0, math.sqrt(2.0), 4.0, 2)
    assert aggregate.summarize([None, math.inf]) is None


def test_run_metrics_flattens_results_and_evaluation():
    results = {
        "metrics": {"test": {"bleu": 1.5, "ppl": 3.0}, "validation": {"bleu": 2.0}},
        "num_params": 10,
        "wall_time_s": 90.0,
    }
    evaluation = {
        "bleu": 4.0,
        "bleu_by_length": [{"bucket": "[0, 10)", "bleu": 5.0}, {"bucket": "[10, 20)", "bleu": None}],
    }
    assert aggregate.run_metrics(results, evaluation) == {
        "test/bleu": 1.5,
        "test/ppl": 3.0,
        "validation/bleu": 2.0,
        "num_params": 10,
        "wall_time_min": 1.5,
        "eval/bleu": 4.0,
        "eval/bleu_by_length/[0, 10)": 5.0,
        "eval/bleu_by_length/[10, 20)": None,
    }
    assert aggregate.run_metrics(results, {**evaluation, "bleu_tokens": 4.5})["eval/bleu_tokens"] == 4.5


def test_markdown_puts_the_papers_numbers_beside_ours():
    text = tables.render_markdown(experiment(), "full", rows())
    lines = text.splitlines()
    assert lines[0] == "### Toy et al. (2020), Table 1: scores"
    assert lines[2] == (
        "| attention | runs | BLEU | BLEU (paper) | ppl | ppl (paper) | exact match (%) | min per run |"
    )
    assert lines[3] == "| --- | --- | --- | --- | --- | --- | --- | --- |"
    # dot: BLEU 23.00 ± 3.61 (27.00); ppl 6.00 ± 1.00 (5.00); accuracy 55.0 ± 5.0 (60.0); 12 min per run
    assert lines[4] == (
        "| global (dot) | 3/3 | 23.00 ± 3.61 (27.00) | 18.6 | 6.00 ± 1.00 (5.00) | 6.1 | 55.0 ± 5.0 (60.0) | 12.0 |"
    )
    assert lines[5] == "| global (general) | 1/3 | 15.50 | – | 8.25 | 6.1 ‡ | 12.5 | 24.0 |"
    assert lines[6] == "| global (concat) | 0/3 | – | – | – | – | – | – |"
    assert "Paper: Toy et al. (2020), Table 1." in text and "- ‡ not verified." in text
    assert "Wall time: 1.0 h in all for 4 runs" in text


def test_latex_is_a_booktabs_table_with_escaped_cells():
    text = tables.render_latex(experiment(), "smoke", rows())
    assert r"\begin{tabular}{lrrrrrrr}" in text and r"\toprule" in text and r"\bottomrule" in text
    assert (
        r"global (dot) & 3/3 & 23.00 $\pm$ 3.61 (27.00) & 18.6 & 6.00 $\pm$ 1.00 (5.00) & 6.1 & "
        r"55.0 $\pm$ 5.0 (60.0) & 12.0 \\" in text
    )
    assert r"global (concat) & 0/3 & -- & -- & -- & -- & -- & -- \\" in text
    assert r"6.1 $^\ddagger$" in text and r"\label{tab:toy_table}" in text
    assert tables.latex_escape("a_b & 50% #1 {x}") == r"a\_b \& 50\% \#1 \{x\}"


def test_csv_keeps_the_unformatted_numbers():
    parsed = list(csv.DictReader(io.StringIO(tables.render_csv(experiment(), rows()))))
    assert [r["attention"] for r in parsed] == ["global (dot)", "global (general)", "global (concat)"]
    dot = parsed[0]
    assert dot["model.attention.score"] == "dot" and dot["runs"] == "3" and dot["expected"] == "3"
    assert float(dot["test/bleu mean"]) == pytest.approx(23.0)
    assert float(dot["test/bleu std"]) == pytest.approx(np.std([20.0, 22.0, 27.0], ddof=1))
    assert float(dot["test/ppl best"]) == 5.0 and dot["test/bleu paper"] == "18.6"
    assert parsed[1]["test/bleu std"] == "" and parsed[2]["test/bleu n"] == "0"
    assert float(dot["wall_time_min mean"]) == pytest.approx(12.0) and parsed[2]["wall_time_min mean"] == ""


def test_length_buckets_become_columns_in_order_of_length():
    records = {
        "score=dot,seed=0": {"eval/bleu_by_length/[5, 10)": 2.0, "eval/bleu_by_length/[25, inf)": 1.0},
        "score=dot,seed=1": {"eval/bleu_by_length/[0, 5)": 4.0, "eval/bleu_by_length/[10, 15)": 3.0},
    }
    table = aggregate.with_length_buckets(experiment(by_length=True).table, records)
    assert [m.title for m in table.metrics] == [
        "BLEU",
        "ppl",
        "exact match (%)",
        "[0, 5)",
        "[5, 10)",
        "[10, 15)",
        "[25, inf)",
    ]
    plain = experiment().table
    assert aggregate.with_length_buckets(plain, records) is plain, "by_length off: the table as it is"


def test_tables_are_written_per_scale_with_the_length_figure(tmp_path):
    records = {
        **RECORDS,
        "score=dot,seed=0": {
            **RECORDS["score=dot,seed=0"],
            "eval/bleu_by_length/[0, 10)": 3.0,
            "eval/bleu_by_length/[10, 20)": 2.0,
        },
    }
    spec = experiment(by_length=True)
    spec = dataclasses.replace(spec, table=aggregate.with_length_buckets(spec.table, records))
    with_buckets = aggregate.aggregate(POINTS, records, spec.table.metrics, spec.table.row_label)
    full = tables.write_tables(spec, "full", with_buckets, str(tmp_path))
    assert sorted(os.path.relpath(p, tmp_path) for p in full) == [
        "toy_table.csv",
        "toy_table.md",
        "toy_table.png",
        "toy_table.tex",
    ]
    assert (tmp_path / "toy_table.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (tmp_path / "toy_table.md").read_text()
    assert f"![{tables.LENGTH_FIGURE}](toy_table.png)" in markdown
    assert (
        "| global (dot) | 3/3 | 23.00 ± 3.61 (27.00) | 18.6 | 6.00 ± 1.00 (5.00) | 6.1 | 55.0 ± 5.0 (60.0) "
        "| 3.00 | 2.00 | 12.0 |" in markdown
    )
    smoke = tables.write_tables(experiment(), "smoke", rows(), str(tmp_path))
    assert sorted(os.path.relpath(p, tmp_path) for p in smoke) == [
        os.path.join("smoke", f"toy_table.{s}") for s in ("csv", "md", "tex")
    ]


def test_a_scale_adds_its_own_notes_and_names_itself_in_the_title():
    spec = experiment()
    spec = dataclasses.replace(
        spec,
        scales={
            "full": Scale("the real thing", seeds=(0, 1, 2), notes=("full recipe: 3,000 updates.",)),
            "paper": Scale("the paper's recipe", seeds=(0, 1, 2), notes=("paper recipe: 100,000 updates.",)),
        },
    )
    full = tables.render_markdown(spec, "full", rows())
    paper = tables.render_markdown(spec, "paper", rows())
    assert full.splitlines()[0] == "### Toy et al. (2020), Table 1: scores"
    assert paper.splitlines()[0] == "### Toy et al. (2020), Table 1: scores (`paper` scale)"
    # the table's notes first, then the scale's own; never another scale's
    assert full.index("- ‡ not verified.") < full.index("- full recipe: 3,000 updates.")
    assert "paper recipe" not in full
    assert "- paper recipe: 100,000 updates." in paper and "full recipe" not in paper


def test_the_readme_shows_full_scale_tables_then_other_scales_but_smoke(tmp_path):
    from attn_research import readme

    (tmp_path / "paper").mkdir()
    (tmp_path / "smoke").mkdir()
    (tmp_path / "b_exp.md").write_text("### B full\n")
    (tmp_path / "paper" / "a_exp.md").write_text("### A paper\n\n![by length](a_exp.png)\n")
    (tmp_path / "smoke" / "a_exp.md").write_text("### A smoke\n")
    text = readme.tables_markdown(str(tmp_path))
    assert text.index("### B full") < text.index("### A paper")
    assert "A smoke" not in text
    # a figure link resolves from the README (the repository root), through the scale's folder
    link = os.path.relpath(str(tmp_path / "paper" / "a_exp.png"), readme.ROOT)
    assert f"![by length]({link})" in text
