"""W&B sweep export: the YAML passes the `sweeps` schema, a broken one is refused, and `wandb agent` would run
the same points, under the same names, as a local sweep."""

from __future__ import annotations

import glob
import os

import pytest
import yaml
from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

from attn_research import sweep as cli
from attn_research.sweeps import expand, load_experiment
from attn_research.sweeps.wandb_export import write_wandb_sweeps

sweeps = expand._sweeps()  # wandb's sweep engine (imported there without its warnings)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPERIMENTS = sorted(glob.glob(os.path.join(REPO, "experiments", "*.py")))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=os.path.basename)
def test_exported_yaml_passes_the_schema_and_the_agent_runs_the_local_points(path, tmp_path):
    experiment = load_experiment(path)
    relative = os.path.relpath(path, REPO)
    files = write_wandb_sweeps(experiment, relative, "full", str(tmp_path))
    assert len(files) == len(experiment.blocks_at("full"))
    agent_names = []
    for file in files:
        with open(file) as f:
            config = yaml.safe_load(f)
        sweeps.SweepConfig(config)  # raises jsonschema.ValidationError if the schema is broken
        assert all(name.startswith("config.") for name in config["parameters"])
        assert config["parameters"]["config.seed"] == {"values": list(experiment.scale("full").seeds)}
        assert config["metric"] == {"name": "final/" + experiment.objective.key, "goal": experiment.objective.goal}
        assert config["command"] == [
            "${env}",
            "${interpreter}",
            "-m",
            "attn_research.sweep",
            relative,
            "--scale=full",
            "--wandb_mode=online",
            "${args}",
        ]
        for run in sweeps.next_runs(config, [], validate=True, n=1000):
            if run is None:
                break
            arguments = create_sweep_command_args({"args": run.config})["args"]  # what ${args} becomes
            agent_names.append(expand.run_name(cli.parse_point(arguments)))
    local_names = [expand.run_name(p) for p in expand.points(experiment, "full")]
    assert sorted(agent_names) == sorted(local_names)


@pytest.mark.parametrize(
    "broken, message",
    [
        ({"method": "gird", "parameters": {"config.seed": {"values": [0]}}}, "gird"),
        ({"method": "grid"}, "parameters"),
        ({"method": "random", "parameters": {"config.train.learning_rate": {"min": 0.1, "max": 0.01}}}, "min"),
        ({"method": "grid", "parameters": {"config.seed": {"values": [0]}}, "command": "python train.py"}, "array"),
        ({"method": "bayes", "parameters": {"config.seed": {"values": [0]}}, "metric": {"goal": "maximize"}}, "name"),
    ],
)
def test_a_broken_sweep_config_is_refused(broken, message):
    with pytest.raises(ValueError, match=message):
        expand.check_wandb_config(broken)


def test_parse_point_accepts_only_config_flags():
    assert cli.parse_point(["--config.model.attention.dim=128", "--config.seed=0"]) == {
        "model.attention.dim": "128",
        "seed": "0",
    }
    with pytest.raises(ValueError, match="only --config"):
        cli.parse_point(["--model.attention.dim=128"])
    with pytest.raises(ValueError, match="only --config"):
        cli.parse_point(["--config.seed"])


def test_export_flag_uses_underscores(tmp_path):
    path = os.path.join(REPO, "experiments", "luong2015_table4.py")
    assert cli.main([path, "--scale=full", "--export_wandb", f"--workdir_root={tmp_path}"]) == 0
    assert glob.glob(str(tmp_path / "luong2015_table4" / "full" / "wandb" / "*.yaml"))
