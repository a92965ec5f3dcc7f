"""The keeper daemon: read the vault, assess risk, decide, act, record (one tick per block), and its commands."""
