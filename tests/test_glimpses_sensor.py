"""The glimpse sensor rho(x, l) (Mnih et al. 2014, sec. 3) against a NumPy reference written pixel by pixel:
scales, centring, zero padding at the border, the location convention, and the one-line errors."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from attn_research.tasks.glimpses.sensor import glimpse_sensor


def reference_glimpse(image: np.ndarray, location, g: int, k: int) -> np.ndarray:
    """[k, g, g, C]: for scale s, the patch of side p = g 2^s whose top-left pixel is round-half-up(c - p / 2)
    with c = (l + 1) / 2 * (H, W), pixels outside the image 0, averaged over 2^s x 2^s blocks."""
    height, width, channels = image.shape
    ly, lx = (min(max(v, -1.0), 1.0) for v in location)
    cy, cx = (ly + 1) / 2 * height, (lx + 1) / 2 * width
    out = np.zeros((k, g, g, channels))
    for s in range(k):
        p, block = g * 2**s, 2**s
        top, left = math.floor(cy - p / 2 + 0.5), math.floor(cx - p / 2 + 0.5)
        for i in range(g):
            for j in range(g):
                total = np.zeros(channels)
                for a in range(block):
                    for b in range(block):
                        y, x = top + i * block + a, left + j * block + b
                        if 0 <= y < height and 0 <= x < width:
                            total += image[y, x]
                out[s, i, j] = total / block**2
    return out


@pytest.mark.parametrize(
    "location",
    [(0.0, 0.0), (-1.0, -1.0), (1.0, 1.0), (-1.0, 0.7), (0.33, -0.81), (1.5, -2.0)],  # the last one clipped
)
def test_glimpse_against_numpy_reference(location):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, size=(2, 20, 24, 2)).astype(np.float32)
    got = np.asarray(glimpse_sensor(images, np.array([location, location[::-1]], np.float32), 4, 3))
    assert got.shape == (2, 3, 4, 4, 2)
    for b, loc in enumerate((location, location[::-1])):
        np.testing.assert_allclose(got[b], reference_glimpse(images[b], loc, 4, 3), rtol=1e-5, atol=1e-6)


def test_location_convention_rows_then_columns_and_centre():
    """A single bright pixel at row 3, column 12 of a 16 x 16 image. The point (4, 13) pixels (l = 2 c / 16 - 1)
    is the corner between pixels 3 | 4 and 12 | 13, so the 2 x 2 glimpse centred there covers rows 3-4 and
    columns 12-13: the bright pixel is its top-left one; with rows and columns swapped it is not seen."""
    image = np.zeros((1, 16, 16, 1), np.float32)
    image[0, 3, 12, 0] = 1.0
    location = np.array([[2 * 4 / 16 - 1, 2 * 13 / 16 - 1]], np.float32)
    patch = np.asarray(glimpse_sensor(image, location, 2, 1))[0, 0, :, :, 0]
    np.testing.assert_array_equal(patch, [[1.0, 0.0], [0.0, 0.0]])
    swapped = np.asarray(glimpse_sensor(image, location[:, ::-1], 2, 1))
    assert swapped.sum() == 0.0
    centre = np.asarray(glimpse_sensor(np.ones((1, 16, 16, 1), np.float32), np.zeros((1, 2), np.float32), 8, 1))
    assert centre.sum() == 64.0  # the centred 8 x 8 patch lies inside the image


def test_scales_cover_twice_the_width_and_average():
    """A constant image: scale s averages over 4^s pixels, each of value 1 inside the image; at the corner
    location (-1, -1) exactly a quarter of every patch lies inside, so every scale's mean is 1/4."""
    image = np.ones((1, 32, 32, 1), np.float32)
    got = np.asarray(glimpse_sensor(image, np.array([[-1.0, -1.0]], np.float32), 4, 3))[0]
    for s in range(3):
        assert got[s].mean() == pytest.approx(0.25)
    # at the centre the three scales (4, 8, 16 pixels) all lie inside: every pixel reads 1
    np.testing.assert_allclose(np.asarray(glimpse_sensor(image, np.zeros((1, 2), np.float32), 4, 3)), 1.0)


def test_jittable_and_batched():
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(3, 12, 12, 1)).astype(np.float32)
    locations = rng.uniform(-1, 1, size=(3, 2)).astype(np.float32)
    jitted = jax.jit(lambda x, where: glimpse_sensor(x, where, 3, 2))(images, locations)
    for b in range(3):
        np.testing.assert_allclose(np.asarray(jitted[b]), reference_glimpse(images[b], locations[b], 3, 2), atol=1e-6)


@pytest.mark.parametrize(
    "size,scales,message",
    [(40, 1, "larger than the 28 x 28 canvas"), (0, 2, "glimpse_size >= 1"), (8, 0, "scales >= 1")],
)
def test_bad_glimpse_is_a_one_line_error(size, scales, message):
    with pytest.raises(ValueError, match=message) as error:
        glimpse_sensor(np.zeros((1, 28, 28, 1), np.float32), np.zeros((1, 2), np.float32), size, scales)
    assert "\n" not in str(error.value)
