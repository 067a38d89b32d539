"""experiments/chorowski2015_length.py: its sweep (keys exist, rows, published cells from the transcription) and
the length figure from results JSONs."""

from __future__ import annotations

import json
import os

import pytest

from attn_research.sweeps import expand, load_experiment
from attn_research.sweeps.spec import check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(REPO, "experiments", "chorowski2015_length.py")
PUBLISHED = os.path.join(os.path.dirname(REPO), "shared", "docs", "published_numbers.md")


def test_the_sweep_has_the_three_attentions_and_its_keys_exist():
    experiment = load_experiment(PATH)
    check_config_keys(experiment, PATH)
    rows = {experiment.table.row_label(expand.without_seed(p)) for p in expand.points(experiment, "full")}
    assert rows == {"content-based", "location-aware (cumulative)", "location-aware + smoothing"}
    assert set(experiment.table.published) <= rows
    assert len(expand.points(experiment, "full")) == 9 and len(expand.points(experiment, "smoke")) == 3


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
def test_the_published_cells_are_in_the_transcription():
    with open(PUBLISHED) as f:
        text = f.read()
    for cells in load_experiment(PATH).table.published.values():
        for cell in cells.values():
            assert f"{cell.split(' ')[0]}%" in text, cell


def test_the_length_figure_averages_the_seeds(tmp_path):
    import runpy  # pylint: disable=import-outside-toplevel

    module = runpy.run_path(PATH)
    for i, (family, normalizer, der8) in enumerate(
        [("factored", "softmax", 0.5), ("factored", "softmax", 0.25), ("location_aware", "sigmoid", 0.02)]
    ):
        results = {
            "config": {"model": {"attention": {"family": family, "normalizer": normalizer}}},
            "metrics": {"test": {"der_1": 0.01, "der_8": der8, "windowed_der_8": der8 / 2, "der_train_lengths": 0.01}},
        }
        (tmp_path / f"run_{i}.json").write_text(json.dumps(results))
    curves = module["length_curves"](str(tmp_path))
    assert curves == {"content-based": {1: 0.01, 8: 0.375}, "location-aware + smoothing": {1: 0.01, 8: 0.02}}
    assert module["length_curves"](str(tmp_path), "windowed_")["content-based"] == {8: 0.1875}
    paths = module["length_figure"](str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ["length.png", "length_windowed.png"]


def test_the_findings_state_whether_the_long_utterance_claim_holds():
    from attn_research.sweeps.aggregate import Row, Stat  # pylint: disable=import-outside-toplevel

    findings = load_experiment(PATH).table.findings

    def row(label, short, long, windowed_short=None, windowed_long=None):
        values = {"test/der_train_lengths": short, "test/der_12": long}
        if windowed_short is not None:
            values.update({"test/windowed_der_train_lengths": windowed_short, "test/windowed_der_12": windowed_long})
        return Row(label, {}, 3, 3, {key: Stat(value, 0.01, value, 3) for key, value in values.items()})

    lines = findings(
        [
            row("content-based", 0.02, 0.60, 0.02, 0.50),
            row("location-aware (cumulative)", 0.02, 0.05, 0.02, 0.20),  # greedy: +3 points; windowed: +18
            row("location-aware + smoothing", 0.10, 0.11),  # no windowed metrics: no windowed line
        ]
    )
    assert len(lines) == 3
    assert "greedy decoding, location-aware (cumulative): holds here" in lines[0]
    assert "worse than content-based at 1-4 digits" in lines[1] and "grows" not in lines[1]
    assert "windowed decoding, location-aware (cumulative): does not hold (its DER grows by more than 5" in lines[2]
    assert findings([row("content-based", 0.02, 0.04), row("location-aware (cumulative)", 0.02, 0.03)]) == [
        "The long-utterance claim, greedy decoding, location-aware (cumulative): does not hold (content-based "
        "attention does not fail) here. DER 1-4 2.0 vs content-based 2.0; at 12 digits 3.0 (+1.0 points) vs "
        "content-based 4.0 (+2.0); means over 3 and 3 seeds."
    ]
