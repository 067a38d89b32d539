"""Training throughput of Show, Attend and Tell (issue 17) on Fashion-MNIST canvases, in images/s and ms per step.

    python -m benchmarks.captioning_step [--attentions soft,hard,none] [--steps 8] [--rounds 3]
                                         [--data_dir ../shared/data] [--quick]

The model and recipe are configs/captioning.py:attention=<a> (Xu et al. 2015, sec. 3-4): a 3-stage CNN (conv 3x3
of 16, 32, 64 channels + ReLU + 2x2 max-pool) over 64 x 64 canvases -> L = 64 annotations of D = 64; an LSTM of
128 with the beta gate, the deep output of eq. 7, additive f_att of dim 128; the doubly stochastic term (eq. 14,
lambda 1); Adam 1e-3, clipping 5, batches of 64 canvases. `soft`: the expected context (sec. 4.2); `hard`: one
region sampled per word, trained with REINFORCE (sec. 4.1, eq. 12: moving-average baseline, entropy bonus 0.01);
`none`: the mean annotation, no attention. The canvases are real: the train canvases of the task's loader
(tasks/captioning/data.py) from Fashion-MNIST in `<data_dir>/fashion_mnist` (default $ATTN_RESEARCH_DATA_DIR,
else ../shared/data), only as many as --steps batches need (the loader composes each split's canvases by seed;
fewer canvases change which ones, not their size).

Each attention's train state is built as the training loop builds it (build_task, task.train_batches,
make_optimizer, create_train_state, replicate) and stepped by attn_research.training.steps.train_step, each
batch sharded as the loop shards it. The first call compiles (compile_s, one step included, apart from the
timing); then each round runs --steps steps for every attention in turn (rounds interleaved, so a load change
hits all alike). images_per_s = canvases of the round / its seconds (median over the rounds, min and max beside
it); ms_per_step = 1000 / median steps per second.

"The CNN runs once per image": the convolutions (`conv_general_dilated`) of the train step's jaxpr are counted,
every sub-program (jit, scan, while, custom derivatives) included. One CNN pass forward is
n = len(encoder_channels) + grid_layers convolutions; its backward is n kernel gradients and n - 1 input gradients
(the pixels get none), so a step that runs the CNN once has 3n - 1. A convolution inside a scan or while body (the
decoder's loop over words) or any other count raises RuntimeError before anything is timed.

There is no captioning peer installed (OpenNMT-py, the translation peer, has no image encoder), so no ratio.
"""

from __future__ import annotations

import importlib.util
import os
import time

import jax
import ml_collections
from jax.extend import core as jax_core

from attn_research import provenance
from attn_research.data.tfds_io import DATA_DIR_ENV
from attn_research.tasks import build_task
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import count_params, create_train_state
from attn_research.training.steps import train_step
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report

COLUMNS = (
    "attention",
    "images_per_s",
    "images_per_s_min",
    "images_per_s_max",
    "ms_per_step",
    "compile_s",
    "conv_ops",
    "parameters",
)
ATTENTIONS = ("soft", "hard", "none")
CONV = "conv_general_dilated"
LOOPS = ("scan", "while")
QUICK_MODEL = {"encoder_channels": (4, 8, 8), "embed_dim": 8, "hidden": 16}  # --quick: a tiny model, same layers


def recipe_config(attention: str) -> ml_collections.ConfigDict:
    """configs/captioning.py:attention=<attention>, as written (ValueError, one line, for an unknown attention)."""
    path = os.path.join(provenance.REPO_ROOT, "configs", "captioning.py")
    spec = importlib.util.spec_from_file_location("captioning_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(f"attention={attention}")


def fashion_mnist_dir(data_dir: str) -> str:
    """<data_dir>/fashion_mnist; raises FileNotFoundError (one line) if it is not a folder."""
    folder = os.path.join(data_dir, "fashion_mnist")
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Fashion-MNIST not found at {folder}: pass --data_dir (the folder holding fashion_mnist/) or set "
            f"{DATA_DIR_ENV}"
        )
    return folder


def captioning_config(attention: str, manual_dir: str, canvases: int, batch_size: int, quick: bool):
    """configs/captioning.py:attention=<attention> with `canvases` train canvases from Fashion-MNIST in manual_dir
    and one validation and test canvas (no test_long); quick: QUICK_MODEL's sizes and attention dim 16.
    Raises ValueError (one line) for an unknown attention."""
    config = recipe_config(attention)
    config.data.update(
        dict(manual_dir=manual_dir, train_canvases=canvases, validation_canvases=1, test_canvases=1, test_long_items=0)
    )
    config.train.batch_size = batch_size
    if quick:
        config.model.update(QUICK_MODEL)
        config.model.attention.dim = 16
    return config


