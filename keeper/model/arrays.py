"""Shaped aliases for numpy arrays (documentation for readers; numpy's typing does not check shapes)."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

Float64Array1D: TypeAlias = npt.NDArray[np.float64]  # shape (n,)
Float64Array2D: TypeAlias = npt.NDArray[np.float64]  # shape (m, n)
BoolArray1D: TypeAlias = npt.NDArray[np.bool_]
IntArray1D: TypeAlias = npt.NDArray[np.int64]
ArrayLike: TypeAlias = npt.ArrayLike
Model = Literal["black_scholes", "black76"]
