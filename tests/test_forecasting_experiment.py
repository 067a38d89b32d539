"""experiments/zeng2023_ett.py: its sweep's shape, its config keys, and its published cells against the
transcription in shared/docs/published_numbers.md (never typed from our own output)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import types

import pytest

from attn_research.sweeps import expand, load_experiment
from attn_research.sweeps.spec import check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(REPO, "experiments", "zeng2023_ett.py")
PUBLISHED = os.path.join(os.path.dirname(REPO), "shared", "docs", "published_numbers.md")


def experiment_module():
    """experiments/zeng2023_ett.py as a module (its findings and published cells)."""
    spec = importlib.util.spec_from_file_location("zeng2023_ett_under_test", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def section_12_mse(data: str, model: str) -> list[str]:
    """The MSE cells (H 96, 192, 336, 720) of `model`'s row in published_numbers.md section 12's table of `data`
    ("ETTh1" | "ETTh2"), as printed."""
    with open(PUBLISHED) as f:
        section = f.read().split("## 12.")[1].split("## 13.")[0]
    table = section[section.index(f"| {data} |") :].split("\n\n")[0]
    row = next(line for line in table.splitlines() if line.startswith(f"| {model} |"))
    return [cell.strip().split("/")[0] for cell in row.split("|")[2:-1]]


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
def test_fedformer_cells_are_section_12s():
    module = experiment_module()
    assert [module.FEDFORMER_ETTH1_MSE[h] for h in module.HORIZONS] == section_12_mse("ETTh1", "FEDformer")


@pytest.mark.skipif(not os.path.isfile(PUBLISHED), reason="shared/docs/published_numbers.md is not beside the repo")
def test_informer_cells_are_section_12s():
    module = experiment_module()
    for data in module.DATASETS:
        expected = section_12_mse(data.replace("etth", "ETTh"), "Informer")
        assert [module.INFORMER_MSE[data][h] for h in module.HORIZONS] == expected, data


def test_findings_are_computed_from_the_rows():
    """Hand-made rows: DLinear at .380 / .405 on ETTh1 H 96 / 192 (published .375 / .405), patch attention at
    .370 (H 96, below FEDformer's .376 and DLinear) and .430 (H 192, above FEDformer's .420 and DLinear), the
    Transformer at .9 (H 96 only); one row short of its seeds."""
    module = experiment_module()
    stat = types.SimpleNamespace

    def row(model, horizon, mse, runs=3, std=0.002):
        point = {"model.name": model, "data.name": "etth1", "data.horizon": horizon}
        if model == "temporal_attention":
            point["data.lookback"] = 96
        label = module.label(point)
        mse = None if mse is None else stat(mean=mse, std=std if runs > 1 else None, n=runs)
        return stat(label=label, point=point, runs=runs, expected=3, stats={"test/mse": mse})

    rows = [
        row("dlinear", 96, 0.380),  # +.005 = +2.5 std
        row("dlinear", 192, 0.405, std=0.004),  # +0 std
        row("patch_attention", 96, 0.370),
        row("patch_attention", 192, 0.430, runs=1),
        row("transformer", 96, 0.9),
        row("temporal_attention", 96, None, runs=0),
    ]
    lines = module.findings(rows)
    assert "H=96 +0.005, H=192 +0.000; within .01 at 2 of 2" in lines[0]
    assert lines[1] == (
        "DLinear's seed spread on ETTh1 (the paper reports one run): our mean minus the paper's in seed standard "
        "deviations H=96 +2.5 (std 0.002, 3 seeds), H=192 +0.0 (std 0.004, 3 seeds); within 2 at 1 of 2."
    )
    assert "H=96 .370 vs .376, H=192 .430 vs .420; at or below it at 1 of 2 horizons" in lines[2]
    assert lines[3].endswith(
        "Informer's published MSE, the era's attention baseline that Zeng et al. beat: ETTh1 H=96 .900 vs .865."
    )
    assert "DLinear has a lower mean test MSE than Transformer in 1 of 1 cells." in lines[4]
    assert "PatchTST/42 has a lower mean test MSE than DLinear in 1 of 2 cells (not in: ETTh1 H=192)" in lines[5]
    assert "no (data, horizon) cell" in lines[6]
    assert lines[7].startswith("Not run yet") and module.RESUME in lines[7]
    assert (
        "5 of 18 runs: PatchTST/42 2 of 6 (partly run: ETTh1, H=192 1/3); temporal attention (L=96) 3 of 3." in lines[7]
    )
    # a scale with DLinear rows only (dlinear_seeds): no claims about models it does not run
    assert [line.split(" ")[0] for line in module.findings(rows[:2])] == ["DLinear", "DLinear's"]


def test_the_tables_markdown_carries_the_findings(experiment):
    from attn_research.sweeps.aggregate import Row  # pylint: disable=import-outside-toplevel
    from attn_research.sweeps.tables import render_markdown  # pylint: disable=import-outside-toplevel

    points = {
        json.dumps(expand.without_seed(p), sort_keys=True): expand.without_seed(p)
        for p in expand.points(experiment, "full")
    }
    rows = [Row(experiment.table.row_label(p), p, 0, 3, {}) for p in points.values()]  # planned, none finished
    text = render_markdown(experiment, "full", rows)
    assert "- Zeng et al.'s claim, DLinear against Transformer: no (data, horizon) cell where both ran yet." in text


def test_findings_read_the_smoke_rows_whose_points_lack_the_data_keys(experiment):
    """The smoke scale sets data.name and data.horizon in its overrides, so its points lack them: the findings
    take the smoke values (a KeyError here once failed the smoke sweep's table)."""
    module = experiment_module()
    stat = types.SimpleNamespace
    rows = [
        stat(
            label=module.label(point),
            point=point,
            runs=1,
            expected=1,
            stats={"test/mse": stat(mean=0.4, std=None, n=1)},
        )
        for point in (expand.without_seed(p) for p in expand.points(experiment, "smoke"))
    ]
    assert all("data.name" not in row.point for row in rows)
    lines = module.findings(rows)
    assert "H=96 +0.025" in lines[0], lines
