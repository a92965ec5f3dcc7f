"""The vocabulary every layer shares, with no I/O: the book the policy sees, the plans and actions it returns,
array aliases, roles and the project's exceptions. Everything else in the project may import it; it imports
nothing of the project."""

from keeper.model.book import (
    BookView,
    ListedOption,
    ShortOption,
    TailCandidate,
    TailInputs,
    UnderlyingView,
    VenueAccountView,
)
from keeper.model.plan import (
    AaveBorrow,
    AaveRepay,
    AaveSupply,
    AaveWithdraw,
    Action,
    Decision,
    DeltaBand,
    MarginDeposit,
    OptionTrade,
    Plan,
    Swap,
    TailReport,
    VenueAccountOpen,
)

__all__ = [
    "AaveBorrow",
    "AaveRepay",
    "AaveSupply",
    "AaveWithdraw",
    "Action",
    "BookView",
    "Decision",
    "DeltaBand",
    "ListedOption",
    "MarginDeposit",
    "OptionTrade",
    "Plan",
    "ShortOption",
    "Swap",
    "TailCandidate",
    "TailInputs",
    "TailReport",
    "UnderlyingView",
    "VenueAccountOpen",
    "VenueAccountView",
]
