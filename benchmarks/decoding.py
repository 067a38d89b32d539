"""Decoding speed, sentences/s, greedy and beam 5: our Multi30k Luong model against OpenNMT-py's onmt_translate.

    python -m benchmarks.decoding [--sentences 500] [--length 30] [--repeats 3] [--peer_venv DIR] [--no_peer]
                                  [--quick]

Nothing is trained: both frameworks decode the first --sentences Multi30k test2016 sources with a model
of configs/multi30k.py:model=luong_general's size, ours freshly initialized, the peer's after one onmt_train
step (onmt_translate needs a checkpoint). Every hypothesis is exactly --length tokens long, so both run
the same number of decoder steps: ours always runs max_len steps; onmt_translate gets min_length =
max_length = --length and no cap from the source length. Batches of 128 sentences (the config's eval batch
size), no length penalty, the 1-best hypothesis. Our time covers the jitted search of every batch (after
one call per batch shape, compilation reported apart) and turning the ids into tokens; the peer's is its
own -report_time measurement (translation only, not start-up or model loading). Runs alternate.
"""

from __future__ import annotations

import tempfile
import time

import jax
import ml_collections

from attn_research.data import make_batches
from attn_research.decoding import beam_search, greedy_decode
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from benchmarks import multi30k, peer_opennmt
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report

COLUMNS = ("framework", "decoding", "run", "sentences_per_s", "seconds")
BEAMS = {"greedy": 1, "beam5": 5}


class OurDecoding:
    """Jitted greedy and beam search over the test batches, compiled for each batch shape."""

    def __init__(self, config: ml_collections.ConfigDict, data, split, length: int):
        self.vocab = data.target_vocab
        self.batches = make_batches(split, config.eval.batch_size, seed=0, epoch=0, shuffle=False)
        self.sentences = len(split)
        self.mesh = make_mesh()
        model, state = multi30k.model_and_state(config, data.source_vocab.size, data.target_vocab.size, self.batches[0])
        self.params = replicate(state.params, self.mesh)
        ids = dict(bos_id=self.vocab.bos_id, eos_id=self.vocab.eos_id)
        self.decode = {
            "greedy": jax.jit(lambda p, s, m: greedy_decode(model, p, s, m, max_len=length, **ids)[0]),
            "beam5": jax.jit(
                lambda p, s, m: beam_search(model, p, s, m, beam_size=5, max_len=length, **ids).tokens[:, 0]
            ),
        }
        one_per_shape = {multi30k.batch_shape(batch): batch for batch in self.batches}.values()
        self.compile_s = {}
        for name in self.decode:  # compilation (and one search per shape) outside the timing
            start = time.perf_counter()
            for batch in one_per_shape:
                self._decode_batch(name, batch)
            self.compile_s[name] = time.perf_counter() - start

    def _decode_batch(self, name: str, batch: dict) -> list[list[str]]:
        inputs = shard_batch({"source": batch["source"], "source_mask": batch["source_mask"]}, self.mesh)
        tokens = jax.device_get(self.decode[name](self.params, inputs["source"], inputs["source_mask"]))
        return [self.vocab.decode(tokens[row]) for row, index in enumerate(batch["index"]) if index >= 0]

    def run(self, name: str) -> dict:
        """Decodes every batch: {"sentences_per_s", "seconds"}."""
        start = time.perf_counter()
        for batch in self.batches:
            self._decode_batch(name, batch)
        seconds = time.perf_counter() - start
        return {"sentences_per_s": self.sentences / seconds, "seconds": seconds}


