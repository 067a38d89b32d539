"""Captioning with visual attention on Fashion-MNIST canvases: Show, Attend and Tell (attn_research/tasks/captioning).

Paper: K. Xu, J. Ba, R. Kiros, K. Cho, A. Courville, R. Salakhutdinov, R. Zemel and Y. Bengio (2015), "Show, Attend
and Tell: Neural Image Caption Generation with Visual Attention", ICML; sec. 3.1 (CNN annotations, the LSTM decoder,
initial states from the mean annotation, the deep output of eq. 7), 4.1 (hard attention, REINFORCE, eq. 12), 4.2
(soft attention, the gate beta of 4.2.1, the doubly stochastic term of eq. 14).

Data: 64 x 64 canvases of 1-3 real Fashion-MNIST items (28 x 28, no overlap), the caption their class words in
reading order; 20,000 train and 1,000 validation canvases from the training images (disjoint items), 2,000 test
canvases from the t10k images and 2,000 test_long canvases of 4 items (tasks/captioning/data.py).
Model: 3 conv stages (16, 32, 64 channels) -> an 8 x 8 grid, L = 64 annotations of D = 64; LSTM of 128, embedding
and deep output of 64; additive f_att of dim 128 over the 64 regions; gate beta; lambda = 1 (Xu et al.'s value).

Arguments (named; `configs/captioning.py` alone is attention=soft,score=additive):
  attention  soft (sec. 4.2) | hard (sec. 4.1, REINFORCE with the moving-average baseline, entropy bonus 0.01)
             | gumbel (hard, Gumbel straight-through, tau 1) | none (z_t = the mean annotation, no alpha)
  score      f_att: any score of the attention catalogue (additive: Xu et al.'s)
Recipe: Adam 1e-3 (Xu et al. use RMSProp / Adam), batches of 64, clipping at 5, 5 epochs (1,560 updates), validation
every 312 updates, the best-validation (exact match) checkpoint tested.

Sizing (2026-12-02): the 2 CPU cores ran two other sweeps (load average 11-17) and this task's processes ran at
nice 19, about 1% of a core, so wall times mean nothing; CPU time (/proc/<pid>/stat utime + stime) does. The smoke
run below (soft, 512 train canvases, batches of 64, 30 updates) used 62 CPU-seconds in all: 41 to load the data,
compile and make the first 10 updates, 3.9 for updates 10-20 and 4.2 for 20-30 (0.39-0.42 CPU-s per update), 13
for compiling and running the validation, test and test_long evaluations (100 canvases each). Its training loss
(NLL + eq. 14 per token) went 21.72 -> 21.44 -> 20.87 at updates 10 / 20 / 30, ppl 10.6 -> 7.4 -> 6.2 (13 words);
test after 30 updates: exact match 7%, token accuracy 39%, localization accuracy 57%, mass in box 32% (4 items:
exact 0%). The full recipe (1,560 updates) is then about 10-11 CPU-minutes of updates per run plus its
validations: roughly 10-15 minutes a run on 2 free cores (an estimate from these numbers).

Full recipe, measured 2026-12-03 (clean e296feb, one process each, two runs side by side with a test suite on the 2
cores; `python -m attn_research.main --config=configs/captioning.py:attention=soft`): lambda = 1: 18.7 min, test
exact match 35.7%, token accuracy 69.5%, localization accuracy 43.5%, mass in box 29.0% (validation exact match
8.8 / 19.2 / 26.8 / 33.0 / 33.4% at updates 312 .. 1,560: still rising); lambda = 0 (`--config.model.
doubly_stochastic_weight=0`): 17.4 min, test exact match 39.7%, localization accuracy 53.5%, mass in box 43.5%.
With lambda = 1 the penalty (about 58 per canvas: 64 regions, 2-4 steps, so sum_t alpha_ti << 1) is most of the
loss (20.2 of it per token against an NLL of 0.8) and pushes the maps apart. Both runs are far from the issue's
targets (>= 90% exact match and localization). A ceiling to keep in mind: with per-item accuracy p and 1-3 items
(uniform), exact match is at most about (p + p^2 + p^3) / 3, i.e. 86% for p = 0.926 (the best simple CNN of the
Fashion-MNIST benchmark table, published_numbers.md section 11) and 90% only at p = 0.949 (ResNet18 with
augmentation).

    ATTN_RESEARCH_DATA_DIR=/work/shared/data WANDB_MODE=disabled python -m attn_research.main \\
        --config=configs/captioning.py:attention=soft --workdir=workdirs/caption_smoke \\
        --config.data.train_canvases=512 --config.data.validation_canvases=100 --config.data.test_canvases=100 \\
        --config.train.num_steps=30 --config.train.eval_every_steps=30 --config.eval.batch_size=100

    python -m attn_research.main --config=configs/captioning.py:attention=soft --workdir=workdirs/caption_soft
    python -m attn_research.main --config=configs/captioning.py:attention=hard --workdir=workdirs/caption_hard
"""

from attn_research.config_args import parse_config_args
from attn_research.config_defaults import base_config
from attn_research.tasks.captioning import CaptioningTask

ATTENTIONS = ("soft", "hard", "gumbel", "none")
ARGUMENTS = {"attention": "soft", "score": "additive"}
CHOICES = {"attention": ATTENTIONS}


def get_config(arg: str = ""):
    """The experiment for arg = "attention=...,score=..." (module docstring); raises ValueError (one line) for an
    unknown argument or value, listing the valid ones."""
    args = parse_config_args(arg, ARGUMENTS, CHOICES, kind="captioning")
    config = base_config()
    config.task = "captioning"
    sections = CaptioningTask.default_config()
    config.data, config.model = sections.data, sections.model
    config.experiment = "captioning"
    config.model.attention.score = args.score
    if args.attention in ("hard", "gumbel"):
        config.model.attention.family = "hard"
        config.model.attention.estimator = "reinforce" if args.attention == "hard" else "gumbel"
        if args.attention == "hard":
            config.model.attention.entropy_weight = 0.01
    elif args.attention == "none":
        config.model.context = "mean"
    train = config.train
    train.batch_size = 64
    train.num_epochs = 5
    train.learning_rate = 1e-3
    train.clip_norm = 5.0
    train.log_every_steps = 50
    train.eval_every_steps = 312
    train.best_metric = "exact_match"
    train.best_mode = "max"
    config.eval.batch_size = 250
    config.eval.num_heatmaps = 4
    config.name = f"{args.attention}_{args.score}"
    config.wandb.group = "captioning"
    return config
