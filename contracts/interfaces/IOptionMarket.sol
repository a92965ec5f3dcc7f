// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketAccounts} from "./options/IOptionMarketAccounts.sol";
import {IOptionMarketConstants} from "./options/IOptionMarketConstants.sol";
import {IOptionMarketErrors} from "./options/IOptionMarketErrors.sol";
import {IOptionMarketEvents} from "./options/IOptionMarketEvents.sol";
import {IOptionMarketGovernance} from "./options/IOptionMarketGovernance.sol";
import {IOptionMarketPool} from "./options/IOptionMarketPool.sol";
import {IOptionMarketViews} from "./options/IOptionMarketViews.sol";

/// @title IOptionMarket
/// @notice A cash-settled European option venue. Quotes are on-chain Black-Scholes prices from a spot feed and an
///         implied-vol surface per (underlying, expiry); a liquidity pool funded by LPs is the counterparty of
///         every trade; accounts are margined on their whole portfolio by revaluation over a spot × vol scenario
///         grid (Derive-style portfolio margin); under-margined accounts are liquidated partially by anyone; at
///         expiry one settlement price per (underlying, expiry) is fixed from the feed and positions are cashed.
///
/// One address serves this whole ABI: the OptionMarket core runs the account facet and forwards every other
/// selector by DELEGATECALL to its view and governance facets (one storage; see docs/option-market.md).
///
/// Units (in every name): collateral and cash are USDC, 6 decimals (`*E6`). Prices are USD per unit of underlying
/// and sizes are units of underlying, both 1e18 (`*Wad`); vols and ratios are decimals × 1e18 (0.5e18 = 50 %).
/// Sizes are signed: long > 0, short < 0. Time to expiry τ = seconds / 365 days.
///
/// Accounts are sub-accounts: `openAccount` returns a new id owned by `msg.sender`; one owner may hold many;
/// only the owner deposits, withdraws and trades. Nothing assumes an EOA: a contract (e.g. a vault whose adapter
/// runs by DELEGATECALL, so `msg.sender` is the vault) owns accounts the same way. An account holds at most
/// `MAX_POSITIONS` open series, which bounds the gas of its margin check.
///
/// Margin: equity = collateral + marks (Black-Scholes mid). MM = worst scenario loss + a minimum per short unit;
/// IM = imFactor × MM (see `RiskParams`). Trades and withdrawals must leave equity ≥ IM, unless they reduce the
/// IM shortfall (IM − equity) of an account that already had one. The pool is margined the same way on every
/// trade and LP withdrawal. Below MM an account can be liquidated.
///
/// Freshness: trades, withdrawals, liquidations and `marginOf` revert when a spot is older than the underlying's
/// `maxPriceAgeSeconds` (`StalePrice`), a needed vol surface is older than `volMaxAgeSeconds` (`StaleVolSurface`),
/// or an expired position awaits its settlement price (`ExpiryNotSettled`). `accountState`, `equityOf` and
/// `poolState` never revert for staleness: they compute with the inputs at hand and return `fresh = false`.
///
/// Roles (OpenZeppelin AccessControl): DEFAULT_ADMIN_ROLE (governance: parameters, underlyings, unpause),
/// LISTER_ROLE (lists series), VOL_FEEDER_ROLE (posts vol surfaces), GUARDIAN_ROLE (pauses). While paused, trades,
/// liquidations, withdrawals, LP flows and listings stop; deposits, settlement and vol posting stay open.
interface IOptionMarket is
    IOptionMarketErrors,
    IOptionMarketEvents,
    IOptionMarketAccounts,
    IOptionMarketPool,
    IOptionMarketGovernance,
    IOptionMarketViews,
    IOptionMarketConstants
{}
