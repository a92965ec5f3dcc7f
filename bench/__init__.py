"""Benchmarks (``make bench``): speed and accuracy figures, never run as timed tests."""
