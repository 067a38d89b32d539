"""Every config in configs/ builds the same attention as before attention_config took its defaults from the
modules: the files of commit 0ae9e1b on that commit's attention_config (every value written out, heads 1) and
today's files on today's attention_config (typed placeholders, each family's defaults on its module) give the
same attention_settings, hence the same module and the same parameter shapes."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from attn_research.attention import attention_settings
from tests.test_configs import FROZEN, load, positional_forms


def _frozen_defaults():
    spec = importlib.util.spec_from_file_location("frozen_config_defaults", f"{FROZEN}/config_defaults.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,positional,named", list(positional_forms()))
def test_every_config_builds_the_attention_it_built_before(name, positional, named):
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "attn_research.config_defaults", _frozen_defaults())
        before = load(name, FROZEN).get_config(positional).model
    now = load(name).get_config(named).model
    assert (now.get("architecture", "rnn") == "rnn") == (before.get("architecture", "rnn") == "rnn")
    if before.get("architecture", "rnn") != "rnn" or before.get("decoder") in ("none_state", "none_input"):
        return  # no attention config is read
    assert attention_settings(now.attention) == attention_settings(before.attention)
