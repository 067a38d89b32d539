"""Every config in configs/: named arguments (attn_research/config_args.py), every documented value builds and
validates, unknown names and values are one-line errors, and each config equals the one the positional form
built before the named arguments came (tests/fixtures/configs_positional_0ae9e1b/: those files and the
config_defaults they ran on)."""

import glob
import importlib.util
import itertools
import json
import os
import re
import sys
import warnings

import pytest

from attn_research.attention import build_attention
from attn_research.config_args import named_form, parse_config_args
from attn_research.config_validation import validate_config
from attn_research.models import validate_model_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join(ROOT, "configs")
FROZEN = os.path.join(ROOT, "tests", "fixtures", "configs_positional_0ae9e1b")
NAMES = tuple(sorted(os.path.basename(path)[: -len(".py")] for path in glob.glob(f"{CONFIGS}/*.py")))
BEFORE = ("scan", "multi30k", "synthetic")  # the files whose arguments were positional (frozen in FROZEN)
POSITIONAL_WARNING = "positional config arguments"


def load(name, folder=CONFIGS):
    spec = importlib.util.spec_from_file_location(f"config_{os.path.basename(folder)}_{name}", f"{folder}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def combinations(module):
    """Every combination of the module's argument choices (an argument without choices: its default), as dicts
    in the order of ARGUMENTS."""
    names = list(module.ARGUMENTS)
    for values in itertools.product(*(module.CHOICES.get(name, (module.ARGUMENTS[name],)) for name in names)):
        yield dict(zip(names, values, strict=True))


def all_args():
    """(config file, named argument) for every combination of every config file's documented choices."""
    for name in NAMES:
        yield from ((name, named_form(args)) for args in combinations(load(name)))


def as_json(config):
    """The config's values, types included (5 and 5.0 differ), key order ignored."""
    return json.dumps(config.to_dict(), sort_keys=True)


@pytest.mark.parametrize("name,arg", list(all_args()))
def test_every_documented_choice_builds_and_validates(name, arg):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", POSITIONAL_WARNING, FutureWarning)  # the named form is not deprecated
        config = load(name).get_config(arg)
    validate_config(config)
    if config.get("task", "seq2seq") == "seq2seq":
        validate_model_config(config.model)
        build_attention(config.model.attention)
    assert config.name


@pytest.mark.parametrize("name", NAMES)
def test_the_file_alone_is_the_config_of_every_default(name):
    module = load(name)
    assert as_json(module.get_config()) == as_json(module.get_config(named_form(module.ARGUMENTS)))
    assert set(module.CHOICES) <= set(module.ARGUMENTS)
    assert all(module.ARGUMENTS[key] in module.CHOICES[key] for key in module.CHOICES)


def positional_forms():
    """(config file, today's positional argument, the same choices named) for every argument combination
    today's files accept: each prefix of the positional values (the rest take their defaults)."""
    for name in BEFORE:
        module = load(name, FROZEN)
        if name == "scan":
            lists = (module.SPLITS, module.MODELS, module.RECIPES)
            names = ("split", "model", "recipe")
        elif name == "multi30k":
            lists, names = (module.MODELS, ("bfloat16",)), ("model", "precision")
        else:
            lists, names = (module.TASKS, module.ARCHITECTURES), ("task", "architecture")
        for length in range(1, len(lists) + 1):
            for values in itertools.product(*lists[:length]):
                yield name, ",".join(values), named_form(dict(zip(names, values, strict=False)))


@pytest.fixture
def frozen_defaults(monkeypatch):
    """attn_research.config_defaults as of commit 0ae9e1b, for old and new config files alike: the comparison
    is of what the files set, whatever later changes to the defaults (each default in one place) move."""
    spec = importlib.util.spec_from_file_location("frozen_config_defaults", f"{FROZEN}/config_defaults.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "attn_research.config_defaults", module)


@pytest.mark.parametrize("name,positional,named", list(positional_forms()))
def test_named_config_equals_the_positional_config_before(frozen_defaults, name, positional, named):
    """configs/*.py as of commit 0ae9e1b (positional arguments) against today's files, on the same defaults."""
    before = load(name, FROZEN).get_config(positional)
    assert as_json(load(name).get_config(named)) == as_json(before)
    with pytest.warns(FutureWarning, match=f"write '{re.escape(named)}'"):
        assert as_json(load(name).get_config(positional)) == as_json(before)


@pytest.mark.parametrize("name", BEFORE)
def test_the_default_config_is_the_default_before(frozen_defaults, name):
    assert as_json(load(name).get_config()) == as_json(load(name, FROZEN).get_config())


@pytest.mark.parametrize(
    "name,arg,message",
    [
        ("synthetic", "task=revers", "unknown synthetic task 'revers'; valid choices: copy, reverse, sort. Did you"),
        ("synthetic", "taks=reverse", "unknown synthetic config argument 'taks'; valid choices: architecture, task"),
        ("synthetic", "task=reverse,architecture=transfomer", "valid choices: rnn, transformer. Did you mean"),
        ("multi30k", "model=luong_dott", "unknown Multi30k model 'luong_dott'; valid choices: bahdanau, luong_concat"),
        ("multi30k", "model=bahdanau,precision=float16", "unknown Multi30k precision 'float16'; valid choices: bf"),
        ("scan", "split=simpel", "unknown SCAN split 'simpel'; valid choices: addprim_jump, addprim_turn_left, len"),
        ("scan", "split=simple,model=gru_atention", "Did you mean 'gru_attention'?"),
        ("scan", "split=simple,recipe=papr", "unknown SCAN recipe 'papr'; valid choices: ours, paper."),
        ("scan", "model=gru,split=simple,model=lstm", "gives model twice"),
        ("scan", "simple,top,ours,x", "more than 3 values; names: split, model, recipe"),
        ("scan", "model=gru,simple", "positional value 'simple' after a named one"),
        ("scan", "split=simple,,model=gru", "item 2 has no name"),
    ],
)
def test_unknown_names_and_values_are_one_line_errors(name, arg, message):
    with pytest.raises(ValueError) as error, warnings.catch_warnings():
        warnings.filterwarnings("ignore", POSITIONAL_WARNING, FutureWarning)
        load(name).get_config(arg)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_parse_config_args_types_each_value_by_its_default():
    defaults = {"cell": "gru", "layers": 2, "dropout": 0.5, "bidirectional": False}
    args = parse_config_args("layers=4, dropout=1e-1,bidirectional=True", defaults, {"cell": ("gru", "lstm")})
    assert args.to_dict() == {"cell": "gru", "layers": 4, "dropout": 0.1, "bidirectional": True}
    assert isinstance(args.layers, int) and isinstance(args.dropout, float) and args.bidirectional is True
    assert parse_config_args("", defaults).to_dict() == defaults
    for arg, message in [
        ("layers=2.5", "config argument layers='2.5' must be an integer"),
        ("dropout=high", "config argument dropout='high' must be a number"),
        ("bidirectional=yes", "unknown bidirectional value 'yes'; valid choices: false, true."),
        ("cell=rnn", "unknown cell 'rnn'; valid choices: gru, lstm."),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_config_args(arg, defaults, {"cell": ("gru", "lstm")})


def test_named_form_reads_back():
    args = {"task": "sort", "layers": 3, "rate": 0.25, "flag": True}
    assert named_form(args) == "task=sort,layers=3,rate=0.25,flag=true"
    assert parse_config_args(named_form(args), {"task": "", "layers": 0, "rate": 0.0, "flag": False}).to_dict() == args


# Where a command or an experiment names a config: each must build, in the named form (no FutureWarning).
USERS = ("README.md", "Makefile", "experiments/*.py", "configs/*.py", "benchmarks/*.py", "docs/*.md")
CONFIG_STRING = re.compile(r"configs/(\w+)\.py:([^\s`'\"):]+)")


def config_strings():
    """(file, config file, argument) for every concrete config string in USERS (README's generated parts,
    copied from recorded results, and placeholders such as <split> left out)."""
    for pattern in USERS:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            with open(path) as f:
                text = re.sub(r"<!-- BEGIN (\w+) -->.*?<!-- END \1 -->", "", f.read(), flags=re.S)
            for name, arg in CONFIG_STRING.findall(text):
                if not re.search(r"[<{]", arg):
                    yield os.path.relpath(path, ROOT), name, arg.rstrip(".,;")


def test_every_command_names_its_config_arguments():
    found = list(config_strings())
    assert len({file for file, _, _ in found}) >= 8  # README, Makefile, the experiments, the configs
    for file, name, arg in found:
        assert name in NAMES, f"{file} names configs/{name}.py, which does not exist"
        with warnings.catch_warnings():
            warnings.filterwarnings("error", POSITIONAL_WARNING, FutureWarning)
            try:
                validate_config(load(name).get_config(arg))
            except (ValueError, FutureWarning) as error:
                raise AssertionError(f"{file}: configs/{name}.py:{arg}: {error}") from None


@pytest.mark.parametrize("name", NAMES)
def test_docstring_gives_the_command_and_cites_recorded_results_that_exist(name):
    doc = load(name).__doc__
    assert f"--config=configs/{name}.py:" in doc, f"configs/{name}.py: no command in its docstring"
    cited = re.findall(r"results/[\w./]+\.(?:json|md)", doc)
    if name in BEFORE:  # the files with recorded results
        assert "Expected" in doc and cited, f"configs/{name}.py cites no recorded result"
    for path in cited:
        assert os.path.isfile(os.path.join(ROOT, path)), f"configs/{name}.py cites {path}, which does not exist"
