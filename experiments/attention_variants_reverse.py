"""Every attention family of the catalogue on the synthetic reverse task (issue: "every variant trains the
synthetic reverse task to >= 95% sequence accuracy").

The `make train` model (configs/synthetic.py:reverse: bidirectional GRU 128, Bahdanau decoder, attention
dimension 64, 6 epochs) with each attention family in turn; the test sequences here have the training
lengths (3-12 symbols), so the table reads as "does this attention learn the task", not length
generalization. No paper table: there are no published numbers beside ours.

    python -m attn_research.sweep experiments/attention_variants_reverse.py --scale full

full: 15 runs of about 1-2 min each on 2 CPU cores. smoke: three stateful families on the tiny SMOKE task.
"""
from attn_research.sweeps import SMOKE, Block, Experiment, Metric, Scale, Table

# small location filters for sequences of at most 13 tokens (the defaults, 10 x 31, are for speech frames)
LOCATION = {"model.attention.channels": 8, "model.attention.filter_width": 5}
VARIANT_KEYS = ("model.attention.location_source", "model.attention.transition_agent",
                "model.attention.estimator", "model.attention.mode")


def label(point):
    """family, then the variant key that sets it apart, e.g. "location_aware (cumulative)"."""
    family = point["model.attention.family"]
    variants = [str(point[key]) for key in VARIANT_KEYS if key in point and key.split(".")[-1] != "mode"]
    if family == "forward":
        variants = ["transition agent" if point["model.attention.transition_agent"] else "no transition agent"]
    return f"{family} ({', '.join(variants)})" if variants else family


EXPERIMENT = Experiment(
    name="attention_variants_reverse",
    title="Every attention family on the synthetic reverse task (3-12 symbols)",
    config="configs/synthetic.py:reverse",
    overrides={"data.test_min_len": 3, "data.test_max_len": 12},
    blocks=(
        Block({"model.attention.family": ["factored", "coverage"]}, name="content"),
        Block({"model.attention.family": "location_aware",
               "model.attention.location_source": ["previous", "cumulative", "previous_2d", "recurrent"],
               **LOCATION}, name="location"),
        Block({"model.attention.family": "forward", "model.attention.transition_agent": [False, True], **LOCATION},
              name="forward"),
        Block({"model.attention.family": ["multi_head_additive", "multi_head_location"],
               "model.attention.heads": 4, "model.attention.dim": 16, **LOCATION}, name="multi_head"),
        Block({"model.attention.family": ["monotonic", "mocha"], "model.attention.mode": "parallel"},
              name="monotonic"),
        Block({"model.attention.family": "hard", "model.attention.estimator": ["reinforce", "gumbel"]},
              name="hard"),
    ),
    scales={
        "full": Scale("configs/synthetic.py:reverse with each family; 15 runs of about 1-2 min on 2 CPU cores"),
        "smoke": Scale("tiny SMOKE task, 20 steps; three families", overrides=SMOKE,
                       blocks=(Block({"model.attention.family": ["location_aware", "monotonic"], **LOCATION},
                                     name="stateful"),
                               Block({"model.attention.family": "hard", "model.attention.estimator": "reinforce"},
                                     name="hard"))),
    },
    objective=Metric("validation/seq_accuracy", "val seq acc %", scale=100, digits=1),
    table=Table(
        metrics=(Metric("test/seq_accuracy", "test seq acc %", scale=100, digits=1),
                 Metric("test/token_accuracy", "test token acc %", scale=100, digits=1),
                 Metric("validation/seq_accuracy", "val seq acc %", scale=100, digits=1)),
        row_label=label,
        row_title="attention",
        published={},
        source="no paper table: the target is >= 95% test sequence accuracy for every family",
        notes=("Monotonic and MoChA train with the parallel expected alignment and decode with the hard "
               "monotonic process; hard attention samples in training and takes the argmax at evaluation.",),
    ),
)
