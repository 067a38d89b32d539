"""The README catalogue lists every registered attention part, and the generated sections are current."""
import os

from attn_research import readme
from attn_research.attention import FAMILIES, NORMALIZERS, SCORES, WINDOWS
from attn_research.attention.catalogue import CATALOGUE


def test_every_registered_part_has_exactly_one_row():
    registered = {("score", n) for n in SCORES} | {("window", n) for n in WINDOWS} | \
        {("normalizer", n) for n in NORMALIZERS} | {("family", n) for n in FAMILIES}
    rows = [(e.kind, e.name) for e in CATALOGUE]
    assert len(rows) == len(set(rows)), "duplicate catalogue rows"
    assert set(rows) == registered


def test_catalogue_rows_have_equation_and_source():
    for entry in CATALOGUE:
        assert entry.equation.strip() and entry.source.strip(), entry
        assert "|" not in entry.equation + entry.source, f"a '|' breaks the markdown table: {entry}"


def test_readme_generated_sections_are_current():
    with open(readme.README) as f:
        text = f.read()
    assert readme.render(text) == text, "README is stale: run `make readme`"
    for _, name in ((e.kind, e.name) for e in CATALOGUE):
        assert f"`{name}`" in text


def test_render_refuses_text_without_markers(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="BEGIN catalogue"):
        readme.render("no sections here")
    assert os.path.exists(readme.README)
