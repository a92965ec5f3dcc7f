// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AaveV3Adapter} from "../../../adapters/AaveV3Adapter.sol";
import {UniswapV3Adapter} from "../../../adapters/UniswapV3Adapter.sol";
import {Timelock} from "../../../governance/Timelock.sol";
import {HedgedVault} from "../../../vault/HedgedVault.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice The market: prices move through the real feeds and, by real arbitrage swaps, the Uniswap pools; time
///         passes with fresh oracle rounds, or without any (stale feeds).
contract MarketHandler is HandlerBase {
    uint256 public ghost_moves;

    constructor(HedgedVault vault_, Timelock timelock_, AaveV3Adapter aave_, UniswapV3Adapter uni_)
        HandlerBase(vault_, timelock_, aave_, uni_)
    {}

    /// @dev Feed and pool move together by up to ±3 %, then the TWAP window passes.
    function move(uint256 tokenSeed, int256 bps) external counted("move") {
        address token = tokenSeed % 2 == 0 ? weth : wbtc;
        bps = bound(bps, -300, 300);
        uint256 price = _priceE8(token) * uint256(10_000 + bps) / 10_000;
        _setMarketPrice(token, price);
        _advance(601);
        ++ghost_moves;
    }

    /// @dev The feed alone moves a little (within the TWAP deviation bound of the default parameters).
    function oracleNoise(uint256 tokenSeed, int256 bps) external counted("oracleNoise") {
        address token = tokenSeed % 2 == 0 ? weth : wbtc;
        bps = bound(bps, -80, 80);
        _setPrice(token, _priceE8(token) * uint256(10_000 + bps) / 10_000);
    }

    /// @dev Time passes; feeds write fresh rounds (prices unchanged).
    function advance(uint256 seconds_) external counted("advance") {
        _advance(bound(seconds_, 1, 1 days));
    }

    /// @dev Time passes and nobody updates the feeds: deposits and rebalances must stop, exits must not.
    function goStale(uint256 seconds_) external counted("goStale") {
        _warp(bound(seconds_, 1 hours, 3 days));
    }
}
