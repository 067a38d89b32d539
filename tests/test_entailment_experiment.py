"""experiments/rocktaschel2016_sick.py: its sweep, its published numbers (checked against the transcription in
shared/docs/published_numbers.md, section 8, never typed from our output) and, slow, its smoke sweep."""

from __future__ import annotations

import os
import re
import runpy

import pytest

from attn_research.sweep import write_tables
from attn_research.sweeps import expand, load_experiment, runner
from attn_research.sweeps.spec import check_config_keys
from tests.helpers import SHARED_DATA

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(REPO, "experiments", "rocktaschel2016_sick.py")
PUBLISHED = os.path.join(os.path.dirname(REPO), "shared", "docs", "published_numbers.md")
SICK_FILE = SHARED_DATA / "sick" / "SICK.txt"


def _section_8() -> str:
    with open(PUBLISHED, encoding="utf-8") as f:
        text = f.read()
    return text[text.index("## 8.") : text.index("## 9.")]


def test_the_sweep_has_every_model_five_seeds_and_a_small_smoke_scale():
    experiment = load_experiment(PATH)
    check_config_keys(experiment, PATH)
    points = [expand.without_seed(p) for p in expand.points(experiment, "full")]
    rows = {experiment.table.row_label(p) for p in points}
    assert rows == {
        "conditional encoding",
        "conditional encoding, shared",
        "attention",
        "attention, two-way",
        "word-by-word attention",
        "word-by-word attention, two-way",
        "attentive BiLSTM classifier (ours)",
    }
    assert set(experiment.table.published) <= rows
    assert len(experiment.scale("full").seeds) >= 5 and len(expand.points(experiment, "smoke")) <= 4


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
def test_every_published_cell_is_a_cell_of_the_papers_row_in_the_transcription():
    lines = _section_8().splitlines()
    for label, cells in load_experiment(PATH).table.published.items():
        name = label[0].upper() + label[1:]  # the transcription's row name, e.g. "Word-by-word attention"
        row = [line for line in lines if line.startswith(f"| {name} |")]
        assert len(row) == 1, label
        values = [cell.strip() for cell in row[0].split("|")]
        for value in cells.values():
            assert value in values, (label, value)


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
def test_the_semeval_systems_are_as_transcribed():
    section = " ".join(_section_8().split())
    module = runpy.run_path(PATH)
    for system in module["SEMEVAL_SICK"].split("; ")[0].split(", "):
        assert system in section, system
    assert "median of all systems 77.06" in section and "word-overlap baseline 56.2" in section


@pytest.mark.skipif(not SICK_FILE.is_file(), reason="the shared SICK.txt is not beside the repo")
def test_the_majority_class_share_is_sicks_test_split():
    with open(SICK_FILE, encoding="utf-8") as f:
        rows = [line.rstrip("\r\n").split("\t") for line in f][1:]
    test = [row[3] for row in rows if row[-1] == "TEST"]
    share = 100 * test.count("NEUTRAL") / len(test)
    assert max(set(test), key=test.count) == "NEUTRAL"
    assert f"{share:.1f}" == runpy.run_path(PATH)["MAJORITY_TEST"]


@pytest.mark.slow
def test_smoke_sweep_runs_end_to_end(tmp_path):
    experiment = load_experiment(PATH)
    paths = runner.Paths(str(tmp_path / "results"), str(tmp_path / "workdirs"))
    assert runner.run_sweep(experiment, PATH, "smoke", paths, parallel=1, out=lambda line: None) == []
    written = write_tables(experiment, PATH, "smoke", paths, str(tmp_path / "tables"))
    table = open(next(p for p in written if p.endswith(".md"))).read()
    assert table.count(" | 1/1 | ") == len(expand.points(experiment, "smoke")), table
    assert re.search(r"word-by-word attention \| 1/1 \| \d+\.\d", table), table


def test_findings_state_the_papers_ordering_from_the_rows():
    from attn_research.sweeps.aggregate import Row, Stat

    experiment = load_experiment("experiments/rocktaschel2016_sick.py")

    def row(label, mean, std, runs=5):
        return Row(label, {}, runs, 5, {"test/accuracy": Stat(mean, std, mean, runs)})

    rows = [
        row("conditional encoding", 0.70, 0.01),
        row("attention", 0.705, 0.02),  # above, but within the spread
        row("word-by-word attention", 0.68, 0.01, runs=3),  # below
        row("word-by-word attention, two-way", 0.71, 0.01),
    ]
    lines = experiment.table.findings(rows)
    assert lines[0].startswith("The paper's conditional encoding < attention: holds, within the seeds' spread")
    assert lines[1].startswith("The paper's attention < word-by-word attention: does not hold")
    assert "70.0 ± 1.0 (5 seeds) vs 70.5 ± 2.0 (5 seeds)" in lines[0]
    assert lines[2] == "Two-way reading, word-by-word attention: +3.0 points (71.0 ± 1.0 (5 seeds))."
    assert lines[3].startswith("Runs still to make: word-by-word attention (2)")
    rows[1] = row("attention", 0.75, 0.01)
    assert experiment.table.findings(rows)[0].startswith(
        "The paper's conditional encoding < attention: holds, by more than the seeds' spread"
    )
