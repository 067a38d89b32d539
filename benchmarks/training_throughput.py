"""Training throughput of our Multi30k Luong model against OpenNMT-py's, on identical sentences, in target tokens/s.

    python -m benchmarks.training_throughput [--steps 12] [--rounds 5] [--threads 0] [--peer_venv DIR]
                                             [--no_peer] [--peak_size 2048] [--quick]

The model is configs/multi30k.py:model=luong_general, which OpenNMT-py expresses identically: a 2-layer
bidirectional LSTM encoder (256 units per direction, OpenNMT-py `-encoder_type brnn -hidden_size 512`), a
2-layer LSTM decoder of 512 units with input feeding and the general score (`-global_attention general
-input_feed 1`), embeddings 256, dropout 0.5, Adam 1e-3, gradient clipping 1, batches of 128 sentences;
teacher forcing 1 for both (OpenNMT-py has no scheduled sampling).

The protocol (issue 24): both frameworks train on exactly the same sentences, the first --steps batches of
our epoch 0, so both see the same sentence lengths and the same target tokens (checked: the run stops if
the counts differ). Ours pads them to a multiple of 8 (our batching); the peer pads each batch to its longest
sentence (its own tensorify). Ours runs train_step (attn_research.training.steps) twice, in float32 and in
mixed precision (config.model.compute_dtype 'bfloat16', models/precision.py), each compiled for every
padded shape first (compile time reported apart). The peer is OpenNMT-py's own model, optimizer, loss and
training step built as onmt_train builds them (benchmarks/peer_step.py, one long-lived process, after an
untimed warm-up pass; no data-loading workers). Each round times one pass over the batches for each of the
three, one after the other (the others idle); the summary gives each one's spread over the rounds and the
paired ratio ours / peer per round (its median and spread). Target: ours >= 2x the peer with mixed precision.

FLOPs: the matmul FLOPs of a whole training step, counted from its jaxpr with each scan body times its
length (benchmarks/flops.py), summed over the batches' shapes; XLA's cost analysis, which counts a loop body
once, is shown beside it for the most common shape. Throughput in GFLOP/s is set against the measured float32
and bfloat16 matmul peaks ([n, n] @ [n, n], n = --peak_size) of the same run.
"""

from __future__ import annotations

import collections
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import ml_collections

from attn_research.tasks.seq2seq import step_arrays
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.state import count_params
from attn_research.training.steps import train_step
from benchmarks import multi30k, peer_opennmt
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report
from benchmarks.flops import matmul_flops, matmul_peak, xla_flops

COLUMNS = ("framework", "round", "tokens_per_s", "steps", "tokens", "seconds", "gflop_per_s")
OURS = {"float32": "ours f32", "bfloat16": "ours bf16"}
PEER = "OpenNMT-py"
TARGET_RATIO = 2.0


