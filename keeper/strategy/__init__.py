"""Option strategies run in rounds (short strangle, iron condor, covered call, put-spread collar): open, manage,
roll, settle — pure, on the venue's listed series in the ``BookView`` (:mod:`keeper.strategy.lifecycle`)."""

from keeper.strategy.lifecycle import RoundPlan, Sizer, listing_problems, plan_rounds

__all__ = ["RoundPlan", "Sizer", "listing_problems", "plan_rounds"]
