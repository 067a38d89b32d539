"""The benchmark helpers: FLOP counting, timing statistics, reports, the peer's options and logs, references."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attn_research import readme
from attn_research.attention import build_attention
from benchmarks import (
    captioning_step,
    common,
    compile_times,
    decoder_steps,
    dot_product_attention,
    kernels,
    multi30k,
    optimizer_layout,
    peer_opennmt,
    precision_curves,
    run,
    training_throughput,
)
from benchmarks.flops import matmul_flops
from tests.helpers import SHARED_DATA


def test_matmul_flops_of_a_matmul_and_a_batched_einsum():
    assert matmul_flops(jnp.dot, jnp.ones((3, 4)), jnp.ones((4, 5))) == 2 * 3 * 4 * 5
    einsum = jax.jit(lambda a, b: jnp.einsum("bij,bjk->bik", a, b))  # inside a jit call
    assert matmul_flops(einsum, jnp.ones((6, 3, 4)), jnp.ones((6, 4, 5))) == 2 * 6 * 3 * 4 * 5


def test_matmul_flops_counts_a_scan_body_length_times_and_the_backward_pass():
    def repeated(x, w):
        return jax.lax.scan(lambda carry, _: (carry @ w, None), x, None, length=7)[0]

    x, w = jnp.ones((2, 3)), jnp.ones((3, 3))
    forward = 7 * 2 * 2 * 3 * 3
    assert matmul_flops(repeated, x, w) == forward
    # Backward of y = x w: dL/dx = g w^T and dL/dw = x^T g, two matmuls of the forward's size per step.
    assert matmul_flops(jax.grad(lambda w: repeated(x, w).sum()), w) == 3 * forward


def test_matmul_flops_takes_the_costliest_cond_branch_and_refuses_while_loops():
    a = jnp.ones((4, 4))
    branchy = lambda p, a: jax.lax.cond(p, lambda a: a @ a @ a, lambda a: a @ a, a)  # noqa: E731
    assert matmul_flops(branchy, True, a) == 2 * (2 * 4 * 4 * 4)
    looping = lambda a: jax.lax.while_loop(lambda c: c[0, 0] < 10, lambda c: c @ c, a)  # noqa: E731
    with pytest.raises(ValueError, match="while loop"):
        matmul_flops(looping, a)


def test_spread_and_time_call():
    stats = common.spread([5.0, 1.0, 3.0, 2.0, 4.0])
    assert stats == {"median": 3.0, "p10": 1.0, "p90": 5.0, "min": 1.0, "max": 5.0, "n": 5}
    with pytest.raises(ValueError):
        common.spread([])
    timing = common.time_call(lambda: jnp.ones(3) * 2, repeats=4, warmup=1)
    assert timing["repeats"] == 4 and 0 <= timing["p10_ms"] <= timing["median_ms"] <= timing["p90_ms"]
    # A budget smaller than the first call leaves the minimum of three repeats.
    assert common.time_call(lambda: jnp.ones(3), repeats=50, max_seconds=0.0)["repeats"] == 3


def test_write_report_records_provenance_and_checks_columns(tmp_path):
    rows = [{"case": "a", "ms": 1.5}, {"case": "b", "ms": 2.5}]
    path = common.write_report(
        "example",
        description="d",
        columns=["case", "ms"],
        rows=rows,
        settings={"n": 1},
        out_dir=str(tmp_path),
        summary={"best": 1.5},
        notes=["a note"],
    )
    assert os.path.basename(path) == f"example_{jax.default_backend()}.json"
    with open(path) as f:
        report = json.load(f)
    assert report["rows"] == rows and report["columns"] == ["case", "ms"] and report["summary"] == {"best": 1.5}
    assert report["git_commit"] and report["machine"]["cpu"] and report["machine"]["versions"]["jax"] == jax.__version__
    with pytest.raises(ValueError, match="missing"):
        common.write_report(
            "example", description="d", columns=["missing"], rows=rows, settings={}, out_dir=str(tmp_path)
        )


def test_readme_renders_a_report_with_its_declared_columns_summary_and_notes():
    report = {
        "benchmark": "example",
        "description": "what it measures",
        "columns": ["b", "a"],
        "rows": [{"a": 1, "b": 0.5, "hidden": 9}],
        "summary": {"speed": {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}},
        "notes": ["Limited by X."],
        "settings": {"n": 2, "nested": {"k": 1}},
        "machine": {"backend": "cpu"},
    }
    lines = readme._benchmark_markdown(os.path.join(readme.ROOT, "results", "benchmarks", "example_cpu.json"), report)
    assert "| b | a |" in lines and "| 0.5 | 1 |" in lines
    assert "- speed: 2 (1–3, n=3)" in lines and "Limited by X." in lines
    assert not any("hidden" in line or "nested" in line for line in lines)


def test_quick_run_writes_a_report_the_readme_renders(tmp_path, monkeypatch):
    monkeypatch.setattr(
        sys, "argv", ["decoder_steps", "--quick", "--batch", "2", "--dim", "8", "--out-dir", str(tmp_path)]
    )
    decoder_steps.main()
    with open(tmp_path / f"decoder_steps_{jax.default_backend()}.json") as f:
        report = json.load(f)
    assert report["settings"]["quick"] and report["machine"]["cpu_count"] and report["git_commit"]
    assert [row["score"] for row in report["rows"]] == list(decoder_steps.SCORES)
    assert all(row["per_step_ms"] > 0 and row["precompute_ms"] > 0 for row in report["rows"])
    table = readme.benchmarks_markdown(str(tmp_path))
    assert "| " + " | ".join(decoder_steps.COLUMNS) + " |" in table


def test_naive_additive_is_bahdanaus_score_and_matches_our_chunked_attention():
    rng = np.random.default_rng(0)
    batch, length, dim = 2, 5, 3
    q, k = rng.normal(size=(batch, length, dim)), rng.normal(size=(batch, length, dim))
    mask = np.array([[True] * length, [True, True, True, False, False]])
    w1, w2, v = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim)), rng.normal(size=dim)
    expected = np.zeros((batch, length, dim))
    for b in range(batch):  # Bahdanau et al. (2015), eq. 6: e_ts = v^T tanh(W1 h_s + W2 s_t), softmax over s
        for t in range(length):
            e = [
                sum(
                    v[d] * np.tanh(sum(w1[i, d] * k[b, s, i] + w2[i, d] * q[b, t, i] for i in range(dim)))
                    for d in range(dim)
                )
                for s in range(length)
            ]
            a = np.array([np.exp(e[s]) if mask[b, s] else 0.0 for s in range(length)])
            expected[b, t] = (a / a.sum()) @ k[b]
    params = {"W1": jnp.asarray(w1, jnp.float32), "W2": jnp.asarray(w2, jnp.float32), "v": jnp.asarray(v, jnp.float32)}
    inputs = tuple(jnp.asarray(x, jnp.float32) for x in (q, k, k)) + (jnp.asarray(mask),)
    np.testing.assert_allclose(kernels.naive_additive(params, *inputs), expected, rtol=1e-4, atol=1e-5)
    attention = build_attention({"score": "additive", "dim": dim, "query_chunk": 2})  # chunks of 2 queries
    ours = {
        "params": {
            "AdditiveScore_0": {"W1": {"kernel": params["W1"]}, "W2": {"kernel": params["W2"]}, "v": params["v"]}
        }
    }
    np.testing.assert_allclose(attention.apply(ours, *inputs).context, expected, rtol=1e-4, atol=1e-5)


def test_fused_and_naive_scaled_dot_agree_with_the_formula():
    rng = np.random.default_rng(1)
    q, k = rng.normal(size=(1, 3, 4)), rng.normal(size=(1, 3, 4))
    mask = np.array([[True, True, False]])
    e = q[0] @ k[0].T / 2.0  # sqrt(d_k) = 2
    a = np.where(mask[0], np.exp(e), 0.0)
    expected = (a / a.sum(-1, keepdims=True)) @ k[0]
    inputs = tuple(jnp.asarray(x, jnp.float32) for x in (q, k, k)) + (jnp.asarray(mask),)
    for fn in (kernels.naive_scaled_dot, kernels.fused_scaled_dot):
        np.testing.assert_allclose(fn({}, *inputs)[0], expected, rtol=1e-5, atol=1e-6)


def test_dot_product_attention_implementations_agree_with_the_formula_per_head():
    rng = np.random.default_rng(2)
    q, k = rng.normal(size=(2, 5, 3, 4)), rng.normal(size=(2, 5, 3, 4))  # [batch, length, heads, head_dim]
    e = np.einsum("bqhd,bkhd->bhqk", q, k) / 2.0  # sqrt(head_dim) = 2
    a = np.exp(e - e.max(-1, keepdims=True))
    expected = np.einsum("bhqk,bkhd->bqhd", a / a.sum(-1, keepdims=True), k)  # keys = values
    query, keys = jnp.asarray(q, jnp.float32), jnp.asarray(k, jnp.float32)
    for name in ("ours", "xla"):
        np.testing.assert_allclose(
            dot_product_attention.attend_fn(name, 4)(query, keys, keys), expected, rtol=1e-5, atol=1e-6
        )
    with pytest.raises(ValueError, match="unknown implementation 'flash'; valid: ours, xla, cudnn"):
        dot_product_attention.attend_fn("flash", 4)


def test_dot_product_attention_compares_with_ours_and_skips_what_cannot_compile():
    query = jax.random.normal(jax.random.key(0), (1, 8, 2, 4))
    settings = dict(repeats=3, max_seconds=1.0, memory_bytes=1e12)
    ours = dot_product_attention.measure("ours", query, query, **settings)
    rows = [
        {"implementation": name, **dot_product_attention.measure(name, query, query, **settings)}
        for name in ("ours", "xla")
    ]
    dot_product_attention.compare(rows, ours)
    assert all("context" not in row and row["ms"] > 0 and row["max_abs_diff"] < 1e-5 for row in rows)
    assert rows[0]["over_ours"] == pytest.approx(ours["ms"] / rows[0]["ms"])
    too_big = dot_product_attention.measure("ours", query, query, **{**settings, "memory_bytes": 0})
    assert "GiB of temporaries" in too_big["skipped"] and "ms" not in too_big
    if jax.default_backend() == "cpu":  # cuDNN needs an NVIDIA GPU: reported as skipped, not raised
        assert dot_product_attention.measure("cudnn", query, query, **settings)["skipped"]


def test_kernel_cases_skip_what_exceeds_the_memory_budget():
    inputs = (jnp.ones((1, 8, 4)), jnp.ones((1, 8, 4)), jnp.ones((1, 8), bool))
    ours, naive = kernels.cases("additive", 4, 8, jax.random.key(0))
    measured = kernels.measure(naive, inputs, repeats=3, max_seconds=1.0, memory_bytes=1e12)
    assert measured["ms"] > 0 and measured["temp_mb"] > 0
    skipped = kernels.measure(ours, inputs, repeats=3, max_seconds=1.0, memory_bytes=0)
    assert "budget" in skipped["skipped"] and "ms" not in skipped


def test_kernels_run_every_registered_score_and_the_fused_one():
    """A score registered in attention/registry.py joins the kernel benchmark with no edit there: each row's case
    builds and gives a finite [batch, query_len, dim] context."""
    from attn_research.attention.registry import SCORES

    assert kernels.kernel_rows() == (*SCORES.names(), kernels.FUSED)
    assert {"dot", "general", "additive", "location"} <= set(kernels.kernel_rows())
    dim, length = 4, 6
    query = jax.random.normal(jax.random.key(1), (1, length, dim))
    mask = jnp.ones((1, length), bool)
    for score in kernels.kernel_rows():
        (fn, params), _ = kernels.cases(score, dim, length, jax.random.key(0))
        context = fn(params, query, query, query, mask)
        assert context.shape == (1, length, dim) and bool(jnp.all(jnp.isfinite(context))), score


def test_compile_times_refuses_an_unknown_score_or_decoder_in_one_line(monkeypatch):
    from attn_research.attention.registry import SCORES

    assert compile_times.QUICK_SCORE in SCORES
    monkeypatch.setattr(sys, "argv", ["compile_times", "--scores", "general,adittive"])
    with pytest.raises(ValueError, match="unknown attention score 'adittive'.*Did you mean 'additive'"):
        compile_times.main()
    monkeypatch.setattr(sys, "argv", ["compile_times", "--decoders", "bahdanou"])
    with pytest.raises(ValueError, match="unknown decoder 'bahdanou'"):
        compile_times.main()


def test_peer_options_express_our_benchmark_model():
    for quick in (False, True):
        config = multi30k.benchmark_config(quick)
        options = peer_opennmt.model_options(config.model)
        value = dict(zip(options[::2], options[1::2]))
        assert value["-encoder_type"] == "brnn" and value["-rnn_type"] == "LSTM" and value["-input_feed"] == "1"
        assert value["-global_attention"] == "general"
        # OpenNMT-py's brnn gives each direction hidden_size / 2 units: our encoder_hidden.
        assert int(value["-hidden_size"]) == 2 * config.model.encoder_hidden == config.model.decoder_hidden
        assert int(value["-word_vec_size"]) == config.model.embed_dim
        assert int(value["-enc_layers"]) == config.model.encoder_layers
        train = dict(zip(*[iter(peer_opennmt.training_options(config))] * 2))
        assert train["-batch_type"] == "sents" and int(train["-batch_size"]) == config.train.batch_size


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(decoder="bahdanau"), "decoder 'luong'"),
        (lambda m: m.attention.update(score="location"), "score in"),
        (lambda m: m.update(encoder_hidden=512), "2 \\* encoder_hidden"),
        (lambda m: m.update(teacher_forcing_ratio=0.5), "teacher_forcing_ratio"),
    ],
)
def test_peer_options_refuse_what_opennmt_cannot_express(change, message):
    config = multi30k.benchmark_config()
    change(config.model)
    with pytest.raises(ValueError, match=message):
        peer_opennmt.model_options(config.model)


def test_parse_translate_log():
    log = (
        "[2026-11-21 20:52:13,315 INFO] Total translation time (s): 18.7\n"
        "[2026-11-21 20:52:13,315 INFO] Average translation time (ms): 373.7\n"
    )
    assert peer_opennmt.parse_translate_log(log) == {"sentences_per_s": pytest.approx(1000 / 373.7), "seconds": 18.7}
    with pytest.raises(ValueError, match="report_time"):
        peer_opennmt.parse_translate_log("nothing")


def test_compile_times_synthetic_batch():
    batch = compile_times.synthetic_batch(3, 5, 7, source_vocab=10, target_vocab=20)
    assert batch["source"].shape == (3, 5) and batch["target_output"].shape == (3, 7)
    assert batch["source"].min() >= 4 and batch["source"].max() < 10 and batch["target_mask"].all()


def test_run_refuses_an_unknown_benchmark(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["run", "--only", "kernelz"])
    with pytest.raises(ValueError, match="valid choices"):
        run.main()


def _tiny_data(train_source):
    from attn_research.data import Split, TranslationData, Vocabulary

    def split(name, source, target):
        return Split(
            source_ids=[np.zeros(len(s), np.int32) for s in source],
            target_ids=[np.zeros(len(t), np.int32) for t in target],
            source_tokens=source,
            target_tokens=target,
            references=[" ".join(t) for t in target],
            name=name,
        )

    vocab = Vocabulary(["<pad>", "<s>", "</s>", "<unk>"])
    return TranslationData(
        vocab,
        vocab,
        {
            "train": split("train", train_source, [["a", "b"]] * len(train_source)),
            "test": split("test", [["x"], ["y", "z"]], [["a"], ["b"]]),
        },
    )


def test_write_corpus_writes_our_tokens_one_sentence_a_line(tmp_path):
    paths = peer_opennmt.write_corpus(_tiny_data([["ein", "hund", "."], ["zwei"]]), tmp_path, test_sentences=1)
    assert paths["train_src"].read_text() == "ein hund .\nzwei\n"
    assert paths["train_tgt"].read_text() == "a b\na b\n" and paths["test_src"].read_text() == "x\n"
    config = json.loads(paths["config"].read_text())  # JSON is YAML for onmt_build_vocab / onmt_train
    assert config["data"]["corpus_1"]["path_src"] == str(paths["train_src"]) and config["bucket_size"] == 2
    with pytest.raises(ValueError, match="whitespace"):
        peer_opennmt.write_corpus(_tiny_data([["new york"]]), tmp_path)


def test_batch_sentences_are_each_batch_rows_by_index_without_filler_rows():
    data = _tiny_data([["ein", "hund", "."], ["zwei"], ["drei", "katzen"]])
    batches = [{"index": np.array([2, 0])}, {"index": np.array([1, -1])}]  # -1: a filler row of the last batch
    assert peer_opennmt.batch_sentences(data.splits["train"], batches) == [
        {"src": ["drei katzen", "ein hund ."], "tgt": ["a b", "a b"]},
        {"src": ["zwei"], "tgt": ["a b"]},
    ]
    with pytest.raises(ValueError, match="whitespace"):
        peer_opennmt.batch_sentences(_tiny_data([["new york"]]).splits["train"], [{"index": np.array([0])}])


def test_paired_ratio_divides_within_each_round():
    rows = [
        {"framework": "ours", "round": 0, "tokens_per_s": 300.0},
        {"framework": "peer", "round": 0, "tokens_per_s": 100.0},
        {"framework": "ours", "round": 1, "tokens_per_s": 100.0},
        {"framework": "peer", "round": 1, "tokens_per_s": 50.0},
        {"framework": "ours", "round": 2, "tokens_per_s": 999.0},
    ]  # no peer in round 2: left out
    ratio = training_throughput.paired_ratio(rows, "ours", "peer")
    # Per round 3 and 2 (median 2.5); a ratio of medians would give 200 / 75.
    assert ratio["n"] == 2 and ratio["min"] == 2.0 and ratio["max"] == 3.0 and ratio["median"] == 2.5
    with pytest.raises(ValueError, match="no round"):
        training_throughput.paired_ratio(rows, "ours", "nobody")


@pytest.mark.skipif(
    not peer_opennmt._installed(peer_opennmt.DEFAULT_VENV),
    reason="OpenNMT-py's venv is not installed (benchmarks.peer_opennmt.ensure_venv installs it)",
)
def test_peer_step_trains_opennmt_on_exactly_our_sentences(tmp_path):
    source = [["ein", "hund", "."], ["zwei"], ["drei", "katzen", "laufen", "."]]
    data = _tiny_data(source)
    corpus = peer_opennmt.write_corpus(data, tmp_path, test_sentences=0)
    peer_opennmt.build_vocab(peer_opennmt.DEFAULT_VENV, corpus)
    config = multi30k.benchmark_config(quick=True)
    config.model.update(dict(embed_dim=8, encoder_hidden=8, decoder_hidden=16, encoder_layers=1, decoder_layers=1))
    config.data.min_freq = 1
    options = peer_opennmt.model_options(config.model) + peer_opennmt.training_options(config)
    batches = [{"index": np.array([0, 2])}, {"index": np.array([1, -1])}]
    sentences = peer_opennmt.batch_sentences(data.splits["train"], batches)
    peer = peer_opennmt.StepPeer(peer_opennmt.DEFAULT_VENV, corpus, options, sentences, threads=1)
    try:
        assert peer.target_tokens == 3 * (2 + 1) and peer.threads == 1  # each target "a b" plus its eos
        # Built as configured: a 1-layer brnn of 8 units a direction (16 / 2), a 1-layer input-feeding decoder of
        # 16, embeddings 8, general attention (W_a 16 x 16, W_c 32 x 16), 7 source and 2 target words:
        lstm = lambda inputs, hidden: 4 * hidden * (inputs + hidden) + 2 * 4 * hidden  # noqa: E731 torch: 2 biases
        vocab_src, vocab_tgt = 4 + 7, 4 + 2  # <unk> <blank> <s> </s> (OpenNMT-py's specials) + the words
        expected = (
            vocab_src * 8
            + 2 * lstm(8, 8)
            + vocab_tgt * 8
            + lstm(8 + 16, 16)
            + 16 * 16
            + 32 * 16
            + 16 * vocab_tgt
            + vocab_tgt
        )
        assert peer.parameters == expected
        first, second = peer.run(), peer.run()
        for result in (first, second):
            assert result["steps"] == 2 and result["tokens"] == 9 and result["seconds"] > 0
            assert np.isfinite(result["loss"]) and result["tokens_per_s"] == pytest.approx(9 / result["seconds"])
    finally:
        peer.close()
    assert peer.process.returncode == 0


@pytest.mark.slow  # two tiny trainings, ~10-30 s; benchmarks.precision_curves --quick runs the same code
def test_precision_curve_is_the_windowed_mean_of_the_step_losses():
    from attn_research.data import load_dataset, make_batches
    from tests.helpers import tiny_config

    config = tiny_config("/tmp", steps=4)
    data = load_dataset(config.data)
    batches = make_batches(data.splits["train"], config.train.batch_size, seed=0, epoch=0, shuffle=True)[:2]
    curve, seconds = precision_curves.training_curve(config, data, batches, steps=5, window=2)
    assert curve.shape == (2,) and np.all(np.isfinite(curve)) and seconds > 0  # the fifth step fills no window
    again, _ = precision_curves.training_curve(config, data, batches, steps=4, window=4)
    assert again[0] == pytest.approx(curve.mean(), rel=1e-6)  # the same steps from scratch: the same losses


def test_conv_census_counts_one_cnn_pass_and_refuses_a_conv_in_a_scan_body():
    kernel = jnp.ones((3, 3, 1, 2))

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def cnn(params, images):  # two conv layers, once per image
        return conv(jax.nn.relu(conv(images, params[0])), params[1]).sum()

    images, params = jnp.ones((2, 4, 4, 1)), (kernel, jnp.ones((3, 3, 2, 1)))
    once = captioning_step.conv_census(jax.make_jaxpr(jax.grad(cnn))(params, images))
    # Forward 2, backward 2 kernel gradients + 1 input gradient (the images get none).
    assert once == {"total": 5, "in_loop": 0} and captioning_step.check_cnn_once(once, layers=2) == 5
    with pytest.raises(RuntimeError, match="expected 8"):
        captioning_step.check_cnn_once(once, layers=3)

    def per_word(images):  # the CNN inside a decoder-like loop over 3 words
        return jax.lax.scan(lambda c, _: (c + conv(images, kernel).sum(), None), 0.0, None, length=3)[0]

    looped = captioning_step.conv_census(jax.make_jaxpr(jax.jit(per_word))(images))
    assert looped == {"total": 1, "in_loop": 1}
    with pytest.raises(RuntimeError, match="inside a scan / while body"):
        captioning_step.check_cnn_once(looped, layers=1)


@pytest.mark.parametrize("attention", ["soft", "hard"])
def test_captioning_train_step_runs_the_cnn_once_per_image(attention):
    """The train step as the loop builds it (traced, not compiled), on canvases of random 28 x 28 items."""
    from attn_research.tasks.captioning.data import build_caption_data
    from attn_research.training.mesh import make_mesh

    config = captioning_step.captioning_config(attention, "", canvases=4, batch_size=2, quick=True)
    config.data.validation_sources = 10
    rng = np.random.default_rng(0)
    source = {"image": rng.integers(0, 256, (30, 28, 28, 1), dtype=np.uint8), "label": np.arange(30) % 10}
    data = build_caption_data({"train": source, "test": source}, config.data)
    run = captioning_step.CaptionTraining(config, data, steps=2, full_steps_per_epoch=2, mesh=make_mesh())
    census = run.conv_census()
    # 3 stages + 1 grid layer: 4 forward convolutions, 4 kernel gradients, 3 input gradients (the pixels get none)
    assert run.layers == 4 and census == {"total": 11, "in_loop": 0}


def test_captioning_step_refuses_a_missing_data_folder_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["captioning_step", "--quick", "--data_dir", str(tmp_path)])
    with pytest.raises(FileNotFoundError, match=r"Fashion-MNIST not found at .*fashion_mnist: pass --data_dir"):
        captioning_step.main()


@pytest.mark.slow  # one tiny train step compiled and run on real canvases: ~1 min of compilation beside a sweep
@pytest.mark.skipif(not (SHARED_DATA / "fashion_mnist").is_dir(), reason="Fashion-MNIST not in ../shared/data")
def test_captioning_step_quick_run_writes_a_report_the_readme_renders(tmp_path, monkeypatch):
    argv = ["captioning_step", "--quick", "--attentions", "soft", "--data_dir", str(SHARED_DATA)]
    monkeypatch.setattr(sys, "argv", argv + ["--out_dir", str(tmp_path)])
    captioning_step.main()
    with open(tmp_path / f"captioning_step_{jax.default_backend()}.json") as f:
        report = json.load(f)
    (row,) = report["rows"]
    # 3 stages + 1 grid layer: 4 forward convolutions, 4 kernel gradients, 3 input gradients
    assert row["attention"] == "soft" and row["images_per_s"] > 0 and row["conv_ops"] == 11
    assert report["summary"]["conv_ops_in_scan_bodies"] == 0 and report["settings"]["conv_ops_expected"] == 11
    assert row["ms_per_step"] == pytest.approx(1e3 * report["settings"]["batch_size"] / row["images_per_s"])
    assert "| " + " | ".join(captioning_step.COLUMNS) + " |" in readme.benchmarks_markdown(str(tmp_path))


HLO = """
%fused_computation.1 (param_0: f32[2]) -> f32[2] {
  %param_0 = f32[2]{0} parameter(0)
  ROOT %exponential = f32[2]{0} exponential(%param_0)
}

