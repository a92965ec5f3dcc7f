"""Execution maths: exact Uniswap v3 swaps and the router that splits an order across pools (pure, no I/O)."""
