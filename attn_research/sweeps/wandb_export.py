"""W&B sweep YAML for an experiment, so that `wandb sweep` + `wandb agent` run the same ablation on many
machines.

One YAML per block (W&B sweeps a product of parameters; an experiment's blocks are a union of them):
    name: <experiment>-<scale>[-<block>]; method; metric: final/<objective> (the W&B summary key every run
    writes); parameters: config.<key> as in expand.wandb_parameters, with config.seed;
    command: ${env} ${interpreter} -m attn_research.sweep <experiment file> --scale=<scale>
             --wandb_mode=online ${args}
so each agent run goes through our CLI with --config.<key>=<value> arguments, gets the same run name,
workdir and results file as a local sweep, and logs online to the sweep. Random and bayes sweeps get
run_cap = count x seeds; there W&B draws the seed like any other parameter. Every YAML is checked against
the JSON schema of wandb's `sweeps` package before it is written.
"""

from __future__ import annotations

import os

import yaml

from attn_research.sweeps import expand
from attn_research.sweeps.spec import Experiment


def wandb_sweep_configs(
    experiment: Experiment, experiment_path: str, scale: str, project: str = "attn_research"
) -> dict[str, dict]:
    """sweep name -> W&B sweep config (module docstring), one per block at `scale`.

    experiment_path: the experiment file as the agents will find it (relative to where they start).
    Raises ValueError if a config breaks the W&B schema.
    """
    settings = experiment.scale(scale)
    blocks = experiment.blocks_at(scale)
    configs = {}
    for block in blocks:
        name = f"{experiment.name}-{scale}" + (f"-{block.name}" if len(blocks) > 1 else "")
        config = {
            "name": name,
            "description": experiment.title,
            "project": project,
            "method": experiment.method,
            "metric": {"name": "final/" + experiment.objective.key, "goal": experiment.objective.goal},
            "parameters": expand.wandb_parameters(block, settings.seeds),
            "command": [
                "${env}",
                "${interpreter}",
                "-m",
                "attn_research.sweep",
                experiment_path,
                f"--scale={scale}",
                "--wandb_mode=online",
                "${args}",
            ],
        }
        if experiment.method != "grid":
            config["run_cap"] = settings.count * len(settings.seeds)
        expand.check_wandb_config(config)
        configs[name] = config
    return configs


def write_wandb_sweeps(
    experiment: Experiment, experiment_path: str, scale: str, out_dir: str, project: str = "attn_research"
) -> list[str]:
    """Writes <out_dir>/<sweep name>.yaml for each block; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, config in wandb_sweep_configs(experiment, experiment_path, scale, project).items():
        path = os.path.join(out_dir, f"{name}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f, sort_keys=False, allow_unicode=True)
        paths.append(path)
    return paths
