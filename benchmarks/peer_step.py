"""OpenNMT-py's training step on OUR batches: run by the peer's own Python (benchmarks/peer_opennmt.py), never
imported by ours (it needs torch and OpenNMT-py, and nothing of attn_research or JAX).

    <peer venv>/bin/python benchmarks/peer_step.py --batches FILE [--threads N] -- <onmt_train options>

It builds what onmt_train builds (OpenNMT-py 3.5.1, onmt/bin/train.py and onmt/train_single.py): the options
parsed and validated by onmt_train's own parser, the vocabularies (onmt_build_vocab's files, read as
onmt_train reads them), the model (onmt.model_builder.build_model), the optimizer (Optimizer.from_opt: Adam,
clipping by -max_grad_norm) and the trainer with its loss (onmt.trainer.build_trainer). Each batch of FILE
(JSON: [{"src": [sentence, ...], "tgt": [sentence, ...]}, ...], tokens joined by spaces: exactly the sentences
of our batches) becomes OpenNMT-py tensors through its own numericalize and tensorify (its own padding: to
the longest sentence of the batch), and one optimizer step is the trainer's own
`_gradient_accumulation([batch], normalization, ...)`: forward, generator, loss, backward, clipping, Adam,
normalized by the target tokens as onmt_train's default -normalization tokens does.

Protocol (one line each, on stdout, prefixed with PREFIX): after building and one untimed pass over the
batches (warm-up), {"ready": true, "parameters", "target_tokens" (per pass: targets plus eos), "threads"};
then for each line "run" on stdin one timed pass: {"seconds", "steps", "tokens", "loss" (mean per token of the
pass)}; "quit" or end of input ends the process. OpenNMT-py's own log goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

PREFIX = "PEER_STEP "


def _say(message: dict) -> None:
    print(PREFIX + json.dumps(message), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", required=True, help="JSON file of our batches' sentences")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args, onmt_argv = parser.parse_known_args()
    onmt_argv = [a for a in onmt_argv if a != "--"]

    import torch
    from onmt.bin.train import _get_parser
    from onmt.inputters.text_utils import numericalize, tensorify
    from onmt.model_builder import build_model
    from onmt.train_single import _get_model_opts, _init_train
    from onmt.trainer import build_trainer
    from onmt.utils.logging import init_logger
    from onmt.utils.misc import set_random_seed
    from onmt.utils.optimizers import Optimizer
    from onmt.utils.parse import ArgumentParser
    from onmt.utils.statistics import Statistics

    if args.threads:
        torch.set_num_threads(args.threads)
    opt = _get_parser().parse_args(onmt_argv)
    init_logger(opt.log_file)
    ArgumentParser.validate_train_opts(opt)  # as onmt/bin/train.py's train(opt)
    ArgumentParser.update_model_opts(opt)
    ArgumentParser.validate_model_opts(opt)
    set_random_seed(opt.seed, False)
    checkpoint, vocabs, _ = _init_train(opt)  # as onmt/train_single.py's main(opt, device_id=-1)
    model_opt = _get_model_opts(opt, checkpoint=checkpoint)
    model = build_model(model_opt, opt, vocabs, checkpoint, -1)
    optim = Optimizer.from_opt(model, opt, checkpoint=checkpoint)
    trainer = build_trainer(opt, -1, model, vocabs, optim, model_saver=None)

    with open(args.batches) as f:
        raw = json.load(f)
    batches = []
    for b, batch in enumerate(raw):
        if len(batch["src"]) != len(batch["tgt"]) or not batch["src"]:
            raise ValueError(f"batch {b} of {args.batches} needs as many (>= 1) sources as targets")
        examples = [
            (
                numericalize(
                    vocabs, {"src": {"src": s}, "tgt": {"tgt": t}, "cid": "ours", "cid_line_number": i, "align": None}
                ),
                i,
            )
            for i, (s, t) in enumerate(zip(batch["src"], batch["tgt"]))
        ]
        batches.append(tensorify(vocabs, examples, "cpu"))
    pad = trainer.train_loss.padding_idx
    tokens = [int(batch["tgt"][:, 1:, 0].ne(pad).sum()) for batch in batches]  # targets + eos (no bos)

    def one_pass() -> dict:
        model.train()
        stats = Statistics()
        start = time.perf_counter()
        for batch, count in zip(batches, tokens):
            # onmt_train's -normalization tokens: the batch's target tokens without eos (trainer._accum_batches)
            trainer._gradient_accumulation([batch], count - len(batch["tgt"]), stats, Statistics())
        seconds = time.perf_counter() - start
        return {
            "seconds": seconds,
            "steps": len(batches),
            "tokens": sum(tokens),
            "loss": stats.loss / max(stats.n_words, 1),
        }

    one_pass()
    _say(
        {
            "ready": True,
            "parameters": sum(p.numel() for p in model.parameters()),
            "target_tokens": sum(tokens),
            "threads": torch.get_num_threads(),
        }
    )
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command != "run":
            raise ValueError(f"unknown command {command!r}; valid: run, quit")
        _say(one_pass())


if __name__ == "__main__":
    main()
