"""Command lines: every override the README documents parses through absl + config_flags and validates;
`attn_research.main` reports bad input as one line `error: ...` with exit status 2, before any work."""

import os
import re
import subprocess
import sys

import pytest
from absl import flags
from ml_collections import config_flags

from attn_research.config_validation import validate_config
from tests.test_configs import all_args, load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
# Keys the README names as settable without giving a value (data folders, W&B).
NAMED = {
    "data.manual_dir": "/tmp/data/scan",
    "data.tfds_dir": "/tmp/tfds",
    "wandb.dir": "/tmp/wandb",
    "wandb.mode": "online",
}


def documented_overrides():
    """(key, value) of every --config.<key>=<value> in the README, and the keys it names without a value."""
    with open(README) as f:
        text = f.read()
    found = dict(re.findall(r"--config\.([A-Za-z_][\w.]*)=([\w./-]+)", text))
    for key in re.findall(r"--config\.([A-Za-z_][\w.]*)(?![\w.=])", text):
        found.setdefault(key, NAMED.get(key) or "/tmp/somewhere")
    for key, value in NAMED.items():
        if value is not None:
            found.setdefault(key, value)
    return sorted(found.items())


def parse(argv):
    """The config that `python -m attn_research.main <argv>` would get (absl parsing, config_flags)."""
    values = flags.FlagValues()
    config_flags.DEFINE_config_file("config", None, "config", flag_values=values, lock_config=True, sys_argv=argv)
    values(argv)
    return values.config


def test_readme_documents_the_data_and_wandb_overrides():
    keys = dict(documented_overrides())
    assert "data.manual_dir" in keys and "model.attention.score" in keys and "train.batch_size" in keys


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # config_flags loads config files with load_module
@pytest.mark.parametrize("key,value", documented_overrides())
def test_documented_override_parses_and_validates(key, value, monkeypatch):
    monkeypatch.chdir(ROOT)
    config = parse(["main", "--config=configs/multi30k.py:model=bahdanau", f"--config.{key}={value}"])
    got = config
    for part in key.split("."):
        got = got[part]
    assert str(got) == value
    validate_config(config)


@pytest.mark.parametrize("name,arg", list(all_args()))
def test_no_config_key_is_none(name, arg):
    """config_flags cannot override a key whose default is an untyped None ("NoneType ... not supported"); a
    typed placeholder (ml_collections placeholder(int): None = the module's default) it can."""

    def nones(config, prefix=""):
        for key, value in config.items():
            if value is None and config.get_type(key) is type(None):
                yield prefix + key
            elif hasattr(value, "items"):
                yield from nones(value, f"{prefix}{key}.")

    assert list(nones(load(name).get_config(arg))) == []


def run_main(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "attn_research.main", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


# Each case is a process (about 8 s, mostly imports). make test runs one per path (config file, flag parser,
# validation); the config argument and a second validation message run in make test-all (the messages
# themselves are checked in-process in test_config_validation.py).
@pytest.mark.parametrize(
    "args,message",
    [
        (["--config=configs/nope.py"], "config file 'configs/nope.py' not found"),
        pytest.param(
            ["--config=configs/synthetic.py:task=revers"], "unknown synthetic task 'revers'", marks=pytest.mark.slow
        ),
        (["--config=configs/synthetic.py", "--config.train.nope=3"], "unknown config key 'train.nope'"),
        (["--config=configs/synthetic.py", "--config.train.batch_size=abc"], "--config.train.batch_size=abc"),
        (
            ["--config=configs/synthetic.py", "--config.model.attention.score=multiplicatve"],
            "Did you mean 'multiplicative'",
        ),
        pytest.param(
            ["--config=configs/synthetic.py", "--config.train.learning_rate=-1"],
            "train.learning_rate must be > 0",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_main_reports_bad_input_in_one_line(tmp_path, args, message):
    workdir = tmp_path / "run"
    result = run_main(*args, f"--workdir={workdir}")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not workdir.exists()  # nothing started


# --- one flag spelling: absl-style underscores (issue 16, item 17) ---------------------------------------


def _help_flags(text):
    return set(re.findall(r"(?<![\w-])--[A-Za-z][\w-]*", text))


def test_sweep_and_bench_flags_use_underscores_and_show_defaults():
    from attn_research import sweep
    from benchmarks import run

    for parser in (sweep.parser(), run.parser()):
        text = parser.format_help()
        assert _help_flags(text) and not [f for f in _help_flags(text) if "-" in f[2:]], text
        assert "(default:" in text
    assert "--export_wandb" in sweep.parser().format_help()
    assert "(default: smoke)" in " ".join(sweep.parser().format_help().split())


def test_old_hyphen_spellings_still_work():
    from attn_research import sweep
    from benchmarks import run

    assert sweep.parser().parse_args(["x.py", "--export-wandb"]).export_wandb
    assert sweep.parser().parse_args(["x.py", "--export_wandb"]).export_wandb
    args = run.parser().parse_args(["--out-dir", "a", "--peer-venv", "b"])
    assert (args.out_dir, args.peer_venv) == ("a", "b")
    assert run.parser().parse_args(["--out_dir", "a"]).out_dir == "a"


def test_sweep_reports_bad_input_in_one_line(tmp_path, capsys):
    from attn_research import sweep

    assert sweep.main([str(tmp_path / "nope.py")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attn-sweep: error: ") and "nope.py" in lines[0]


def test_sweep_export_without_the_sweeps_package_names_the_install_command(tmp_path):
    code = (
        "import sys; sys.modules['sweeps'] = None; from attn_research import sweep; "
        f"raise SystemExit(sweep.main(['experiments/luong2015_table4.py', '--export_wandb', "
        f"'--workdir_root={tmp_path}']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("pip install --no-deps sweeps")
    assert len(result.stderr.strip().splitlines()) == 1


def test_main_reports_a_run_error_in_one_line_with_status_1(tmp_path):
    """training.loop.RUN_ERRORS (here: another process holds the workdir) print one line and exit 1."""
    from attn_research.training.workdir_lock import WorkdirLock

    workdir = tmp_path / "run"
    workdir.mkdir()
    with WorkdirLock(str(workdir)):
        result = run_main("--config=configs/synthetic.py:task=reverse", f"--workdir={workdir}", "--compilation_cache=")
    assert result.returncode == 1, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in result.stderr, result.stderr[-2000:]
