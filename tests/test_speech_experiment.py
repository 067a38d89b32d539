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
