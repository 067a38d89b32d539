"""Training throughput of our Multi30k Luong model against OpenNMT-py's, in target tokens/s, steady state.

    python -m benchmarks.training_throughput [--steps 12] [--repeats 3] [--peer-venv DIR] [--no-peer] [--quick]

The model is configs/multi30k.py:luong_general, which OpenNMT-py expresses identically: a 2-layer
bidirectional LSTM encoder (256 units per direction, OpenNMT-py `-encoder_type brnn -hidden_size 512`), a
2-layer LSTM decoder of 512 units with input feeding and the general score (`-global_attention general
-input_feed 1`), embeddings 256, dropout 0.5, Adam 1e-3, gradient clipping 1, batches of 128 sentences
(`-batch_type sents`); teacher forcing 1 for both (OpenNMT-py has no scheduled sampling). Both read the same
tokenized Multi30k training set with the same vocabularies.

Ours runs train_step (attn_research.training.steps) on the first --steps batches of epoch 0, after one
step on each of their padded shapes (compilation, reported apart). The peer runs onmt_train in a
subprocess for --warmup + --steps steps (rounded up to whole report intervals); its reports after step
--warmup are timed from its log. Runs alternate (ours, peer, ours, peer, ...); the summary gives the
medians and their ratio (target: ours >= 2x). Where our step spends its time: benchmarks.step_profile.
"""
from __future__ import annotations

import os
import tempfile
import time

import jax
import ml_collections

from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.state import count_params
from attn_research.training.steps import model_inputs, train_step
from benchmarks import multi30k, peer_opennmt
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report

COLUMNS = ("framework", "run", "tokens_per_s", "steps", "tokens", "seconds")
TARGET_RATIO = 2.0


class OurTraining:
    """Our train state on the first `steps` batches of epoch 0, compiled for each of their shapes."""

    def __init__(self, config: ml_collections.ConfigDict, data, steps: int):
        self.batches = multi30k.train_batches(config, data, steps)
        self.mesh = make_mesh()
        _, state = multi30k.model_and_state(config, data.source_vocab.size, data.target_vocab.size,
                                            self.batches[0])
        self.parameters = count_params(state.params)
        self.state = replicate(state, self.mesh)
        self.compile_s = {}
        for batch in self.batches:  # one step per shape: compilation (and one step) outside the timing
            shape = multi30k.batch_shape(batch)
            if shape not in self.compile_s:
                start = time.perf_counter()
                self.state, metrics = train_step(self.state, shard_batch(model_inputs(batch), self.mesh))
                jax.block_until_ready(metrics)
                self.compile_s[shape] = time.perf_counter() - start

    def run(self) -> dict:
        """One timed pass over the batches: {"tokens_per_s", "steps", "tokens", "seconds"}."""
        tokens = sum(multi30k.target_tokens(b) for b in self.batches)
        start = time.perf_counter()
        for batch in self.batches:
            self.state, metrics = train_step(self.state, shard_batch(model_inputs(batch), self.mesh))
        jax.block_until_ready((self.state, metrics))
        seconds = time.perf_counter() - start
        return {"tokens_per_s": tokens / seconds, "steps": len(self.batches), "tokens": tokens, "seconds": seconds}


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--steps", type=int, default=12, help="timed training steps per run")
    parser.add_argument("--warmup", type=int, default=4, help="peer steps before the timing (its report interval)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each framework, alternating")
    parser.add_argument("--peer-venv", default=str(peer_opennmt.DEFAULT_VENV), help="OpenNMT-py's virtual env")
    parser.add_argument("--peer-workers", type=int, default=2, help="OpenNMT-py's num_workers (its default, 2)")
    parser.add_argument("--no-peer", action="store_true", help="time ours only")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.warmup, args.repeats = 3, 2, 1
    started = time.perf_counter()
    config = multi30k.benchmark_config(args.quick)
    data = multi30k.load(config)
    notes = []
    with tempfile.TemporaryDirectory(prefix="onmt-train-") as workdir:
        peer = None
        if args.no_peer:
            notes.append("The peer was not run (--no-peer).")
        elif jax.default_backend() != "cpu":
            notes.append("The peer was not run: its virtual environment holds a CPU build of torch.")
        else:
            peer = _Peer(args, config, data, workdir)
            notes.append(f"OpenNMT-py built its batches in {args.peer_workers} worker processes (num_workers).")
        ours = OurTraining(config, data, args.steps)
        rows = []
        for repeat in range(args.repeats):
            rows.append({"framework": "ours", "run": repeat, **ours.run()})
            if peer is not None:
                rows.append({"framework": "OpenNMT-py", "run": repeat, **peer.run()})
    summary = _summary(rows, ours, peer)
    print_table(rows, COLUMNS)
    print(summary)
    settings = {"model": "configs/multi30k.py:luong_general", "teacher_forcing_ratio": 1.0,
                "batch_sentences": config.train.batch_size, "steps": args.steps, "peer_warmup_steps": args.warmup,
                "repeats": args.repeats, "quick": args.quick, "model_dims": config.model.to_dict()}
    if peer is not None:
        settings["peer"] = {"versions": peer.versions, "options": peer.options, "venv": str(peer.venv)}
    path = write_report("training_throughput", description=(
        "Training throughput, target tokens/s in steady state: our Multi30k Luong model (bidirectional LSTM "
        "encoder, general score, input feeding) against OpenNMT-py on the same data, batch and dims."),
        columns=COLUMNS, rows=rows, settings=settings, out_dir=output_dir(args), summary=summary, notes=notes,
        wall_time_s=time.perf_counter() - started)
    print(f"wrote {path}")


