"""Deploy the project's contracts (vault, adapters, lens, timelock) onto a network described by a record."""
