"""Argument preparation for the compiled kernels: one shape, contiguous, the kernels' dtypes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keeper.model.arrays import ArrayLike, BoolArray1D, Float64Array1D


def flat_inputs(values: Sequence[ArrayLike], flags: ArrayLike) -> tuple[list[Float64Array1D], BoolArray1D]:
    """Broadcast ``values`` (as float64) and ``flags`` (as bool) to one shape and flatten them to contiguous
    1-D arrays. Arrays that already have the shape and dtype are passed through without a copy."""
    arrays = [np.asarray(x, dtype=np.float64) for x in values]
    c = np.asarray(flags)
    shape = np.broadcast_shapes(c.shape, *(x.shape for x in arrays))

    def flat(x: np.ndarray, dtype: type) -> np.ndarray:
        return np.ascontiguousarray(x if x.shape == shape else np.broadcast_to(x, shape), dtype=dtype).reshape(-1)

    return [flat(x, np.float64) for x in arrays], flat(c, np.bool_)
