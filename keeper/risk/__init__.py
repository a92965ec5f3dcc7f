"""The risk engine: pure functions over numpy arrays (structure of arrays), no I/O, no clock.

Units, once: prices and values in USD (or the quote currency), spot/forward/strike in USD per unit, time in
years (ACT/365), vol and rates as decimals per year (0.60 = 60 %), Greeks per unit of underlying unless the
name says otherwise.

The hot paths (prices and Greeks, implied vol, the stress grid) run compiled per-option kernels
(``keeper.risk._kernels``, numba, one core, cached on disk); each keeps a pure-numpy ``*_reference`` twin that
the tests hold it to.
"""
