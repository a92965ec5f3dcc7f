// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OptionMarketAdapter} from "../adapters/OptionMarketAdapter.sol";
import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {IOptionMarketTypes} from "../interfaces/options/IOptionMarketTypes.sol";
import {HedgedVault} from "../vault/HedgedVault.sol";
import {VaultLogic} from "../vault/VaultLogic.sol";
import {PriceLib} from "../vault/libraries/PriceLib.sol";

/// @title VaultLens
/// @notice Everything the keeper needs about a vault, in one eth_call: vault accounting and parameters, oracle
///         prices with timestamps, wallet balances, the Aave account with per-reserve balances, and for each
///         options adapter the venue: every account the vault owns with its raw positions (series parameters,
///         sizes), the spots, the vol surfaces of the expiries held, and the venue's risk and market parameters.
/// @dev `snapshot` also values the book on-chain (`totalAssets`, per-account venue equity: it reprices every
///      option). `snapshotUnvalued` skips that (those fields read 0, `valued` = false): a keeper that values the
///      book with the venue's own formulas off-chain reads only storage, whatever the number of positions.
contract VaultLens {
    struct TokenState {
        address token;
        uint8 decimals;
        uint256 walletBalance; // token units held idle by the vault
        uint256 aaveCollateral; // aToken balance (token units)
        uint256 aaveVariableDebt; // variable debt token balance (token units)
        uint256 priceE8; // oracle USD price, 8 decimals
        uint256 priceUpdatedAt; // oracle timestamp
        uint256 liquidationThresholdBps; // Aave reserve LT (bps)
        uint256 ltvBps; // Aave reserve LTV (bps): what a borrow may use
    }

    struct AaveAccount {
        uint256 totalCollateralBaseE8;
        uint256 totalDebtBaseE8;
        uint256 availableBorrowsBaseE8;
        uint256 liquidationThresholdBps;
        uint256 ltvBps;
        uint256 healthFactorWad;
    }

    struct VenueAccount {
        uint256 accountId;
        int256 collateralE6;
        int256 equityE6; // collateral + marks from the venue (0 when not valued)
        bool fresh; // the venue's inputs were fresh for that equity (false when not valued)
    }

    struct OptionPosition {
        uint256 accountId;
        uint256 seriesId;
        uint256 underlyingId;
        uint64 expiry;
        uint128 strikeWad;
        bool isCall;
        int256 sizeWad; // + long, − short
        uint256 settlementPriceWad; // 0 until the expiry is settled
    }

    struct VenueUnderlying {
        address asset;
        uint256 spotWad;
        uint256 spotUpdatedAt;
        uint32 maxPriceAgeSeconds;
    }

    struct VenueSurface {
        uint256 underlyingId;
        uint64 expiry;
        IOptionMarketTypes.VolSurface surface;
    }

    struct OptionsState {
        address adapter;
        address market;
        uint256 marginFloorWad; // the vault's post-rebalance floor: equity ≥ this × maintenance margin
        IOptionMarketTypes.RiskParams risk;
        IOptionMarketTypes.MarketParams params;
        VenueAccount[] accounts;
        /// abi.encode(OptionPosition[]): 8 static words per position after the offset and length words, so a
        /// keeper decodes 1,000 positions as one array (vectorised) instead of 1,000 ABI tuples.
        bytes positions;
        VenueUnderlying[] underlyings;
        VenueSurface[] surfaces; // one per (underlying, expiry) the vault holds
    }

    struct VaultState {
        uint256 blockNumber;
        uint256 blockTimestamp;
        uint256 totalAssets;
        uint256 totalSupply;
        uint256 idleAssets;
        uint256 lockedProfit; // still locked now (excluded from totalAssets)
        uint256 escrowedShares;
        uint256 firstPendingRedeem;
        uint256 redeemRequests;
        uint256 depositCap;
        bool paused;
        IHedgedVault.RiskParams risk;
        uint256 periodStart; // when a rolling budget was last charged (VaultLogic.budgetsUsed)
        uint256 periodTurnoverE8; // rolling turnover level now (refused past half the period budget)
        uint256 periodLossE8; // rolling keeper-loss level now
        TokenState asset; // the vault asset (USDC)
        TokenState[] tokens; // tracked tokens
        AaveAccount aave;
        bool valued; // totalAssets and venue equities computed on-chain
        OptionsState[] options; // one per OPTIONS adapter of the vault
    }

    /// @notice The whole vault, valued on-chain.
    function snapshot(HedgedVault vault) external view returns (VaultState memory s) {
        return _snapshot(vault, true);
    }

    /// @notice The whole vault without on-chain valuation (storage reads only; `valued` = false).
    function snapshotUnvalued(HedgedVault vault) external view returns (VaultState memory s) {
        return _snapshot(vault, false);
    }

    function _snapshot(HedgedVault vault, bool valued) internal view returns (VaultState memory s) {
        s.blockNumber = block.number;
        s.blockTimestamp = block.timestamp;
        s.valued = valued;
        if (valued) s.totalAssets = vault.totalAssets();
        s.totalSupply = vault.totalSupply();
        s.idleAssets = vault.idleAssets();
        s.lockedProfit = vault.lockedProfitNow();
        s.escrowedShares = vault.escrowedShares();
        s.firstPendingRedeem = vault.firstPendingRedeem();
        s.redeemRequests = vault.redeemRequestCount();
        s.depositCap = vault.depositCap();
        s.paused = vault.paused();
        s.risk = vault.riskParams();
        // The unwind-loss level is not part of the lens struct (unchanged layout).
        // slither-disable-next-line unused-return
        (s.periodTurnoverE8, s.periodLossE8,, s.periodStart) = VaultLogic(vault.logic()).budgetsUsed();
        IAavePool pool = vault.aavePool();
        s.asset = _token(vault, pool, vault.asset(), address(vault.assetFeed()), vault.assetDecimals());
        IHedgedVault.TrackedToken[] memory tracked = vault.trackedTokens();
        s.tokens = new TokenState[](tracked.length);
        for (uint256 i; i < tracked.length; ++i) {
            s.tokens[i] = _token(vault, pool, tracked[i].token, tracked[i].feed, tracked[i].decimals);
        }
        (
            s.aave.totalCollateralBaseE8,
            s.aave.totalDebtBaseE8,
            s.aave.availableBorrowsBaseE8,
            s.aave.liquidationThresholdBps,
            s.aave.ltvBps,
            s.aave.healthFactorWad
        ) = pool.getUserAccountData(address(vault));
        address[] memory adapters = vault.optionsAdapters();
        s.options = new OptionsState[](adapters.length);
        for (uint256 i; i < adapters.length; ++i) {
            s.options[i] = _options(address(vault), OptionMarketAdapter(adapters[i]), valued);
        }
    }

    function _options(address vault, OptionMarketAdapter adapter, bool valued)
        internal
        view
        returns (OptionsState memory o)
    {
        IOptionMarket market = adapter.market();
        o.adapter = address(adapter);
        o.market = address(market);
        o.marginFloorWad = adapter.marginFloorWad();
        o.risk = market.riskParams();
        o.params = market.marketParams();
        OptionPosition[] memory positions;
        (o.accounts, positions) = _accounts(market, vault, valued);
        o.surfaces = _surfaces(market, positions);
        o.positions = abi.encode(positions);
        o.underlyings = _underlyings(market);
    }

    /// @dev Every account of `vault` (collateral, optionally the venue's equity) and all their positions, flat.
    function _accounts(IOptionMarket market, address vault, bool valued)
        internal
        view
        returns (VenueAccount[] memory accounts, OptionPosition[] memory positions)
    {
        uint256[] memory ids = market.accountsOf(vault);
        accounts = new VenueAccount[](ids.length);
        uint256[][] memory seriesIds = new uint256[][](ids.length);
        int256[][] memory sizes = new int256[][](ids.length);
        IOptionMarketTypes.Series[][] memory params = new IOptionMarketTypes.Series[][](ids.length);
        uint256 total = 0;
        for (uint256 i; i < ids.length; ++i) {
            accounts[i].accountId = ids[i];
            (accounts[i].collateralE6, seriesIds[i], sizes[i], params[i]) = market.holdingsOf(ids[i]);
            if (valued) (accounts[i].equityE6, accounts[i].fresh) = market.equityOf(ids[i]);
            total += seriesIds[i].length;
        }
        positions = new OptionPosition[](total);
        uint256 k = 0;
        for (uint256 i; i < ids.length; ++i) {
            for (uint256 j; j < seriesIds[i].length; ++j) {
                IOptionMarketTypes.Series memory p = params[i][j];
                uint256 settlement =
                    p.expiry <= block.timestamp ? market.settlementPrice(p.underlyingId, p.expiry) : 0;
                positions[k++] = OptionPosition(
                    ids[i],
                    seriesIds[i][j],
                    p.underlyingId,
                    p.expiry,
                    p.strikeWad,
                    p.isCall,
                    sizes[i][j],
                    settlement
                );
            }
        }
    }

    /// @dev The vol surface of every (underlying, expiry) among `positions`, each once.
    function _surfaces(IOptionMarket market, OptionPosition[] memory positions)
        internal
        view
        returns (VenueSurface[] memory surfaces)
    {
        VenueSurface[] memory found = new VenueSurface[](positions.length);
        uint256 m = 0;
        for (uint256 i; i < positions.length; ++i) {
            m = _addSurface(market, found, m, positions[i].underlyingId, positions[i].expiry);
        }
        surfaces = new VenueSurface[](m);
        for (uint256 i; i < m; ++i) {
            surfaces[i] = found[i];
        }
    }

    function _underlyings(IOptionMarket market) internal view returns (VenueUnderlying[] memory out) {
        uint256 n = market.underlyingCount();
        out = new VenueUnderlying[](n);
        for (uint256 u; u < n; ++u) {
            IOptionMarketTypes.Underlying memory info = market.underlying(u);
            (uint256 spotWad, uint256 at) = market.spot(u);
            out[u] = VenueUnderlying(info.asset, spotWad, at, info.maxPriceAgeSeconds);
        }
    }

    /// @dev Append (underlying, expiry)'s surface unless already listed among the first `m`; returns the new m.
    function _addSurface(
        IOptionMarket market,
        VenueSurface[] memory surfaces,
        uint256 m,
        uint256 underlyingId,
        uint64 expiry
    ) internal view returns (uint256) {
        for (uint256 i; i < m; ++i) {
            if (surfaces[i].underlyingId == underlyingId && surfaces[i].expiry == expiry) return m;
        }
        surfaces[m] = VenueSurface(underlyingId, expiry, market.volSurface(underlyingId, expiry));
        return m + 1;
    }

    function _token(HedgedVault vault, IAavePool pool, address token, address feed, uint8 decimals)
        internal
        view
        returns (TokenState memory t)
    {
        t.token = token;
        t.decimals = decimals;
        t.walletBalance = IERC20(token).balanceOf(address(vault));
        (t.priceE8, t.priceUpdatedAt) = PriceLib.priceE8(feed);
        IAavePool.ReserveData memory reserve = pool.getReserveData(token);
        if (reserve.aTokenAddress != address(0)) {
            t.aaveCollateral = IERC20(reserve.aTokenAddress).balanceOf(address(vault));
            t.aaveVariableDebt = IERC20(reserve.variableDebtTokenAddress).balanceOf(address(vault));
            t.liquidationThresholdBps = (reserve.configuration >> 16) & 0xFFFF;
            t.ltvBps = reserve.configuration & 0xFFFF;
        }
    }
}