class _Peer:
    """OpenNMT-py on our tokenized corpus: installed on first use, one onmt_train subprocess per run."""

    def __init__(self, args, config: ml_collections.ConfigDict, data, workdir: str):
        self.venv = peer_opennmt.ensure_venv(args.peer_venv)
        self.versions = peer_opennmt.versions(self.venv)
        self.options = peer_opennmt.model_options(config.model) + peer_opennmt.training_options(config)
        self.corpus = peer_opennmt.write_corpus(data, workdir, test_sentences=0)
        peer_opennmt.build_vocab(self.venv, self.corpus)
        self.warmup, self.steps, self.workers = args.warmup, args.steps, args.peer_workers
        self.first_report_s, self.parameters = [], None

    def run(self) -> dict:
        steps = self.warmup * (1 + -(-self.steps // self.warmup))  # whole report intervals after the warm-up
        log = peer_opennmt.train(self.venv, self.corpus, self.options, steps=steps, report_every=self.warmup,
                                 workers=self.workers)
        os.remove(peer_opennmt.checkpoint_path(self.corpus, steps))
        result = peer_opennmt.parse_train_log(log, warmup_steps=self.warmup)
        self.first_report_s.append(result.pop("first_report_s"))
        self.parameters = result.pop("parameters")
        return result


def _summary(rows: list[dict], ours: OurTraining, peer: _Peer | None) -> dict:
    def speeds(framework: str) -> dict:
        return spread([row["tokens_per_s"] for row in rows if row["framework"] == framework])

    summary = {"ours_tokens_per_s": speeds("ours"), "ours_parameters": ours.parameters,
               "ours_compile_s": {f"{s}x{t}": round(v, 2) for (s, t), v in ours.compile_s.items()}}
    if peer is not None:
        summary.update({"peer_tokens_per_s": speeds("OpenNMT-py"), "peer_parameters": peer.parameters,
                        "peer_first_report_s": [round(s, 2) for s in peer.first_report_s if s is not None]})
        ratio = summary["ours_tokens_per_s"]["median"] / summary["peer_tokens_per_s"]["median"]
        summary.update({"ratio": ratio, "target_ratio": TARGET_RATIO, "target_met": ratio >= TARGET_RATIO})
    return summary


if __name__ == "__main__":
    main()