class PeerDecoding:
    """onmt_translate on the same test sources with a one-step checkpoint of the same model."""

    def __init__(self, venv: str, config: ml_collections.ConfigDict, data, sentences: int, length: int, workdir: str):
        self.venv = peer_opennmt.ensure_venv(venv)
        self.versions = peer_opennmt.versions(self.venv)
        self.options = peer_opennmt.model_options(config.model) + peer_opennmt.training_options(config)
        self.corpus = peer_opennmt.write_corpus(data, workdir, test_sentences=sentences)
        peer_opennmt.build_vocab(self.venv, self.corpus)
        peer_opennmt.train(self.venv, self.corpus, self.options, steps=1, report_every=1)
        self.model = peer_opennmt.checkpoint_path(self.corpus, 1)
        self.output = self.corpus["config"].parent / "hypotheses.txt"
        self.sentences, self.length, self.batch_size = sentences, length, config.eval.batch_size

    def run(self, name: str) -> dict:
        """One onmt_translate call: {"sentences_per_s", "seconds"}. Raises RuntimeError on a wrong output."""
        log = peer_opennmt.translate(
            self.venv,
            self.model,
            self.corpus["test_src"],
            self.output,
            beam_size=BEAMS[name],
            length=self.length,
            batch_size=self.batch_size,
        )
        lines = self.output.read_text(encoding="utf-8").splitlines()
        if len(lines) != self.sentences or any(len(line.split()) != self.length for line in lines):
            raise RuntimeError(
                f"onmt_translate wrote {len(lines)} lines, not {self.sentences} of {self.length} tokens each"
            )
        return peer_opennmt.parse_translate_log(log)


def _speeds(rows: list[dict], framework: str, decoding: str) -> dict:
    return spread([r["sentences_per_s"] for r in rows if r["framework"] == framework and r["decoding"] == decoding])


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--sentences", type=int, default=500, help="test sources decoded (the first n)")
    parser.add_argument("--length", type=int, default=30, help="target tokens per hypothesis")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each framework and search, alternating")
    parser.add_argument(
        "--peer_venv", "--peer-venv", default=str(peer_opennmt.DEFAULT_VENV), help="OpenNMT-py's virtual env"
    )
    parser.add_argument("--no_peer", "--no-peer", action="store_true", help="time ours only")
    args = parser.parse_args()
    if args.quick:
        args.sentences, args.length, args.repeats = 20, 5, 1
    started = time.perf_counter()
    config = multi30k.benchmark_config(args.quick)
    data = multi30k.load(config)
    split = data.splits["test"].select(range(min(args.sentences, len(data.splits["test"]))))
    notes = []
    with tempfile.TemporaryDirectory(prefix="onmt-decode-") as workdir:
        peer = None
        if args.no_peer:
            notes.append("The peer was not run (--no_peer).")
        elif jax.default_backend() != "cpu":
            notes.append("The peer was not run: its virtual environment holds a CPU build of torch.")
        else:
            peer = PeerDecoding(args.peer_venv, config, data, len(split), args.length, workdir)
        ours = OurDecoding(config, data, split, args.length)
        rows = []
        for repeat in range(args.repeats):
            for name in BEAMS:
                rows.append({"framework": "ours", "decoding": name, "run": repeat, **ours.run(name)})
                if peer is not None:
                    rows.append({"framework": "OpenNMT-py", "decoding": name, "run": repeat, **peer.run(name)})
    summary = {}
    for name in BEAMS:  # {"greedy": {"ours": spread, "peer": spread, "ratio": of the medians}, ...}
        summary[name] = {"ours": _speeds(rows, "ours", name)}
        if peer is not None:
            summary[name]["peer"] = _speeds(rows, "OpenNMT-py", name)
            summary[name]["ratio"] = summary[name]["ours"]["median"] / summary[name]["peer"]["median"]
    summary["ours_compile_s"] = {name: round(s, 2) for name, s in ours.compile_s.items()}
    print_table(rows, COLUMNS)
    print(summary)
    settings = {
        "model": "configs/multi30k.py:model=luong_general",
        "sentences": len(split),
        "length": args.length,
        "batch_sentences": config.eval.batch_size,
        "repeats": args.repeats,
        "quick": args.quick,
        "model_dims": config.model.to_dict(),
    }
    if peer is not None:
        settings["peer"] = {"versions": peer.versions, "venv": str(peer.venv)}
    path = write_report(
        "decoding",
        description=(
            "Decoding speed, sentences/s for greedy and beam 5 search with every hypothesis the same length: ours "
            "against OpenNMT-py's onmt_translate on the Multi30k test sources, same model size, untrained."
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


if __name__ == "__main__":
    main()
