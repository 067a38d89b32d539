"""The README catalogue lists every registered attention part, and the generated sections are current."""

import os

from attn_research import readme
from attn_research.attention import FAMILIES, NORMALIZERS, SCORES, WINDOWS
from attn_research.attention.catalogue import catalogue_entries


def test_every_registered_part_has_exactly_one_row():
    registered = (
        {("score", n) for n in SCORES}
        | {("window", n) for n in WINDOWS}
        | {("normalizer", n) for n in NORMALIZERS}
        | {("family", n) for n in FAMILIES}
    )
    rows = [(e.kind, e.name) for e in catalogue_entries()]
    assert len(rows) == len(set(rows)), "duplicate catalogue rows"
    assert set(rows) == registered


def test_catalogue_rows_have_equation_and_source():
    for entry in catalogue_entries():
        assert entry.equation.strip() and entry.source.strip(), entry
        assert "|" not in entry.equation + entry.source, f"a '|' breaks the markdown table: {entry}"


def test_readme_generated_sections_are_current():
    with open(readme.README) as f:
        text = f.read()
    assert readme.render(text) == text, "README is stale: run `make readme`"
    for entry in catalogue_entries():
        assert f"`{entry.name}`" in text


def test_render_refuses_text_without_markers(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="BEGIN catalogue"):
        readme.render("no sections here")
    assert os.path.exists(readme.README)


def _snapshot(folder: str) -> dict[str, float]:
    return {os.path.join(d, f): os.path.getmtime(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files}


def test_a_make_train_run_writes_only_its_workdir_and_the_readme_stays_current(tmp_path, monkeypatch):
    """`make train` (configs/synthetic.py:task=reverse, default results_dir), shrunk to a few steps, run from the
    repository root into a temporary workdir: results/ is untouched, so the README test cannot depend on it."""
    import importlib.util

    from attn_research.training.loop import train_and_evaluate

    spec = importlib.util.spec_from_file_location(
        "synthetic_config", os.path.join(readme.ROOT, "configs", "synthetic.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config("task=reverse")
    config.model.update(dict(embed_dim=8, encoder_hidden=8, decoder_hidden=8))
    config.model.attention.update(dict(dim=8, qk_dim=8, v_dim=8))
    # lengths that all pad to 8: one compiled shape per program (12 and 16 cost a second train step compile)
    config.data.update(
        dict(num_train=64, num_validation=8, num_test=8, train_max_len=6, test_min_len=3, test_max_len=6)
    )
    config.train.update(dict(num_steps=2, batch_size=32, eval_every_steps=2, log_every_steps=1))
    config.eval.update(dict(batch_size=8, max_decode_len=4, num_heatmaps=0))
    config.wandb.update(dict(mode="disabled"))
    monkeypatch.chdir(readme.ROOT)  # as make runs it: a relative results_dir would land in the tracked tree
    before = _snapshot(os.path.join(readme.ROOT, "results"))
    train_and_evaluate(config, str(tmp_path / "work"))
    assert os.path.isfile(tmp_path / "work" / "results.json")
    assert _snapshot(os.path.join(readme.ROOT, "results")) == before, "the run wrote into results/"
    test_readme_generated_sections_are_current()


def test_a_torn_results_file_is_named_in_the_readme_error(tmp_path):
    import pytest

    from attn_research.jsonio import CorruptJSONError

    path = tmp_path / "synthetic" / "reverse.json"
    path.parent.mkdir()
    path.write_text('{"experiment": "synthetic", "metrics": {"test": {"bl')  # a write cut short
    with pytest.raises(CorruptJSONError, match=str(path)):
        readme.results_markdown(str(tmp_path))