ENTRY %main (a: f32[2]) -> (f32[2], s32[]) {
  %a = f32[2]{0} parameter(0)
  %exp_fusion = f32[2]{0} fusion(%a), kind=kLoop, calls=%fused_computation.1
  %pair = (f32[2]{0}, s32[]) fusion(%a, %exp_fusion), kind=kLoop, calls=%fused_computation.2
  %sum = f32[2]{0} add(%a, %exp_fusion), metadata={op_name="jit(f)/add fusion(x)"}
  ROOT %tuple = (f32[2]{0}, s32[]) tuple(%sum, %pair)
}
"""


def test_optimizer_layout_counts_fusion_instructions_not_fused_computations_or_operands():
    assert optimizer_layout.count_kernels(HLO) == 2  # the plain and the tuple-shaped fusion


def test_optimizer_layout_copies_the_config_with_the_other_layout():
    config = multi30k.benchmark_config(True)
    flat = optimizer_layout.with_layout(config, True)
    assert flat.train.flatten_optimizer is True
    assert optimizer_layout.with_layout(flat, False).train.flatten_optimizer is False and flat.train.flatten_optimizer


@pytest.mark.slow  # four train steps compiled (two SCAN, two tiny Multi30k): ~2 min on idle cores
@pytest.mark.skipif(not (SHARED_DATA / "multi30k").is_dir(), reason="Multi30k and SCAN not in ../shared/data")
def test_optimizer_layout_quick_run_writes_a_report_the_readme_renders(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTN_RESEARCH_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setattr(sys, "argv", ["optimizer_layout", "--quick", "--out_dir", str(tmp_path)])
    optimizer_layout.main()
    with open(tmp_path / f"optimizer_layout_{jax.default_backend()}.json") as f:
        report = json.load(f)
    by_layout = {(row["step"], row["layout"]): row for row in report["rows"]}
    for step in ("scan_batch1", "multi30k_luong"):
        flat, per_array = by_layout[step, "flat"], by_layout[step, "per_array"]
        assert flat["state_arrays"] < per_array["state_arrays"] and flat["kernels"] < per_array["kernels"]
        assert report["summary"][step]["kernels_removed"] == per_array["kernels"] - flat["kernels"]
    assert "| " + " | ".join(optimizer_layout.COLUMNS) + " |" in readme.benchmarks_markdown(str(tmp_path))


def test_gpu_script_refuses_an_unknown_part_in_one_line_before_starting_anything(tmp_path):
    script = os.path.join(os.path.dirname(run.__file__), "gpu.sh")
    done = subprocess.run(["bash", script, str(tmp_path / "out"), "everything"], capture_output=True, text=True)
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr == "error: the part is transformer, bahdanau, sweeps or benchmarks, got 'everything'\n"


def test_gpu_script_refuses_an_unknown_sweep_experiment_in_one_line_before_starting_anything(tmp_path):
    script = os.path.join(os.path.dirname(run.__file__), "gpu.sh")
    repo = os.path.dirname(os.path.dirname(script))
    spec = ["bash", script, str(tmp_path / "out"), "sweeps", "zeng2023_ett:full:2", "no_such_paper:full"]
    done = subprocess.run(spec, capture_output=True, text=True, cwd=repo)
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr == (
        "error: no experiment experiments/no_such_paper.py (a sweeps SPEC is EXPERIMENT[:SCALE[:PARALLEL]])\n"
    )
