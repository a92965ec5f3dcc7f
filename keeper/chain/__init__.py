"""Chain access: processes (anvil), providers, nonces, fees, retries."""
