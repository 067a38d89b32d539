"""provenance.git_commit: a run's commit is '-dirty' only when code differs, not when a sweep rewrote its tables."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from attn_research.provenance import git_commit

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root, *args):
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def test_dirty_means_code_changed_not_results(tmp_path):
    (tmp_path / "results" / "tables").mkdir(parents=True)
    (tmp_path / "configs").mkdir()
    (tmp_path / "results" / "tables" / "table.md").write_text("| a |\n")
    (tmp_path / "configs" / "recipe.py").write_text("LR = 1e-3\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert git_commit(str(tmp_path)) == head

    (tmp_path / "results" / "tables" / "table.md").write_text("| a | b |\n")  # what a sweep does between runs
    (tmp_path / "results" / "new.json").write_text("{}")
    assert git_commit(str(tmp_path)) == head

    (tmp_path / "configs" / "recipe.py").write_text("LR = 2e-3\n")
    assert git_commit(str(tmp_path)) == head + "-dirty"


def test_outside_git_is_unknown(tmp_path):
    assert git_commit(str(tmp_path)) == "unknown"
