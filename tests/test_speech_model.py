"""The speech model: the time reduction's masks (padded frames never attended, annotations independent of the
padding), the seq2seq decoder reused unchanged, decode-time windowing around the median, and the digit error
rate on hand-made cases."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attn_research.config_defaults import attention_config
from attn_research.decoding.greedy import greedy_decode
from attn_research.models.seq2seq import Seq2Seq
from attn_research.tasks.speech.decoding import alignment_median, median_window, windowed_greedy_decode
from attn_research.tasks.speech.encoder import SpeechEncoder, halve, reduced_length
from attn_research.tasks.speech.metrics import digit_error_rate, edit_distance, length_ratio, recognition_metrics
from attn_research.tasks.speech.model import build_speech_model, default_speech_model_config

DIM = 6


def tiny_model(reduction="pyramid", attention=None):
    config = default_speech_model_config()
    config.update(
        {"reduction": reduction, "reductions": 2, "encoder_layers": 2, "encoder_hidden": 8, "decoder_hidden": 8}
    )
    config.update({"embed_dim": 4, "dropout": 0.0})
    config.attention = attention or attention_config(
        family="location_aware", dim=8, channels=2, filter_width=3, location_source="cumulative"
    )
    return build_speech_model(config, DIM, 13)


def padded(frames, lengths, total):
    """Features [batch, total, DIM] (the first lengths[b] frames real, the rest garbage) and the mask."""
    features = np.array(np.random.default_rng(0).normal(size=(len(lengths), total, DIM)), np.float32)
    features[:, :frames] = np.random.default_rng(1).normal(size=(len(lengths), frames, DIM))
    mask = np.arange(total)[None, :] < np.array(lengths)[:, None]
    return jnp.asarray(features), jnp.asarray(mask)


def test_halve_joins_adjacent_frames_and_keeps_a_pair_with_a_real_first_frame():
    x = jnp.arange(2 * 5 * 1, dtype=jnp.float32).reshape(2, 5, 1) + 1
    mask = jnp.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    out, reduced = halve(x, mask)
    np.testing.assert_array_equal(out[0, :, :], [[1, 2], [3, 0], [0, 0]])  # padded frames zeroed first
    np.testing.assert_array_equal(out[1, :, :], [[6, 7], [8, 9], [10, 0]])  # odd length: one zero frame
    np.testing.assert_array_equal(reduced, [[1, 1, 0], [1, 1, 1]])
    assert [reduced_length(n, 3) for n in (1, 8, 9, 17)] == [1, 1, 2, 3]


@pytest.mark.parametrize("reduction", [pytest.param("pyramid", marks=pytest.mark.slow), "conv"])  # pyramid: 30 s
def test_padded_frames_are_never_attended_and_change_nothing(reduction):
    model = tiny_model(reduction)
    lengths = [13, 6]
    features, mask = padded(13, lengths, 16)
    target = jnp.array([[1, 5, 6, 7], [1, 8, 9, 0]], jnp.int32)
    params = model.init(jax.random.PRNGKey(0), features, mask, target, train=False)
    output = model.apply(params, features, mask, target, train=False)
    steps = [reduced_length(n, 2) for n in lengths]
    assert output.alignments.shape == (2, 4, reduced_length(16, 2))
    for row, n in enumerate(steps):
        assert np.abs(np.asarray(output.alignments[row, :, n:])).max(initial=0.0) == 0.0  # padded encoder steps
        np.testing.assert_allclose(output.alignments[row, :, :n].sum(-1), 1.0, rtol=1e-5)
    encoded = model.apply(params, features, mask, method=Seq2Seq.encode)
    np.testing.assert_array_equal(encoded.mask.sum(-1), steps)
    # More padding (and other values in it) gives the same annotations and outputs on the real part.
    more, more_mask = padded(13, lengths, 40)
    wider = model.apply(params, more, more_mask, target, train=False)
    np.testing.assert_allclose(wider.logits, output.logits, atol=1e-5)
    encoded_more = model.apply(params, more, more_mask, method=Seq2Seq.encode)
    for row, n in enumerate(steps):
        np.testing.assert_allclose(encoded_more.annotations[row, :n], encoded.annotations[row, :n], atol=1e-5)
        assert np.abs(np.asarray(encoded_more.annotations[row, n:])).max(initial=0.0) == 0.0


def test_the_decoder_and_attention_are_the_seq2seq_ones():
    model = tiny_model("pyramid", attention_config("additive", dim=8))
    assert isinstance(model, Seq2Seq)
    features, mask = padded(16, [16, 9], 16)
    params = model.init(jax.random.PRNGKey(1), features, mask, jnp.ones((2, 3), jnp.int32), train=False)
    assert set(params["params"]) == {"encoder", "bridge", "decoder"}
    assert "forward_0" in params["params"]["encoder"] and "embed" not in params["params"]["encoder"]
    tokens, alignments = greedy_decode(model, params, features, mask, max_len=5, bos_id=1, eos_id=2)
    assert tokens.shape == (2, 5) and alignments.shape == (2, 5, 4)


def test_an_encoder_with_more_pyramid_reductions_than_layers_is_an_error():
    with pytest.raises(ValueError, match="a pyramid of 2 layers halves the frame rate at most 2 times"):
        SpeechEncoder(layers=2, reductions=3).check()
    with pytest.raises(ValueError, match="model.reduction"):
        SpeechEncoder(reduction="stack").check()


def test_median_and_window():
    weights = jnp.array([[0.1, 0.2, 0.3, 0.4], [0.6, 0.4, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(alignment_median(weights), [2, 0, 0])
    mask = jnp.ones((3, 4), bool).at[1, 3].set(False)
    np.testing.assert_array_equal(
        median_window(jnp.array([2, 0, 3]), mask, 1, 1), [[0, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]]
    )


def test_windowed_decoding_attends_only_inside_the_window():
    model = tiny_model("pyramid", attention_config("additive", dim=8))
    features, mask = padded(40, [40, 40], 40)
    params = model.init(jax.random.PRNGKey(2), features, mask, jnp.ones((2, 3), jnp.int32), train=False)
    tokens, alignments = windowed_greedy_decode(
        model, params, features, mask, max_len=6, bos_id=1, eos_id=2, left=1, right=2
    )
    median = np.zeros(2, int)
    for step in range(6):
        outside = np.ones(10, bool)
        for row in range(2):
            outside[:] = True
            outside[max(0, median[row] - 1) : median[row] + 3] = False
            assert np.abs(np.asarray(alignments[row, step])[outside]).max(initial=0.0) == 0.0
        median = np.asarray(alignment_median(alignments[:, step]))
    # A window wide enough to hold every step decodes exactly as greedy search.
    wide, _ = windowed_greedy_decode(model, params, features, mask, max_len=6, bos_id=1, eos_id=2, left=10, right=10)
    plain, _ = greedy_decode(model, params, features, mask, max_len=6, bos_id=1, eos_id=2)
    np.testing.assert_array_equal(wide, plain)


def test_edit_distance_and_digit_error_rate_on_hand_made_cases():
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance([1, 3], [1, 2, 3]) == 1  # one deletion
    assert edit_distance([1, 2, 2, 3], [1, 2, 3]) == 1  # one insertion
    assert edit_distance([3, 2, 1], [1, 2, 3]) == 2  # two substitutions
    assert edit_distance([], [4, 5]) == 2
    hyps, refs = [[1, 3], [7], [0, 0, 0, 0, 0, 0]], [[1, 2, 3], [7], [0, 0, 0, 0, 0, 1]]
    assert digit_error_rate(hyps, refs) == pytest.approx(2 / 10)
    metrics = recognition_metrics(hyps, refs, train_lengths=[1, 2, 3])
    assert metrics["utterance_accuracy"] == pytest.approx(1 / 3)
    assert metrics["der_3"] == pytest.approx(1 / 3) and metrics["der_1"] == 0.0
    assert metrics["der_6"] == pytest.approx(1 / 6) and metrics["der_train_lengths"] == pytest.approx(1 / 4)
    # hypothesis digits over reference digits: 9 of 10 overall, 2 of 3 where a digit was deleted
    assert metrics["length_ratio"] == pytest.approx(9 / 10) and metrics["length_ratio_3"] == pytest.approx(2 / 3)
    assert metrics["length_ratio_1"] == 1.0 and metrics["length_ratio_6"] == 1.0
    assert recognition_metrics([[1, 2, 2, 3]], [[1, 2, 3]], [3])["length_ratio_3"] == pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        digit_error_rate([[1], [2]], [[1]])
    with pytest.raises(ValueError, match="the length ratio is undefined"):
        length_ratio([[]], [[]])
