"""Hedging policy: ``decide(book, config) → Plan``, data in, plan out, no I/O (:mod:`keeper.policy.hedging`).
The book and plan types are the shared vocabulary in :mod:`keeper.model`."""

from keeper.policy.hedging import decide

__all__ = ["decide"]