def conv_census(jaxpr, in_loop: bool = False) -> dict[str, int]:
    """{"total": conv_general_dilated equations of a (closed) jaxpr, every sub-jaxpr included, "in_loop": those
    inside a scan or while body}. A scan body counts once (not `length` times): the census counts programs'
    ops, not their executions."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    census = {"total": 0, "in_loop": 0}
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == CONV:
            census["total"] += 1
            census["in_loop"] += int(in_loop)
        for sub in jax_core.jaxprs_in_params(eqn.params):
            found = conv_census(sub, in_loop or eqn.primitive.name in LOOPS)
            census = {key: census[key] + found[key] for key in census}
    return census


def check_cnn_once(census: dict[str, int], layers: int) -> int:
    """The expected convolutions of a train step that runs an encoder of `layers` conv layers once per image:
    layers forward + layers kernel gradients + (layers - 1) input gradients = 3 layers - 1.

    Raises RuntimeError (one line) if a convolution sits in a scan / while body or the count differs."""
    expected = 3 * layers - 1
    if census["in_loop"]:
        raise RuntimeError(f"{census['in_loop']} convolutions inside a scan / while body: the CNN runs per word")
    if census["total"] != expected:
        raise RuntimeError(
            f"{census['total']} convolutions in the train step, expected {expected} for one pass of {layers} conv "
            "layers (forward + kernel and input gradients)"
        )
    return expected


class CaptionTraining:
    """One attention's train state (as training/loop.py builds it) on the first `steps` batches of epoch 0.

    Raises ValueError (one line) if the data holds fewer than `steps` full batches."""

    def __init__(self, config: ml_collections.ConfigDict, data, steps: int, full_steps_per_epoch: int, mesh):
        self.task, self.mesh, self.seed = build_task(config), mesh, config.seed
        self.model = self.task.build_model(data)
        batches = self.task.train_batches(data, config.train.batch_size, config.seed, 0, fixed_shape=False)
        self.batches = [self.task.step_arrays(b) for b in batches[:steps]]
        if len(self.batches) < steps:
            raise ValueError(f"{len(self.batches)} train batches, {steps} needed: raise data.train_canvases")
        self.tx = make_optimizer(config.train, full_steps_per_epoch)  # the recipe's schedule, as the loop makes it
        self.layers = len(config.model.encoder_channels) + int(config.model.grid_layers)
        self.state, self.parameters = None, None

    def _new_state(self):
        return create_train_state(self.task, self.model, self.tx, self.batches[0], self.seed)

    def conv_census(self) -> dict[str, int]:
        """conv_census of train_step's jaxpr on the first batch, the state's shapes only (nothing compiled or run)."""
        state = jax.eval_shape(self._new_state)
        return conv_census(jax.make_jaxpr(train_step)(state, shard_batch(self.batches[0], self.mesh)))

    def init(self) -> None:
        """Initializes the train state (create_train_state), replicated over the mesh as the loop does."""
        state = self._new_state()
        self.parameters = count_params(state.params)
        self.state = replicate(state, self.mesh)

    def compile(self) -> float:
        """Seconds of the first train_step call (compilation and one step)."""
        start = time.perf_counter()
        self.state, metrics = train_step(self.state, shard_batch(self.batches[0], self.mesh))
        jax.block_until_ready(metrics)
        return time.perf_counter() - start

    def run(self) -> float:
        """Seconds of one pass of train_step over the batches, each sharded as the loop shards it."""
        start = time.perf_counter()
        for batch in self.batches:
            self.state, metrics = train_step(self.state, shard_batch(batch, self.mesh))
        jax.block_until_ready(metrics)
        return time.perf_counter() - start


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--attentions", default=",".join(ATTENTIONS), help=f"comma separated, from {ATTENTIONS}")
    parser.add_argument("--steps", type=int, default=8, help="train steps per round and attention")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=None, help="canvases per batch (None: the config's, 64)")
    parser.add_argument(
        "--data_dir",
        default=os.environ.get(DATA_DIR_ENV) or os.path.join(provenance.REPO_ROOT, "..", "shared", "data"),
        help="the folder holding fashion_mnist/",
    )
    args = parser.parse_args()
    attentions = [a for a in args.attentions.split(",") if a]
    unknown = sorted(set(attentions) - set(ATTENTIONS))
    if unknown or not attentions:
        parser.error(f"unknown attentions {unknown}; valid choices: {', '.join(ATTENTIONS)}")
    if args.quick:
        args.steps, args.rounds, args.batch_size = 2, 1, args.batch_size or 4
    if args.steps < 1 or args.rounds < 1:
        parser.error(f"--steps and --rounds must be >= 1, got {args.steps} and {args.rounds}")
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    folder = fashion_mnist_dir(args.data_dir)
    recipe = recipe_config(attentions[0])
    batch_size = args.batch_size or recipe.train.batch_size
    full_steps_per_epoch = recipe.data.train_canvases // recipe.train.batch_size  # the recipe's epoch
    configs = {a: captioning_config(a, folder, args.steps * batch_size, batch_size, args.quick) for a in attentions}
    mesh = make_mesh()
    data = build_task(configs[attentions[0]]).load_data()  # the same canvases for every attention
    runs = {a: CaptionTraining(configs[a], data, args.steps, full_steps_per_epoch, mesh) for a in attentions}
    censuses = {}
    for attention, run in runs.items():  # before anything is compiled: a CNN run per word fails here
        censuses[attention] = run.conv_census()
        check_cnn_once(censuses[attention], run.layers)
    for run in runs.values():
        run.init()
    compile_s = {a: run.compile() for a, run in runs.items()}
    seconds = {a: [] for a in attentions}
    for _ in range(args.rounds):
        for attention, run in runs.items():
            seconds[attention].append(run.run())
    rows, summary = [], {}
    for attention in attentions:
        rates = [args.steps * batch_size / s for s in seconds[attention]]
        stats = spread(rates)
        step_ms = spread([1e3 * s / args.steps for s in seconds[attention]])
        rows.append(
            {
                "attention": attention,
                "images_per_s": stats["median"],
                "images_per_s_min": stats["min"],
                "images_per_s_max": stats["max"],
                "ms_per_step": 1e3 * batch_size / stats["median"],
                "compile_s": compile_s[attention],
                "conv_ops": censuses[attention]["total"],
                "parameters": runs[attention].parameters,
            }
        )
        summary[f"{attention}_images_per_s"] = stats
        summary[f"{attention}_ms_per_step"] = step_ms
    layers = runs[attentions[0]].layers
    summary["conv_ops_per_step"] = {a: c["total"] for a, c in censuses.items()}
    summary["conv_ops_in_scan_bodies"] = sum(c["in_loop"] for c in censuses.values())
    summary["cnn_once_per_image"] = True  # check_cnn_once raised otherwise
    print_table(rows, COLUMNS)
    model = configs[attentions[0]].model
    path = write_report(
        "captioning_step",
        description=(
            "Training steps of Show, Attend and Tell (configs/captioning.py) on 64 x 64 Fashion-MNIST canvases: "
            "canvases per second and ms per step of train_step for soft attention, hard attention (REINFORCE) and "
            "no attention, with the convolutions of the step's program counted (the CNN once per image)."
        ),
        columns=COLUMNS,
        rows=rows,
        summary=summary,
        out_dir=output_dir(args),
        notes=[
            f"conv_ops: conv_general_dilated equations in the train step's jaxpr, sub-programs included: "
            f"{layers} encoder conv layers forward + {layers} kernel and {layers - 1} input gradients = "
            f"{3 * layers - 1}, none inside the decoder's scan body (checked before timing): the CNN runs once "
            "per image, the decoder reads its annotations.",
            "No captioning peer is installed (OpenNMT-py, the translation peer, has no image encoder): no ratio.",
            "load_average_1min (the machine's, before and after): other processes share the cores; images_per_s "
            "falls as it rises.",
            f"images_per_s: median over {args.rounds} interleaved rounds of {args.steps} steps of {batch_size} "
            "canvases (min and max beside it); compile_s: the first call, one step included, not in the timing.",
        ],
        settings={
            "attentions": attentions,
            "steps": args.steps,
            "rounds": args.rounds,
            "batch_size": batch_size,
            "canvas": f"{data.height}x{data.width}",
            "encoder_conv_layers": layers,
            "conv_ops_expected": 3 * layers - 1,
            "conv_ops": {a: c["total"] for a, c in censuses.items()},
            "model": model.to_dict(),
            "devices": jax.device_count(),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after
            "quick": args.quick,
        },
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
