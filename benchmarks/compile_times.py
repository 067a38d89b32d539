"""Compile time to the first training step for each decoder x attention score, without and with the cache.

    python -m benchmarks.compile_times [--decoders bahdanau,luong] [--scores dot,general,...] [--quick]

For every (decoder, score) a fresh Python process builds the Multi30k model and runs two training steps
on a batch of the most common Multi30k shape, with JAX's persistent compilation cache (configured as
attn_research.main configures it) in an empty folder; then a second fresh process does the same with the
same folder. `cold_s` / `warm_s`: the time from building the model to the end of the first step (init and
train-step compilation included; Python imports not); `step_s`: the second step, compiled. The cache
counters come from jax.monitoring: `cold_written` programs went into the cache, the warm process
found `warm_hits` of them and compiled `warm_compiled` programs anew (those that compile faster than
the cache's 0.5 s threshold are never stored, by design), so a sweep never recompiles a costly program
it has compiled before. Models: configs/multi30k.py's bahdanau (GRU) and luong_general (LSTM, input
feeding), both with a 512-unit annotation (encoder 2 x 256) so that every score fits both decoders.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

import numpy as np

from attn_research.attention.registry import SCORES
from attn_research.validation import check_choice
from benchmarks import multi30k
from benchmarks.common import benchmark_arguments, output_dir, print_table, write_report

COLUMNS = ("decoder", "score", "cold_s", "warm_s", "speedup", "step_s", "cold_written", "warm_hits", "warm_compiled")
DECODER_CONFIGS = {"bahdanau": "model=bahdanau", "luong": "model=luong_general"}
QUICK_SCORE = "general"  # --quick: Luong's general score on the last decoder only


def decoder_config(decoder: str, score: str, quick: bool):
    """configs/multi30k.py's model for `decoder` with attention `score`; encoder 2 x 256 = decoder 512 units.

    quick: embeddings 32, encoder 2 x 32, decoder 64, batch 16 (the program's structure stays the same).
    """
    config = multi30k.get_config(DECODER_CONFIGS[decoder])
    config.model.encoder_hidden = config.model.decoder_hidden // 2
    config.model.attention.score = score
    if quick:
        config.model.update(dict(embed_dim=32, encoder_hidden=32, decoder_hidden=64))
        config.model.attention.dim = 64
        config.train.batch_size = 16
    return config


def child(args) -> dict:
    """In a fresh process: the timings and cache counters of one (decoder, score) (see the module docstring)."""
    from attn_research.main import enable_compilation_cache

    enable_compilation_cache(args.cache_dir)
    import jax

    from attn_research.tasks.seq2seq import step_arrays
    from attn_research.training.steps import train_step

    counts = {"requests": 0, "hits": 0, "written": 0}
    names = {
        "/jax/compilation_cache/compile_requests_use_cache": "requests",
        "/jax/compilation_cache/cache_hits": "hits",
        "/jax/compilation_cache/cache_misses": "written",
    }

    def listen(event: str, **kwargs) -> None:
        if event in names:
            counts[names[event]] += 1

    jax.monitoring.register_event_listener(listen)
    config = decoder_config(args.decoder, args.score, args.quick)
    batch = synthetic_batch(config.train.batch_size, args.src_len, args.tgt_len, args.source_vocab, args.target_vocab)
    start = time.perf_counter()
    _, state = multi30k.model_and_state(config, args.source_vocab, args.target_vocab, batch)
    state, metrics = train_step(state, step_arrays(batch))
    jax.block_until_ready(metrics)
    first = time.perf_counter() - start
    start = time.perf_counter()
    state, metrics = train_step(state, step_arrays(batch))
    jax.block_until_ready(metrics)
    return {"to_first_step_s": first, "step_s": time.perf_counter() - start, **counts}


def synthetic_batch(batch: int, src_len: int, tgt_len: int, source_vocab: int, target_vocab: int) -> dict:
    """A full batch of random token ids (ids >= 4, past the special tokens) of the given shape."""
    rng = np.random.default_rng(0)
    return {
        "source": rng.integers(4, source_vocab, (batch, src_len), dtype=np.int32),
        "source_mask": np.ones((batch, src_len), bool),
        "target_input": rng.integers(4, target_vocab, (batch, tgt_len), dtype=np.int32),
        "target_output": rng.integers(4, target_vocab, (batch, tgt_len), dtype=np.int32),
        "target_mask": np.ones((batch, tgt_len), bool),
    }


def run_child(decoder: str, score: str, cache_dir: str, shape: dict, quick: bool) -> dict:
    """One fresh process of `child`; raises RuntimeError with its output if it fails."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.compile_times",
        "--child",
        "--decoder",
        decoder,
        "--score",
        score,
        "--cache-dir",
        cache_dir,
        *(f"--{k.replace('_', '-')}={v}" for k, v in shape.items()),
    ]
    result = subprocess.run(command + (["--quick"] if quick else []), capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--decoders", default=",".join(DECODER_CONFIGS), help="comma separated")
    parser.add_argument(
        "--scores", default=",".join(SCORES.names()), help="comma separated; default: every registered score"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("decoder", "score", "cache-dir"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    for name in ("src-len", "tgt-len", "source-vocab", "target-vocab"):
        parser.add_argument(f"--{name}", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    decoders = args.decoders.split(",")
    scores = args.scores.split(",")
    if args.quick:
        decoders, scores = decoders[-1:], [QUICK_SCORE]
    for decoder in decoders:
        check_choice("decoder", decoder, DECODER_CONFIGS)
    for score in scores:
        check_choice("attention score", score, SCORES.names())
    started = time.perf_counter()
    config = multi30k.benchmark_config(args.quick)
    data = multi30k.load(config)
    src_len, tgt_len = multi30k.most_common_shape(multi30k.train_batches(config, data, 100))
    shape = {
        "src_len": src_len,
        "tgt_len": tgt_len,
        "source_vocab": data.source_vocab.size,
        "target_vocab": data.target_vocab.size,
    }
    rows = []
    for decoder in decoders:
        for score in scores:
            with tempfile.TemporaryDirectory(prefix="jax-cache-") as cache_dir:
                cold = run_child(decoder, score, cache_dir, shape, args.quick)
                warm = run_child(decoder, score, cache_dir, shape, args.quick)
            cold_s, warm_s = cold["to_first_step_s"], warm["to_first_step_s"]
            rows.append(
                {
                    "decoder": decoder,
                    "score": score,
                    "cold_s": cold_s,
                    "warm_s": warm_s,
                    "speedup": cold_s / warm_s,
                    "step_s": warm["step_s"],
                    "cold_written": cold["written"],
                    "warm_hits": warm["hits"],
                    "warm_compiled": warm["requests"] - warm["hits"],
                    "warm_written": warm["written"],
                }
            )
            print(rows[-1], flush=True)
    print_table(rows, COLUMNS)
    summary = {
        "cold_s_total": sum(r["cold_s"] for r in rows),
        "warm_s_total": sum(r["warm_s"] for r in rows),
        "cold_s_max": max(r["cold_s"] for r in rows),
        "warm_written_total": sum(r["warm_written"] for r in rows),
    }
    path = write_report(
        "compile_times",
        description=(
            "Compile time to the first training step of each decoder x score, in a fresh process with an empty "
            "persistent compilation cache (cold) and again in a fresh process with the filled cache (warm)."
        ),
        columns=COLUMNS,
        rows=rows,
        out_dir=output_dir(args),
        summary=summary,
        notes=[
            "Programs that compile in under 0.5 s are not written to the persistent cache (the threshold "
            "attn_research.main sets), so every process compiles them anew (warm_compiled); warm_written counts "
            "programs whose compile time crossed the threshold only in the warm process."
        ],
        settings={"batch": config.train.batch_size, **shape, "quick": args.quick},
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
