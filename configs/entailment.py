"""Entailment on SICK: the models of Rocktäschel et al. (2016), sec. 2, and an attentive BiLSTM classifier.

Paper: T. Rocktäschel, E. Grefenstette, K. M. Hermann, T. Kočiský and P. Blunsom (2016), "Reasoning about
Entailment with Neural Attention", ICLR; sec. 2.2 (conditional encoding), 2.3 (attention, eqs. 7-10), 2.4
(word-by-word attention, eqs. 11-14; two-way attention), 2.5 and 3 (training). Data: SICK (Marelli et al.
2014), SemEval-2014 task 1: 4,439 training, 495 validation (TRIAL) and 4,906 test pairs, three classes.

Arguments (named; each has a default, so `configs/entailment.py` alone is model=word_by_word,data=sick):
  model  conditional | attention | word_by_word | attention_two_way | word_by_word_two_way:
         Rocktäschel et al.'s models, k = 100 (the paper's SNLI size), separate premise and hypothesis LSTMs;
         attentive_classifier: a BiLSTM of 2 x 100 over "premise </s> hypothesis", attention pooling with a
         learned query (Yang et al. 2016; Lin et al. 2017)
  data   sick: SICK.txt from $ATTN_RESEARCH_DATA_DIR/sick (or --config.data.manual_dir);
         synthetic: a generated check set (tasks/entailment/data.py), no files needed
Every model: learned 100-d word embeddings (the paper used fixed word2vec vectors, not available offline),
lowercased Moses tokens, vocabulary of the training split; the catalogue's additive score with dimension k
(the paper's eqs. 7-8 and 11-12), softmax; dropout 0.1 on the embeddings and on h*.
Recipe: Adam 1e-3, batches of 32, gradient clipping at 5, 20 epochs (2,760 updates), validation accuracy
every 276 updates, the best-validation checkpoint tested.

Size on 2 shared CPU cores (timed 2026-12-02, word_by_word, the slowest): see experiments/rocktaschel2016_sick.py.

    python -m attn_research.main --config=configs/entailment.py:model=word_by_word --workdir=workdirs/sick_wbw
    python -m attn_research.main --config=configs/entailment.py:model=conditional --workdir=workdirs/sick_ce
"""

from attn_research.config_args import parse_config_args
from attn_research.config_defaults import attention_config, base_config
from attn_research.tasks.entailment.data import DATA_NAMES
from attn_research.tasks.entailment.models import ARCHITECTURES
from attn_research.tasks.entailment.task import EntailmentTask

ARGUMENTS = {"model": "word_by_word", "data": "sick"}
CHOICES = {"model": ARCHITECTURES, "data": DATA_NAMES}
HIDDEN = 100  # k, Rocktäschel et al. (2016), Table 1


def recipe(train):
    """Adam 1e-3, batches of 32, clipping at 5, 20 epochs; validation every 276 updates (2 epochs)."""
    train.batch_size = 32
    train.num_epochs = 20
    train.learning_rate = 1e-3
    train.schedule = "constant"
    train.clip_norm = 5.0
    train.log_every_steps = 50
    train.eval_every_steps = 276
    train.best_metric = "accuracy"
    train.best_mode = "max"


def get_config(arg: str = ""):
    """The SICK experiment for arg = "model=...,data=..." (module docstring); raises ValueError (one line) for
    an unknown argument or value, listing the valid ones."""
    args = parse_config_args(arg, ARGUMENTS, CHOICES, kind="entailment")
    config = base_config()
    config.task = "entailment"
    config.experiment = "sick"
    config.name = args.model if args.data == "sick" else f"{args.data}_{args.model}"
    defaults = EntailmentTask.default_config()
    config.data = defaults.data
    config.data.name = args.data
    config.model = defaults.model
    config.model.architecture = args.model
    config.model.embed_dim = HIDDEN
    config.model.hidden = HIDDEN
    config.model.attention = attention_config("additive", dim=HIDDEN)
    recipe(config.train)
    config.eval.batch_size = 256
    config.eval.num_heatmaps = 4
    config.wandb.group = "sick"
    return config
