"""experiments/zeng2023_ett.py: its sweep's shape, its config keys, and its published cells against the
transcription in shared/docs/published_numbers.md (never typed from our own output)."""

from __future__ import annotations

import os
import re

import pytest

from attn_research.sweeps import expand, load_experiment
from attn_research.sweeps.spec import check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(REPO, "experiments", "zeng2023_ett.py")
PUBLISHED = os.path.join(os.path.dirname(REPO), "shared", "docs", "published_numbers.md")


@pytest.fixture(scope="module")
def experiment():
    return load_experiment(PATH)


def test_the_sweep_covers_models_datasets_horizons_and_three_seeds(experiment):
    check_config_keys(experiment, PATH)
    points = expand.points(experiment, "full")
    rows = {experiment.table.row_label(expand.without_seed(p)) for p in points}
    assert len(rows) == 6 * 2 * 4 and len(points) == 3 * len(rows)  # temporal attention at L 96 and 336
    assert {"DLinear, ETTh2, H=720", "PatchTST/42, ETTh1, H=336", "temporal attention (L=336), ETTh1, H=96"} <= rows
    assert set(experiment.table.published) <= rows
    lookbacks = {
        p["model.name"]: p.get("data.lookback", 336) for p in points if p["model.name"] != "temporal_attention"
    }
    assert lookbacks == {"repeat": 336, "dlinear": 336, "patch_attention": 336, "transformer": 96}
    assert len(expand.points(experiment, "smoke")) <= 4


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
def test_every_published_cell_is_in_section_12_of_the_transcription(experiment):
    """Zeng et al.'s rows are table rows of section 12 ("| DLinear | .375/.399 | ..."); Nie et al.'s are the
    lines "ETTh1 PatchTST/42 (look-back 336) .375/.399, ..." (four MSE/MAE pairs, H 96 to 720)."""
    with open(PUBLISHED) as f:
        text = f.read()
    section = text[text.index("## 12.") : text.index("## 13.")]
    rows = {}
    for data in ("ETTh1", "ETTh2"):
        table = section[section.index(f"| {data} |") :].split("\n\n")[0]
        for line in table.splitlines()[2:]:
            cells = [cell.strip() for cell in line.split("|")[1:-1]]
            rows[(cells[0], data)] = cells[1:]
        patch = next(line for line in section.splitlines() if line.startswith(f"{data} PatchTST/42"))
        rows[("PatchTST/42", data)] = re.findall(r"\d*\.\d+/\d*\.\d+", patch)
    names = {"Repeat": "Repeat (last value)"}
    for label, cells in experiment.table.published.items():
        model, data, horizon = label.split(", ")
        column = ["H=96", "H=192", "H=336", "H=720"].index(horizon)
        assert rows[(names.get(model, model), data)][column] == f"{cells['test/mse']}/{cells['test/mae']}", label
