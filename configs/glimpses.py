"""Hard visual attention with glimpses: the recurrent attention model (RAM) on Fashion-MNIST canvases
(attn_research/tasks/glimpses).

Paper: V. Mnih, N. Heess, A. Graves and K. Kavukcuoglu (2014), "Recurrent Models of Visual Attention", NIPS; sec. 3
(the glimpse sensor, glimpse / core / location / action networks, REINFORCE with a baseline, the hybrid loss of
3.2), 4.1 (centered, translated and cluttered translated MNIST; the FC and conv baselines; random glimpses).

Data: one real Fashion-MNIST item per canvas; variant centered (28 x 28), translated (60 x 60), cluttered (60 x 60 +
4 pieces of 8 x 8 clutter from other images) or cluttered_100 (100 x 100 + 8 pieces); train / validation canvases
from the training images (the last 6,000 for validation), test canvases from the 10,000 t10k images
(tasks/glimpses/data.py).
Model: RAM with glimpses of g = 8 pixels at k = 3 scales (8, 16, 32; the paper's 60 x 60 retina), glimpse network
128 + 128 -> 256, rectifier core of 256, Gaussian location policy with sigma 0.1, learned baseline; or the fully
connected (2 x 256) or convolutional (2 conv layers) classifier.

Arguments (named; `configs/glimpses.py` alone is model=ram,variant=cluttered,glimpses=6):
  model     ram (learned locations) | ram_random (the ablation: random locations) | fc | conv
  variant   centered | translated | cluttered | cluttered_100
  glimpses  N, the glimpses RAM takes before classifying
Recipe: Adam 1e-3, batches of 64, clipping at 5, train.num_steps updates (the experiment's scales set the sizes),
validation every 1,000 updates, the best-validation (accuracy) checkpoint tested.

    ATTN_RESEARCH_DATA_DIR=/work/shared/data WANDB_MODE=disabled python -m attn_research.main \\
        --config=configs/glimpses.py:model=ram,variant=cluttered,glimpses=6 --workdir=workdirs/ram_cluttered

Expected (the full-scale sweep of experiments/mnih2014_ram.py from clean dd803c1): results/tables/mnih2014_ram.md.

Sizing (measured 2026-12-03 on the 2 CPU cores, shared with another engineer's test suite, nice 19, two runs at
a time; cluttered 60 x 60, 20,000 train canvases, 3,000 updates of 64, seed 0 unless said): RAM with 8 glimpses ran
20-50 updates/s, 2.5-3 min a run with loading (about 25 s: data, canvases, compiling) and testing; the conv net 60-98
updates/s. Test error: RAM 8 learned 46.2 / 45.0 / 44.0% at sigma 0.15 / 0.1 / 0.25 (glimpses on the item 34 / 42 /
39%), RAM 8 random glimpses 51.0% (21%), conv 41.8%; Adam 3e-3 instead of 1e-3: 54.6% (sigma 0.15). Two choices
came from shorter runs (5,000 train canvases, 1,500 updates): the location network reads stop_gradient(h_t) (with
the REINFORCE gradient flowing into the core, 77.2% error against 56.8% for random glimpses); the rectifier core,
not the LSTM (12-19 updates/s and 68% error).
"""

from attn_research.config_args import parse_config_args
from attn_research.config_defaults import base_config
from attn_research.tasks.glimpses import GlimpsesTask
from attn_research.tasks.glimpses.data import VARIANTS

MODELS = ("ram", "ram_random", "fc", "conv")
ARGUMENTS = {"model": "ram", "variant": "cluttered", "glimpses": 6}
CHOICES = {"model": MODELS, "variant": tuple(VARIANTS)}


def get_config(arg: str = ""):
    """The experiment for arg = "model=...,variant=...,glimpses=N" (module docstring); raises ValueError (one line)
    for an unknown argument or value, listing the valid ones."""
    args = parse_config_args(arg, ARGUMENTS, CHOICES, kind="glimpses")
    config = base_config()
    config.task = "glimpses"
    sections = GlimpsesTask.default_config()
    config.data, config.model = sections.data, sections.model
    config.experiment = "glimpses"
    config.data.variant = args.variant
    config.model.architecture = "ram" if args.model.startswith("ram") else args.model
    config.model.locations = "random" if args.model == "ram_random" else "learned"
    config.model.glimpses = args.glimpses
    train = config.train
    train.batch_size = 64
    train.num_epochs = 10
    train.learning_rate = 1e-3
    train.clip_norm = 5.0
    train.log_every_steps = 100
    train.eval_every_steps = 1000
    train.best_metric = "accuracy"
    train.best_mode = "max"
    config.eval.batch_size = 500
    config.eval.num_heatmaps = 4
    config.name = f"{args.model}_{args.variant}" + (f"_{args.glimpses}" if args.model.startswith("ram") else "")
    config.wandb.group = "glimpses"
    return config
