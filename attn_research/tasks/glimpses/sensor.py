"""The glimpse sensor rho(x, l) of Mnih et al. (2014), sec. 3 ("Sensor") and 4.1: a retina-like representation.

k square patches centred on the location l, of sides g, 2g, 4g, .. g 2^(k-1) pixels, each resized to g x g
(the patch of side g 2^s averaged over blocks of 2^s x 2^s pixels), pixels outside the image read as 0.

Location convention: l = (row, column) in [-1, 1]^2; -1 is the top (left) edge of the image, +1 the bottom
(right) edge, (0, 0) its centre. With pixel i covering [i, i + 1), l maps to the point
    c = (l + 1) / 2 * (H, W)                                                       (pixels)
and the patch of side p covers the rows top .. top + p - 1 with top = floor(c_row - p / 2 + 1/2) (columns the
same), so that an even p is centred on c to the nearest pixel. Locations outside [-1, 1] are clipped.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def check_sensor(glimpse_size: int, scales: int, height: int, width: int) -> None:
    """One-line ValueErrors: glimpse_size (g) or scales (k) < 1, or a glimpse of g x g larger than the canvas."""
    if int(glimpse_size) < 1 or int(scales) < 1:
        raise ValueError(f"the glimpse needs glimpse_size >= 1 and scales >= 1, got {glimpse_size} and {scales}")
    if int(glimpse_size) > min(height, width):
        raise ValueError(
            f"a glimpse of {glimpse_size} x {glimpse_size} pixels (model.glimpse_size) is larger than the "
            f"{height} x {width} canvas"
        )


def location_to_pixels(location: Array, height: int, width: int) -> Array:
    """The point c [..., 2] (row, column; pixels, continuous) of locations l [..., 2] in [-1, 1] (clipped)."""
    size = jnp.array([height, width], jnp.float32)
    return (jnp.clip(location, -1.0, 1.0) + 1.0) / 2.0 * size


def glimpse_sensor(images: Array, location: Array, glimpse_size: int, scales: int) -> Array:
    """rho(x, l): the k = `scales` patches around each location, resized to g x g (module docstring).

    images: [batch, height, width, channels] (any float or int dtype; read as float32).
    location: [batch, 2] (row, column) in [-1, 1] (clipped).
    Returns float32 [batch, scales, g, g, channels]; scale s is the patch of side g 2^s averaged over blocks of
    2^s x 2^s. Jittable (integer patch corners from dynamic_slice on the zero-padded image). Raises ValueError
    for g or k < 1 or g larger than the image (check_sensor).
    """
    batch, height, width, channels = images.shape
    check_sensor(glimpse_size, scales, height, width)
    largest = glimpse_size * 2 ** (scales - 1)
    padded = jnp.pad(images.astype(jnp.float32), ((0, 0), (largest, largest), (largest, largest), (0, 0)))
    centre = location_to_pixels(location, height, width)  # [batch, 2]
    patches = []
    for s in range(scales):
        side = glimpse_size * 2**s
        corner = jnp.floor(centre - side / 2 + 0.5).astype(jnp.int32) + largest  # in the padded image

        def cut(image, corner, side=side):
            return jax.lax.dynamic_slice(image, (corner[0], corner[1], 0), (side, side, channels))

        patch = jax.vmap(cut)(padded, corner)  # [batch, side, side, channels]
        block = 2**s
        patch = patch.reshape(batch, glimpse_size, block, glimpse_size, block, channels).mean(axis=(2, 4))
        patches.append(patch)
    return jnp.stack(patches, axis=1)
