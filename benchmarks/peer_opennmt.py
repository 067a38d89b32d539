"""The peer: OpenNMT-py 3.5.1 (Klein et al. 2017), run from its own virtual environment, never a dependency.

The venv lives at DEFAULT_VENV (~/.cache/attn_research/onmt-venv; --peer-venv overrides) and is created on
first use: torch 2.13.0 first (a CPU wheel where one lies on disk; a plain `pip install torch` pulls
several GB of CUDA packages), then OpenNMT-py with --no-deps, as its pin torch<2.3 conflicts, then its
other runtime dependencies with "numpy<2". torch >= 2.6 loads checkpoints with weights_only=True, which
OpenNMT-py 3.5.1 predates; onmt_translate runs with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 on the checkpoint
that onmt_train wrote a moment before in the same benchmark.

Both frameworks get the same data: our Moses-tokenized, lowercased Multi30k sentences written one per
line (tokens joined by spaces), and vocabularies built by onmt_build_vocab with our min_freq, which gives
exactly our vocabulary sizes. `model_options` maps our config to the same model; it raises ValueError for
a config OpenNMT-py cannot express identically. Training is timed through `StepPeer` (benchmarks/peer_step.py:
OpenNMT-py's own model, optimizer and step, built as onmt_train builds them, on exactly our batches'
sentences); decoding through onmt_train's checkpoint and onmt_translate.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import ml_collections

from attn_research.data import TranslationData

DEFAULT_VENV = Path("~/.cache/attn_research/onmt-venv").expanduser()
STEP_SCRIPT = Path(__file__).resolve().parent / "peer_step.py"  # run by the peer's Python (StepPeer)
ONMT_VERSION = "3.5.1"
TORCH_VERSION = "2.13.0"
# OpenNMT-py 3.5.1's requirements without torch (it imports every transform, so spacy & co. are needed).
RUNTIME_DEPENDENCIES = (
    "numpy<2",
    "configargparse",
    "ctranslate2>=4,<5",
    "tensorboard>=2.3",
    "flask",
    "waitress",
    "pyonmttok>=1.37,<2",
    "pyyaml",
    "sacrebleu",
    "rapidfuzz",
    "pyahocorasick",
    "fasttext-wheel",
    "spacy",
    "six",
)
ATTENTION = {"dot": "dot", "general": "general", "concat": "mlp"}  # our score -> OpenNMT-py's global_attention
CELLS = {"lstm": "LSTM", "gru": "GRU"}
NEVER = "1000000"  # a step count the runs never reach (validation, checkpoints)


def ensure_venv(venv: Path = DEFAULT_VENV) -> Path:
    """The peer's venv, created and installed (see the module docstring) when onmt_train is missing.

    Raises RuntimeError if an install step fails or the installed onmt_train does not start.
    """
    venv = Path(venv).expanduser()
    if _installed(venv):
        return venv
    print(f"installing OpenNMT-py {ONMT_VERSION} into {venv} (first use)", flush=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, f"torch=={TORCH_VERSION}"],
        [*pip, "--no-deps", f"OpenNMT-py=={ONMT_VERSION}"],
        [*pip, *RUNTIME_DEPENDENCIES],
    ]
    for command in steps:
        if subprocess.run(command).returncode:
            raise RuntimeError(f"installing the peer failed at: {' '.join(command)}")
    if not _installed(venv):
        raise RuntimeError(f"OpenNMT-py installed into {venv}, but `onmt_train -h` does not run")
    return venv


def _installed(venv: Path) -> bool:
    tools = [venv / "bin" / name for name in ("onmt_train", "onmt_translate", "onmt_build_vocab")]
    if not all(tool.exists() for tool in tools):
        return False
    return subprocess.run([str(tools[0]), "-h"], capture_output=True).returncode == 0


def versions(venv: Path) -> dict[str, str]:
    """The peer's torch, OpenNMT-py and numpy versions."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({p: m.version(p) for p in ('torch', 'OpenNMT-py', 'numpy')}))"
    )
    out = subprocess.run([str(Path(venv) / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def model_options(model: ml_collections.ConfigDict) -> list[str]:
    """onmt_train options for the model of config.model: a bidirectional RNN encoder ('brnn') and a Luong
    decoder (input feeding, global attention with our score).

    OpenNMT-py's brnn splits hidden_size over the two directions and hands the encoder's final states to
    the decoder unchanged, which our bridge 'last' does when 2 * encoder_hidden == decoder_hidden.
    Raises ValueError naming the first setting OpenNMT-py cannot express the same way.
    """
    attention = model.attention
    required = {
        "architecture 'rnn'": model.get("architecture", "rnn") == "rnn",
        "decoder 'luong'": model.decoder == "luong",
        "a bidirectional encoder": bool(model.bidirectional),
        "bridge 'last'": model.bridge == "last",
        "2 * encoder_hidden == decoder_hidden": 2 * model.encoder_hidden == model.decoder_hidden,
        f"cell in {sorted(CELLS)}": model.cell in CELLS,
        f"score in {sorted(ATTENTION)}": attention.score in ATTENTION,
        "window 'global'": attention.get("window", "global") == "global",
        "normalizer 'softmax'": attention.get("normalizer", "softmax") == "softmax",
        "teacher_forcing_ratio 1": float(model.teacher_forcing_ratio) == 1.0,
        "maxout off": not model.get("maxout", False),
    }
    for name, ok in required.items():
        if not ok:
            raise ValueError(f"OpenNMT-py cannot run this model the same way: it needs {name}")
    return [
        "-encoder_type",
        "brnn",
        "-decoder_type",
        "rnn",
        "-rnn_type",
        CELLS[model.cell],
        "-enc_layers",
        str(model.encoder_layers),
        "-dec_layers",
        str(model.decoder_layers),
        "-hidden_size",
        str(model.decoder_hidden),
        "-word_vec_size",
        str(model.embed_dim),
        "-global_attention",
        ATTENTION[attention.score],
        "-input_feed",
        str(int(model.input_feeding)),
        "-dropout",
        str(model.dropout),
    ]


def training_options(config: ml_collections.ConfigDict) -> list[str]:
    """onmt_train options for config.train and config.data: sentence batches, Adam, clipping, min_freq.

    Raises ValueError for an optimizer other than Adam, a schedule other than constant, or label smoothing.
    """
    train = config.train
    if train.optimizer != "adam" or train.schedule != "constant" or train.get("label_smoothing", 0.0):
        raise ValueError("the peer runs Adam with a constant learning rate and no label smoothing")
    min_freq = str(config.data.get("min_freq", 1))
    return [
        "-batch_type",
        "sents",
        "-batch_size",
        str(train.batch_size),
        "-optim",
        "adam",
        "-learning_rate",
        str(train.learning_rate),
        "-max_grad_norm",
        str(train.clip_norm or 0),
        "-src_words_min_frequency",
        min_freq,
        "-tgt_words_min_frequency",
        min_freq,
        "-vocab_size_multiple",
        "1",
        "-seed",
        str(config.seed),
        "-valid_steps",
        NEVER,
        "-model_dtype",
        "fp32",
    ]


def write_corpus(data: TranslationData, workdir: Path, *, test_sentences: int | None = None) -> dict[str, Path]:
    """Writes our tokenized train sources / targets and test sources (one sentence a line) and the data config.

    Returns {"train_src", "train_tgt", "test_src", "config"}. test_sentences: the first n test sources (None:
    all). Raises ValueError if a token contains whitespace (it would not survive the round trip).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    train, test = data.splits["train"], data.splits["test"]
    paths = {"train_src": workdir / "train.src", "train_tgt": workdir / "train.tgt", "test_src": workdir / "test.src"}
    sentences = {
        "train_src": train.source_tokens,
        "train_tgt": train.target_tokens,
        "test_src": test.source_tokens[:test_sentences],
    }
    for key, token_lists in sentences.items():
        with open(paths[key], "w", encoding="utf-8") as f:
            for tokens in token_lists:
                if any(len(token.split()) != 1 for token in tokens):
                    raise ValueError(f"a token with whitespace in {tokens!r}")
                f.write(" ".join(tokens) + "\n")
    paths["config"] = workdir / "data.yaml"
    with open(paths["config"], "w") as f:
        json.dump(
            {
                "save_data": str(workdir / "onmt"),
                "src_vocab": str(workdir / "vocab.src"),
                "tgt_vocab": str(workdir / "vocab.tgt"),
                "overwrite": True,
                "data": {"corpus_1": {"path_src": str(paths["train_src"]), "path_tgt": str(paths["train_tgt"])}},
                "bucket_size": len(train),
            },
            f,
        )  # JSON is YAML; one bucket reads the corpus once
    return paths


def build_vocab(venv: Path, corpus: dict[str, Path]) -> None:
    """onmt_build_vocab over the whole training corpus (token counts; min_freq applies when training)."""
    _run([str(Path(venv) / "bin" / "onmt_build_vocab"), "-config", str(corpus["config"]), "-n_sample", "-1"])


def train(
    venv: Path, corpus: dict[str, Path], options: list[str], *, steps: int, report_every: int, workers: int = 2
) -> str:
    """Runs onmt_train for `steps` steps on CPU, reporting every `report_every`; returns its log.

    workers: processes that build batches (OpenNMT-py's num_workers, default 2; 0 builds them in-line).

    The checkpoint of the last step is written to checkpoint_path(corpus, steps), after the last report.
    """
    command = [
        str(Path(venv) / "bin" / "onmt_train"),
        "-config",
        str(corpus["config"]),
        *options,
        "-train_steps",
        str(steps),
        "-report_every",
        str(report_every),
        "-num_workers",
        str(workers),
        "-save_model",
        str(Path(corpus["config"]).parent / "model"),
        "-save_checkpoint_steps",
        str(steps),
    ]
    return _run(command)


def batch_sentences(split, batches: list[dict]) -> list[dict[str, list[str]]]:
    """The sentences of our padded batches, as peer_step.py reads them: [{"src": [...], "tgt": [...]}, ...].

    split: the data split the batches came from (its source_tokens / target_tokens); each batch's `index`
    names its sentences (-1, a filler row, is left out). Tokens are joined by spaces.
    Raises ValueError if a token contains whitespace (it would not survive the round trip).
    """
    out = []
    for batch in batches:
        rows = [int(i) for i in batch["index"] if i >= 0]
        src, tgt = [split.source_tokens[i] for i in rows], [split.target_tokens[i] for i in rows]
        for tokens in src + tgt:
            if any(len(token.split()) != 1 for token in tokens):
                raise ValueError(f"a token with whitespace in {tokens!r}")
        out.append({"src": [" ".join(t) for t in src], "tgt": [" ".join(t) for t in tgt]})
    return out


class StepPeer:
    """OpenNMT-py's model, optimizer and training step on our batches, in one long-lived peer_step.py process.

    venv: the peer's virtual environment; corpus: write_corpus's paths (its vocabularies built by
    build_vocab); options: onmt_train options (model_options + training_options); sentences: batch_sentences;
    threads: torch threads (0: torch's default). The process builds everything, makes one untimed pass, and
    then waits (idle) for run(). Raises RuntimeError, with the tail of its log, if it fails.
    """

    def __init__(
        self,
        venv: Path,
        corpus: dict[str, Path],
        options: list[str],
        sentences: list[dict[str, list[str]]],
        *,
        threads: int = 0,
    ):
        workdir = Path(corpus["config"]).parent
        batches_path = workdir / "our_batches.json"
        batches_path.write_text(json.dumps(sentences))
        self.log_path = workdir / "peer_step.log"
        self._log = open(self.log_path, "w")
        command = [
            str(Path(venv) / "bin" / "python"),
            str(STEP_SCRIPT),
            "--batches",
            str(batches_path),
            "--threads",
            str(threads),
            "--",
            "-config",
            str(corpus["config"]),
            *options,
            "-save_model",
            str(workdir / "model"),
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        ready = self._read()
        self.parameters, self.target_tokens = ready["parameters"], ready["target_tokens"]
        self.threads = ready["threads"]

    def run(self) -> dict:
        """One timed pass over the batches: {"tokens_per_s", "steps", "tokens", "seconds", "loss"}."""
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        result = self._read()
        return {"tokens_per_s": result["tokens"] / result["seconds"], **result}

    def close(self) -> None:
        """Ends the process (it quits on 'quit' or end of input)."""
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self._log.close()

    def _read(self) -> dict:
        for line in self.process.stdout:
            if line.startswith("PEER_STEP "):
                return json.loads(line[len("PEER_STEP ") :])
        self.process.wait()
        self._log.flush()
        tail = self.log_path.read_text()[-3000:]
        raise RuntimeError(f"peer_step.py ended ({self.process.returncode}) without an answer:\n{tail}")


def checkpoint_path(corpus: dict[str, Path], steps: int) -> Path:
    """Where train(corpus, ..., steps=steps) leaves its checkpoint."""
    return Path(corpus["config"]).parent / f"model_step_{steps}.pt"


def translate(
    venv: Path, model: Path, source: Path, output: Path, *, beam_size: int, length: int, batch_size: int
) -> str:
    """Runs onmt_translate on CPU, every hypothesis exactly `length` tokens long; returns its log.

    min_length = max_length = length and max_length_ratio 0 (no cap from the source length), so the search
    runs `length` steps, as ours does; no length penalty.
    """
    command = [
        str(Path(venv) / "bin" / "onmt_translate"),
        "-model",
        str(model),
        "-src",
        str(source),
        "-output",
        str(output),
        "-beam_size",
        str(beam_size),
        "-batch_size",
        str(batch_size),
        "-batch_type",
        "sents",
        "-min_length",
        str(length),
        "-max_length",
        str(length),
        "-max_length_ratio",
        "0",
        "-length_penalty",
        "none",
        "-report_time",
        "-seed",
        "0",
    ]
    return _run(command, env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"})


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    """Runs command; returns stdout + stderr. Raises RuntimeError with the output's tail if it fails."""
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    output = result.stdout + result.stderr
    if result.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}):\n{output[-3000:]}")
    return output


_AVERAGE = re.compile(r"Average translation time \(ms\): ([\d.]+)")
_TOTAL = re.compile(r"Total translation time \(s\): ([\d.]+)")


def parse_translate_log(log: str) -> dict:
    """{"sentences_per_s" (from the mean time per sentence), "seconds" (total)} from onmt_translate -report_time.

    The times cover translation only (not the start-up or the model loading). Raises ValueError if absent.
    """
    average, total = _AVERAGE.search(log), _TOTAL.search(log)
    if not average or not total:
        raise ValueError(f"onmt_translate's log has no -report_time lines:\n{log[-2000:]}")
    return {"sentences_per_s": 1000.0 / float(average.group(1)), "seconds": float(total.group(1))}
