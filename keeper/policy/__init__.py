"""Hedging policy: data in, plan out, no I/O (:mod:`keeper.policy.plan`, :mod:`keeper.policy.hedging`)."""

from keeper.policy.hedging import decide
from keeper.policy.plan import (
    AaveBorrow,
    AaveRepay,
    AaveSupply,
    AaveWithdraw,
    Action,
    BookView,
    MarginDeposit,
    OptionTrade,
    Plan,
    Swap,
    UnderlyingView,
    VenueAccountOpen,
    VenueAccountView,
)

__all__ = [
    "AaveBorrow",
    "AaveRepay",
    "AaveSupply",
    "AaveWithdraw",
    "Action",
    "BookView",
    "MarginDeposit",
    "OptionTrade",
    "Plan",
    "Swap",
    "UnderlyingView",
    "VenueAccountOpen",
    "VenueAccountView",
    "decide",
]