class OurTraining:
    """Our train state (config.model.compute_dtype) on `batches`, compiled for each of their padded shapes."""

    def __init__(self, config: ml_collections.ConfigDict, data, batches: list[dict]):
        self.batches = [step_arrays(b) for b in batches]
        self.tokens = sum(multi30k.target_tokens(b) for b in batches)
        self.mesh = make_mesh()
        _, state = multi30k.model_and_state(config, data.source_vocab.size, data.target_vocab.size, batches[0])
        self.parameters = count_params(state.params)
        self.shapes = collections.Counter(multi30k.batch_shape(b) for b in batches)
        self.examples = {
            shape: next(b for b in self.batches if multi30k.batch_shape(b) == shape) for shape in self.shapes
        }
        self.step_flops = {shape: matmul_flops(train_step, state, batch) for shape, batch in self.examples.items()}
        self.flops = sum(count * self.step_flops[shape] for shape, count in self.shapes.items())
        self.state = replicate(state, self.mesh)
        self.compile_s = {}
        for batch in self.batches:  # one step per shape: compilation (and one step) outside the timing
            shape = multi30k.batch_shape(batch)
            if shape not in self.compile_s:
                start = time.perf_counter()
                self.state, metrics = train_step(self.state, shard_batch(batch, self.mesh))
                jax.block_until_ready(metrics)
                self.compile_s[shape] = time.perf_counter() - start

    def run(self) -> dict:
        """One timed pass over the batches: {"tokens_per_s", "steps", "tokens", "seconds", "gflop_per_s"}."""
        start = time.perf_counter()
        for batch in self.batches:
            self.state, metrics = train_step(self.state, shard_batch(batch, self.mesh))
        jax.block_until_ready((self.state, metrics))
        seconds = time.perf_counter() - start
        return {
            "tokens_per_s": self.tokens / seconds,
            "steps": len(self.batches),
            "tokens": self.tokens,
            "seconds": seconds,
            "gflop_per_s": self.flops / seconds / 1e9,
        }


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--steps", type=int, default=12, help="training batches per timed pass")
    parser.add_argument(
        "--rounds", "--repeats", type=int, default=5, help="timed passes of each framework, interleaved round by round"
    )
    parser.add_argument("--threads", type=int, default=0, help="the peer's torch threads (0: torch's default)")
    parser.add_argument(
        "--peer_venv", "--peer-venv", default=str(peer_opennmt.DEFAULT_VENV), help="OpenNMT-py's virtual environment"
    )
    parser.add_argument("--no_peer", "--no-peer", action="store_true", help="time ours only")
    parser.add_argument("--peak_size", type=int, default=None, help="n of the peaks' [n, n] matmuls")
    args = parser.parse_args()
    if min(args.steps, args.rounds) < 1 or args.threads < 0:
        print(
            f"error: --steps and --rounds must be >= 1 and --threads >= 0, got {args.steps}, {args.rounds} and "
            f"{args.threads}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    peak_size = args.peak_size or (8192 if jax.default_backend() == "gpu" else 2048)
    if args.quick:
        args.steps, args.rounds, peak_size = 2, 2, 256
    started = time.perf_counter()
    config = multi30k.benchmark_config(args.quick)
    data = multi30k.load(config)
    batches = multi30k.train_batches(config, data, args.steps)
    notes = []
    with tempfile.TemporaryDirectory(prefix="onmt-train-") as workdir:
        peer = None
        if args.no_peer:
            notes.append("The peer was not run (--no_peer).")
        elif jax.default_backend() != "cpu":
            notes.append("The peer was not run: its virtual environment holds a CPU build of torch.")
        else:
            peer, peer_settings = _start_peer(args, config, data, batches, workdir)
        try:
            ours = {}
            for dtype in OURS:
                variant = config.copy_and_resolve_references()
                variant.model.compute_dtype = dtype
                ours[dtype] = OurTraining(variant, data, batches)
            if peer is not None and peer.target_tokens != ours["float32"].tokens:
                raise RuntimeError(
                    f"the peer counts {peer.target_tokens} target tokens in our batches, we count "
                    f"{ours['float32'].tokens}: the frameworks would not train on the same sentences"
                )
            peaks = {
                dtype: matmul_peak(peak_size, repeats=5 if args.quick else 10, dtype=jnp.dtype(dtype)) for dtype in OURS
            }
            rows = []
            for round_ in range(args.rounds):
                for dtype, training in ours.items():
                    rows.append({"framework": OURS[dtype], "round": round_, **training.run()})
                if peer is not None:
                    result = peer.run()
                    result["gflop_per_s"] = ours["float32"].flops / result["seconds"] / 1e9
                    rows.append({"framework": PEER, "round": round_, **result})
        finally:
            if peer is not None:
                peer.close()
    summary = _summary(rows, ours, peer, peaks)
    print_table(rows, COLUMNS)
    print(summary)
    notes.append(
        "Both frameworks train on the same sentences (the same target tokens); the peer's GFLOP/s "
        "counts our step's matmul FLOPs (the same model) over its time."
    )
    settings = {
        "model": "configs/multi30k.py:model=luong_general",
        "teacher_forcing_ratio": 1.0,
        "batch_sentences": config.train.batch_size,
        "steps": args.steps,
        "rounds": args.rounds,
        "quick": args.quick,
        "peak_size": peak_size,
        "model_dims": config.model.to_dict(),
        "shapes": {f"{s}x{t}": n for (s, t), n in ours["float32"].shapes.items()},
    }
    if peer is not None:
        settings["peer"] = peer_settings
    path = write_report(
        "training_throughput",
        description=(
            "Training throughput, target tokens/s, on identical sentences: our Multi30k Luong model (bidirectional "
            "LSTM encoder, general score, input feeding) in float32 and mixed precision against OpenNMT-py's own "
            "training step, same batches, dims and optimizer, interleaved rounds."
        ),
        columns=COLUMNS,
        rows=rows,
        settings=settings,
        out_dir=output_dir(args),
        summary=summary,
        notes=notes,
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


def _start_peer(args, config: ml_collections.ConfigDict, data, batches: list[dict], workdir: str):
    """OpenNMT-py (installed on first use) on our tokenized corpus's vocabularies and our batches' sentences."""
    venv = peer_opennmt.ensure_venv(args.peer_venv)
    options = peer_opennmt.model_options(config.model) + peer_opennmt.training_options(config)
    corpus = peer_opennmt.write_corpus(data, workdir, test_sentences=0)
    peer_opennmt.build_vocab(venv, corpus)
    sentences = peer_opennmt.batch_sentences(data.splits["train"], batches)
    peer = peer_opennmt.StepPeer(venv, corpus, options, sentences, threads=args.threads)
    settings = {
        "versions": peer_opennmt.versions(venv),
        "options": options,
        "venv": str(venv),
        "threads": peer.threads,
        "step": "benchmarks/peer_step.py",
    }
    return peer, settings


def paired_ratio(rows: list[dict], ours: str, peer: str) -> dict[str, float]:
    """The spread (common.spread) over the rounds of ours' tokens/s over the peer's in the same round.

    rows: {"framework", "round", "tokens_per_s"} dicts. Raises ValueError if no round has both frameworks.
    """
    speeds = {(row["framework"], row["round"]): row["tokens_per_s"] for row in rows}
    rounds = sorted({r for (_, r) in speeds if (ours, r) in speeds and (peer, r) in speeds})
    if not rounds:
        raise ValueError(f"no round timed both {ours!r} and {peer!r}")
    return spread([speeds[ours, r] / speeds[peer, r] for r in rounds])


def _summary(rows: list[dict], ours: dict[str, OurTraining], peer, peaks: dict) -> dict:
    """Spreads over the rounds, paired ratios, FLOPs (per time step and XLA's count) and shares of the peaks."""

    def column(framework: str, key: str = "tokens_per_s") -> list[float]:
        return [row[key] for row in rows if row["framework"] == framework]

    f32 = ours["float32"]
    shape = f32.shapes.most_common(1)[0][0]
    xla = xla_flops(train_step, jax.device_get(f32.state), f32.examples[shape])  # a scan body counted once
    summary = {
        "tokens_per_pass": f32.tokens,
        "ours_parameters": f32.parameters,
        "gflop_per_pass": f32.flops / 1e9,
        "gflop_per_step": {
            "shape": "{}x{}".format(*shape),
            "per_time_step": f32.step_flops[shape] / 1e9,
            "xla_cost_analysis": None if xla is None else xla / 1e9,
        },
        "peak_gflop_per_s": {dtype: peak["flops_per_s"] / 1e9 for dtype, peak in peaks.items()},
    }
    for dtype, name in OURS.items():
        key = name.replace(" ", "_")
        summary[f"{key}_tokens_per_s"] = spread(column(name))
        gflops = spread(column(name, "gflop_per_s"))
        summary[f"{key}_gflop_per_s"] = gflops
        summary[f"{key}_share_of_{dtype}_peak"] = gflops["median"] / (peaks[dtype]["flops_per_s"] / 1e9)
        summary[f"{key}_compile_s"] = {f"{s}x{t}": round(v, 2) for (s, t), v in ours[dtype].compile_s.items()}
    if peer is not None:
        summary["peer_tokens_per_s"] = spread(column(PEER))
        summary["peer_parameters"] = peer.parameters
        for name in OURS.values():
            summary[f"ratio_{name.replace(' ', '_')}"] = paired_ratio(rows, name, PEER)
        ratio = summary["ratio_ours_bf16"]["median"]
        summary.update({"target_ratio": TARGET_RATIO, "target_met": ratio >= TARGET_RATIO})
    return summary


if __name__ == "__main__":
    main()
