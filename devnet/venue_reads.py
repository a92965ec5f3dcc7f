"""Read the OptionMarket into the reference model's inputs (one ``eth_call`` per view, all at one block)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import BlockIdentifier

from keeper.chain.artifacts import forge_artifact
from keeper.chain.revert import RevertDecoder
from keeper.venue.model import WAD, MarketParams, MarketState, Portfolio, RiskParams, Surface

E6 = 10**6
# Every artifact whose custom errors the venue can revert with (its facets, OpenZeppelin's, the feed's).
VENUE_ARTIFACTS = ("OptionMarket", "OptionMarketViews", "OptionMarketGovernance", "IOptionMarket", "PriceFeed")


def market_at(w3: Web3, address: str) -> Contract:
    """The market with its whole ABI (all facets: the address serves every IOptionMarket selector)."""
    abi = forge_artifact("IOptionMarket").abi + [
        item for item in forge_artifact("OptionMarket").abi if item.get("type") in ("function", "error")
    ]
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=_dedupe(abi))


def revert_decoder() -> RevertDecoder:
    return RevertDecoder(forge_artifact(name).abi for name in VENUE_ARTIFACTS)


def revert_reason(call: Any, sender: str, decoder: RevertDecoder | None = None) -> str:
    """The decoded reason a contract ``call`` reverts with under ``eth_call`` from ``sender``, '' if it succeeds."""
    decoder = decoder or revert_decoder()
    try:
        call.call({"from": sender})
    except ContractCustomError as err:
        return decoder.decode(err.data if isinstance(err.data, str) else err.args[0])
    except ContractLogicError as err:
        data = err.data if isinstance(err.data, str) else ""
        return decoder.decode(data) if data.startswith("0x") and len(data) > 2 else str(err)
    return ""


def _dedupe(abi: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for item in abi:
        key = f"{item.get('type')}:{item.get('name')}:{[i['type'] for i in item.get('inputs', [])]}"
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


@dataclass(frozen=True)
class AccountSnapshot:
    """One account as the model sees it, with the contract's own figures (USD) for comparison."""

    account_id: int
    portfolio: Portfolio
    collateral_usd: float
    equity_usd: float
    initial_usd: float
    maintenance_usd: float
    fresh: bool
    series_ids: list[int]


def read_params(market: Contract, block: BlockIdentifier = "latest") -> tuple[RiskParams, MarketParams]:
    risk = market.functions.riskParams().call(block_identifier=block)
    mkt = market.functions.marketParams().call(block_identifier=block)
    return RiskParams.from_chain(list(risk)), MarketParams.from_chain(list(mkt))


def read_account(market: Contract, account_id: int, block: BlockIdentifier = "latest") -> AccountSnapshot:
    st = market.functions.accountState(account_id).call(block_identifier=block)
    (_, _, collateral, equity, im, mm, fresh, positions) = st
    # PositionState: seriesId, underlyingId, asset, expiry, strikeWad, isCall, sizeWad, volWad, markPriceWad,
    # markValueE6, expired, settlementPriceWad
    p = Portfolio.of(
        [int(x[1]) for x in positions],
        [int(x[3]) for x in positions],
        [x[4] / WAD for x in positions],
        [bool(x[5]) for x in positions],
        [x[6] / WAD for x in positions],
        [x[11] / WAD for x in positions],
    )
    return AccountSnapshot(
        account_id, p, collateral / E6, equity / E6, im / E6, mm / E6, bool(fresh), [int(x[0]) for x in positions]
    )


def read_state(market: Contract, portfolio: Portfolio, block: BlockIdentifier = "latest") -> MarketState:
    """Chain time, spots and the surfaces the portfolio needs, at ``block``."""
    header = market.w3.eth.get_block(block)
    number, now = int(header["number"]), int(header["timestamp"])
    n_u = int(market.functions.underlyingCount().call(block_identifier=number))
    spots = np.array(
        [market.functions.spot(u).call(block_identifier=number)[0] / WAD for u in range(n_u)], dtype=np.float64
    )
    surfaces: dict[tuple[int, int], Surface] = {}
    for u, e in {(int(u), int(e)) for u, e in zip(portfolio.underlying, portfolio.expiry_s, strict=True)}:
        atm, skew, smile, _ = market.functions.volSurface(u, e).call(block_identifier=number)
        surfaces[(u, e)] = Surface(atm / WAD, skew / WAD, smile / WAD)
    return MarketState(now, spots, surfaces)
