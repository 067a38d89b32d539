"""Captioning with visual attention on Fashion-MNIST canvases: Show, Attend and Tell (attn_research/tasks/captioning).

Paper: K. Xu, J. Ba, R. Kiros, K. Cho, A. Courville, R. Salakhutdinov, R. Zemel and Y. Bengio (2015), "Show, Attend
and Tell: Neural Image Caption Generation with Visual Attention", ICML; sec. 3.1 (CNN annotations, the LSTM decoder,
initial states from the mean annotation, the deep output of eq. 7), 4.1 (hard attention, REINFORCE, eq. 12), 4.2
(soft attention, the gate beta of 4.2.1, the doubly stochastic term of eq. 14).

Data: 64 x 64 canvases of 1-3 real Fashion-MNIST items (28 x 28, no overlap), the caption their class words in
reading order; 20,000 train and 1,000 validation canvases from the training images (disjoint items), 2,000 test
canvases from the t10k images and 2,000 test_long canvases of 4 items (tasks/captioning/data.py).
Model: 3 conv stages (16, 32, 64 channels) -> an 8 x 8 grid, one more conv 3x3 on the grid (model.grid_layers: each
region then sees 38 x 38 pixels, a whole item), L = 64 annotations of D = 64 + 2 (each region's
(row, column) centre: model.coordinates, CoordConv; tasks/captioning/model.py says why); LSTM of 128, embedding and
deep output of 64; additive f_att of dim 128 over the 64 regions; gate beta; lambda = 1 (Xu et al.'s value).

Arguments (named; `configs/captioning.py` alone is attention=soft,score=additive):
  attention  soft (sec. 4.2) | hard (sec. 4.1, REINFORCE with the moving-average baseline, entropy bonus 0.01)
             | gumbel (hard, Gumbel straight-through, tau 1) | none (z_t = the mean annotation, no alpha)
  score      f_att: any score of the attention catalogue (additive: Xu et al.'s)
Recipe: Adam 1e-3 (Xu et al. use RMSProp / Adam), batches of 64, clipping at 5, 15 epochs (4,680 updates), validation
every 936 updates (3 epochs), the best-validation (exact match) checkpoint tested.

Sizing (2026-12-02, smoke run below, in CPU time: the cores were busy): 0.39-0.42 CPU-seconds per update of 64
canvases, about 40 CPU-seconds to load the data and compile.

Measured (soft, lambda = 1, seed 0; one process beside another training run on the 2 cores; `python -m
attn_research.main --config=configs/captioning.py:attention=soft`, exploratory workdirs, not in results/):
  without region coordinates, 5 epochs (clean e296feb, 18.7 min): test exact match 35.7%, token accuracy 69.5%,
    localization 43.5%, mass in box 29.0% (lambda = 0: 39.7 / 53.5 / 43.5%). The maps sat on background and on
    the wrong item: nothing in a convolution feature says where its region is, so "the leftmost item first" was
    not learnable.
  with region coordinates, no grid layer, 5 epochs (34.8 min): test exact match 49.2%, token accuracy 78.3%,
    localization 88.6%, mass in box 61.6%;
  with region coordinates, no grid layer, 15 epochs (77.7 min beside the other run): validation exact match 37.5 /
    51.6 / 60.4 / 63.8 / 66.6% at updates 936 .. 4,680 (localization 79.3 / 88.2 / 83.0 / 88.4 / 91.1%); test
    exact match 67.9%, token accuracy 87.6%, BLEU-4 72.9, localization 90.9%, mass in box 65.5%; 4 items: exact
    match 14.6%, localization 86.5%.
  the same with one grid layer (this recipe; model.grid_layers=1, the code of 764eff9; 76.5 min beside three other
    runs): validation exact match 47.5 / 59.3 / 67.4 / 72.6 / 73.7% at the same updates (localization 86.5 / 88.6
    / 87.8 / 89.6 / 89.4%); test exact match 72.8%, token accuracy 89.7%, BLEU-4 76.8, localization 91.0%, mass in
    box 54.5%; 4 items: exact match 42.2%, localization 82.0%. Without the layer a region sees 22 x 22 pixels, part
    of an item, and the decoder has to recognize the item from an alignment-weighted mix of partial views.
  no grid layer, 60,000 train canvases for 5 epochs (the same 4,685 updates, three times the distinct canvases;
    74.5 min beside three other runs): validation exact match 37.2 / 52.3 / 60.2 / 64.6 / 70.5% at updates 936 ..
    4,680, level with 20,000 canvases until the last; localization 79.4 / 89.3 / 93.3 / 93.4 / 91.9%; test exact
    match 71.3%, token accuracy 89.0%, localization 92.8%; 4 items: exact match 7.5%. Less than the grid layer
    gives, and worse on 4 items; the two together are not measured yet.
So localization meets the issue's >= 90%; exact match does not, and recognition, not attention, is what is left:
with per-item accuracy p and 1-3 items (uniform), exact match is about (p + p^2 + p^3) / 3, so 72.8% means p of
about 0.85, and >= 90% needs p = 0.949 (ResNet18 with augmentation in the Fashion-MNIST benchmark table,
published_numbers.md section 11; its best simple CNN, p = 0.926, would give 86%). A wider encoder, VGG-style two
convolutions a stage at (32, 64, 128) channels, ran 6.5 times slower per update (0.12 against 0.8 updates/s side by
side) and was stopped; the grid layer adds a quarter to the CNN's multiply-adds (2.4 M to 10.0 M a canvas).

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
    train.num_epochs = 15
    train.learning_rate = 1e-3
    train.clip_norm = 5.0
    train.log_every_steps = 50
    train.eval_every_steps = 936
    train.best_metric = "exact_match"
    train.best_mode = "max"
    config.eval.batch_size = 250
    config.eval.num_heatmaps = 4
    config.name = f"{args.attention}_{args.score}"
    config.wandb.group = "captioning"
    return config
