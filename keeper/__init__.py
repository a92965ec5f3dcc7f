"""Hedgevault keeper: risk engine, policy, chain access, tick loop, store, metrics, CLI."""

__version__ = "0.1.0"
