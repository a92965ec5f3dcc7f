"""The demo: market scenarios on the devnet with the keeper live (``keeper simulate``, ``make demo``)."""
