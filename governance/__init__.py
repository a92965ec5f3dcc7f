"""Governance tooling for HedgedVault, without ape: operation encoding and validation against the contract's hard
bounds, timelock operation ids and events, fork simulation with before → after diffs of parameters and risk, and
Safe transaction-builder batches. ``scripts/governance.py`` and ``scripts/deploy.py`` are thin ape front ends.
"""
