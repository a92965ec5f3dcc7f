// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IOptionMarketConstants} from "../interfaces/options/IOptionMarketConstants.sol";
import {IOptionMarketViews} from "../interfaces/options/IOptionMarketViews.sol";
import {OptionMarketBase} from "./OptionMarketBase.sol";
import {OptionMarketGovernance} from "./OptionMarketGovernance.sol";
import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title OptionMarketViews
/// @notice The OptionMarket's view facet: every read in one call. Second link of the market's facet chain
///         (OptionMarket → this → OptionMarketGovernance), always run by DELEGATECALL in the market's storage;
///         selectors it does not serve fall through to `NEXT` (still in the market's storage).
contract OptionMarketViews is OptionMarketBase, IOptionMarketViews, IOptionMarketConstants, Proxy {
    /// @notice The facet serving the pool and governance selectors.
    address public immutable NEXT;

    /// @param usdc_ Collateral token of the market this facet serves.
    /// @param next_ An OptionMarketGovernance built for the same `usdc_`.
    constructor(IERC20 usdc_, OptionMarketGovernance next_) OptionMarketBase(usdc_) {
        if (next_.collateralToken() != address(usdc_)) revert ExtensionMismatch(address(next_));
        NEXT = address(next_);
    }

    /* VIEWS: ACCOUNTS */

    /// @inheritdoc IOptionMarketViews
    function usdc() external view returns (address) {
        return address(_usdc);
    }

    /// @inheritdoc IOptionMarketViews
    function accountState(uint256 accountId) external view returns (AccountState memory st) {
        Account storage a = _accounts[accountId];
        if (a.owner == address(0)) revert AccountNotFound(accountId);
        Ctx memory ctx = _newCtx(false);
        Margin memory m = _accountMargin(ctx, accountId, true);
        st.accountId = accountId;
        st.owner = a.owner;
        st.collateralE6 = a.collateralE6;
        st.equityE6 = m.equityE6;
        st.initialMarginE6 = m.initialE6;
        st.maintenanceMarginE6 = m.maintenanceE6;
        uint256 n = a.positions.length;
        st.positions = new PositionState[](n);
        for (uint256 i; i < n; ++i) {
            st.positions[i] = _positionState(ctx, a.positions[i]);
        }
        st.fresh = ctx.fresh;
    }

    function _positionState(Ctx memory ctx, Position memory p)
        internal
        view
        returns (PositionState memory ps)
    {
        Series memory s = _series[p.seriesId];
        ps.seriesId = p.seriesId;
        ps.underlyingId = s.underlyingId;
        ps.asset = _underlyings[s.underlyingId].asset;
        ps.expiry = s.expiry;
        ps.strikeWad = s.strikeWad;
        ps.isCall = s.isCall;
        ps.sizeWad = p.sizeWad;
        if (s.expiry <= block.timestamp) {
            ps.expired = true;
            (ps.markPriceWad, ps.settlementPriceWad) = _expiredPrice(ctx, s);
        } else {
            (ps.markPriceWad, ps.volWad) = _mark(ctx, s);
        }
        ps.markValueE6 = _valueE6(p.sizeWad, ps.markPriceWad);
    }

    /// @inheritdoc IOptionMarketViews
    function marginOf(uint256 accountId)
        external
        view
        returns (int256 equityE6, uint256 initialMarginE6, uint256 maintenanceMarginE6)
    {
        if (_accounts[accountId].owner == address(0)) revert AccountNotFound(accountId);
        Margin memory m = _accountMargin(_newCtx(true), accountId, true);
        return (m.equityE6, m.initialE6, m.maintenanceE6);
    }

    /// @inheritdoc IOptionMarketViews
    function equityOf(uint256 accountId) external view returns (int256 equityE6, bool fresh) {
        uint256[] memory ids = new uint256[](1);
        ids[0] = accountId;
        return _equities(ids);
    }

    /// @inheritdoc IOptionMarketViews
    function equitiesOf(uint256[] memory accountIds) external view returns (int256 equityE6, bool fresh) {
        return _equities(accountIds);
    }

    /// @dev Σ of the accounts' equities, each net of the pool's haircuts on its longs; the pool's haircut (a
    ///      valuation of the pool's book) is computed once, and only if an account holds a long not yet settled.
    function _equities(uint256[] memory ids) internal view returns (int256 equityE6, bool fresh) {
        Ctx memory ctx = _newCtx(false);
        uint256 haircutWad = type(uint256).max; // not computed yet
        for (uint256 k; k < ids.length; ++k) {
            uint256 accountId = ids[k];
            if (_accounts[accountId].owner == address(0)) revert AccountNotFound(accountId);
            equityE6 += _accountMargin(ctx, accountId, false).equityE6;
            Position[] storage ps = _accounts[accountId].positions;
            uint256 n = ps.length;
            Holding[] memory longs = new Holding[](n);
            bool pending = false;
            for (uint256 i; i < n; ++i) {
                Position memory p = ps[i];
                if (p.sizeWad <= 0) continue;
                Series memory s = _series[p.seriesId];
                ExpiryInfo memory info = _expiries[s.underlyingId][s.expiry];
                if (info.settlementPriceWad != 0) {
                    // A long of a settled expiry: paid net of the haircut fixed then (as _realize pays it).
                    int256 payoutE6 = _valueE6(p.sizeWad, _payoff(s, info.settlementPriceWad));
                    equityE6 -= payoutE6 - _cut(payoutE6, info.haircutWad);
                } else {
                    longs[i] = Holding(p.seriesId, p.sizeWad);
                    pending = true;
                }
            }
            if (!pending) continue;
            if (haircutWad == type(uint256).max) haircutWad = _poolHaircutWad(ctx);
            // 0 = the pool is solvent (a sentinel, not a balance comparison).
            // slither-disable-next-line incorrect-equality
            if (haircutWad == 0) continue;
            // Live and expired-pending longs: their value at the same marks, less the pool's haircut now.
            int256 valueE6 = _margin(ctx, longs, 0, false).equityE6;
            equityE6 -= valueE6 - _cut(valueE6, haircutWad);
        }
        fresh = ctx.fresh;
    }

    /// @inheritdoc IOptionMarketViews
    function poolHaircutWad() external view returns (uint256) {
        return _poolHaircutWad(_newCtx(false));
    }

    /// @inheritdoc IOptionMarketViews
    function accountCount() external view returns (uint256) {
        return _accountCount;
    }

    /// @inheritdoc IOptionMarketViews
    function positionOf(uint256 accountId, uint256 seriesId) external view returns (int256) {
        return _positionOf(accountId, seriesId);
    }

    /// @inheritdoc IOptionMarketViews
    function holdingsOf(uint256 accountId)
        external
        view
        returns (
            int256 collateralE6,
            uint256[] memory seriesIds,
            int256[] memory sizesWad,
            Series[] memory seriesParams
        )
    {
        Account storage a = _accounts[accountId];
        if (a.owner == address(0)) revert AccountNotFound(accountId);
        uint256 n = a.positions.length;
        seriesIds = new uint256[](n);
        sizesWad = new int256[](n);
        seriesParams = new Series[](n);
        for (uint256 i; i < n; ++i) {
            Position memory p = a.positions[i];
            (seriesIds[i], sizesWad[i], seriesParams[i]) = (p.seriesId, p.sizeWad, _series[p.seriesId]);
        }
        collateralE6 = a.collateralE6;
    }

    /* VIEWS: MARKET DATA */

    /// @inheritdoc IOptionMarketViews
    function underlyingCount() external view returns (uint256) {
        return _underlyings.length;
    }

    /// @inheritdoc IOptionMarketViews
    function underlying(uint256 underlyingId) external view returns (Underlying memory) {
        _underlyingExists(underlyingId);
        return _underlyings[underlyingId];
    }

    /// @inheritdoc IOptionMarketViews
    function spot(uint256 underlyingId) external view returns (uint256 spotWad, uint256 updatedAt) {
        _underlyingExists(underlyingId);
        return _readFeed(underlyingId);
    }

    /// @inheritdoc IOptionMarketViews
    function seriesCount() external view returns (uint256) {
        return _seriesCount;
    }

    /// @inheritdoc IOptionMarketViews
    function series(uint256 seriesId) external view returns (Series memory) {
        return _existingSeries(seriesId);
    }

    /// @inheritdoc IOptionMarketViews
    function seriesIdOf(uint256 underlyingId, uint64 expiry, uint128 strikeWad, bool isCall)
        external
        view
        returns (uint256)
    {
        return _seriesIds[keccak256(abi.encode(underlyingId, expiry, strikeWad, isCall))];
    }

    /// @inheritdoc IOptionMarketViews
    function liveSeries() external view returns (uint256[] memory ids) {
        uint32[] memory live = _live;
        ids = new uint256[](live.length);
        for (uint256 i; i < live.length; ++i) {
            ids[i] = live[i];
        }
    }

    /// @inheritdoc IOptionMarketViews
    function volSurface(uint256 underlyingId, uint64 expiry) external view returns (VolSurface memory) {
        return _vols[underlyingId][expiry];
    }

    /// @inheritdoc IOptionMarketViews
    function volOf(uint256 seriesId) external view returns (uint256 volWad) {
        Series memory s = _existingSeries(seriesId);
        if (s.expiry <= block.timestamp) return 0;
        (, volWad) = _mark(_newCtx(false), s);
    }

    /// @inheritdoc IOptionMarketViews
    function markPrice(uint256 seriesId) external view returns (uint256 markPriceWad) {
        Series memory s = _existingSeries(seriesId);
        Ctx memory ctx = _newCtx(false);
        if (s.expiry <= block.timestamp) {
            (markPriceWad,) = _expiredPrice(ctx, s);
        } else {
            (markPriceWad,) = _mark(ctx, s);
        }
    }

    /// @inheritdoc IOptionMarketViews
    function settlementPrice(uint256 underlyingId, uint64 expiry) external view returns (uint256) {
        return _expiries[underlyingId][expiry].settlementPriceWad;
    }

    /// @inheritdoc IOptionMarketViews
    function riskParams() external view returns (RiskParams memory) {
        return _risk;
    }

    /// @inheritdoc IOptionMarketViews
    function marketParams() external view returns (MarketParams memory) {
        return _market;
    }

    /* VIEWS: POOL */

    /// @inheritdoc IOptionMarketViews
    function poolState() external view returns (PoolState memory st) {
        Margin memory m = _poolMargin(_newCtx(false), true);
        st.cashE6 = _poolCashE6;
        st.equityE6 = m.equityE6;
        st.initialMarginE6 = m.initialE6;
        st.maintenanceMarginE6 = m.maintenanceE6;
        st.totalShares = _totalShares;
        st.badDebtE6 = _badDebtE6;
        st.liveSeries = _live.length;
        st.fresh = m.fresh;
    }

    /// @inheritdoc IOptionMarketViews
    function poolPositionOf(uint256 seriesId) external view returns (int256) {
        return _poolSize[seriesId];
    }

    /// @inheritdoc IOptionMarketViews
    function sharesOf(address provider) external view returns (uint256) {
        return _shares[provider];
    }

    /* VIEWS: CONSTANTS */

    /// @inheritdoc IOptionMarketConstants
    function LISTER_ROLE() external pure returns (bytes32) {
        return _LISTER_ROLE;
    }

    /// @inheritdoc IOptionMarketConstants
    function VOL_FEEDER_ROLE() external pure returns (bytes32) {
        return _VOL_FEEDER_ROLE;
    }

    /// @inheritdoc IOptionMarketConstants
    function GUARDIAN_ROLE() external pure returns (bytes32) {
        return _GUARDIAN_ROLE;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_POSITIONS() external pure returns (uint256) {
        return _MAX_POSITIONS;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_LIVE_SERIES() external pure returns (uint256) {
        return _MAX_LIVE_SERIES;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_UNDERLYINGS() external pure returns (uint256) {
        return _MAX_UNDERLYINGS;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_TRADE_SIZE_WAD() external pure returns (uint256) {
        return _MAX_TRADE_SIZE_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_POSITION_SIZE_WAD() external pure returns (uint256) {
        return _MAX_POSITION_SIZE_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MIN_LISTING_SECONDS() external pure returns (uint256) {
        return _MIN_LISTING_SECONDS;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_EXPIRY_SECONDS() external pure returns (uint256) {
        return _MAX_EXPIRY_SECONDS;
    }

    /// @inheritdoc IOptionMarketConstants
    function MIN_STRIKE_RATIO_WAD() external pure returns (uint256) {
        return _MIN_STRIKE_RATIO_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_STRIKE_RATIO_WAD() external pure returns (uint256) {
        return _MAX_STRIKE_RATIO_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_STRIKE_WAD() external pure returns (uint256) {
        return _MAX_STRIKE_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MIN_VOL_WAD() external pure returns (uint256) {
        return _MIN_VOL_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_VOL_WAD() external pure returns (uint256) {
        return _MAX_VOL_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_SKEW_WAD() external pure returns (uint256) {
        return _MAX_SKEW_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_SMILE_WAD() external pure returns (uint256) {
        return _MAX_SMILE_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function MIN_VOL_MULTIPLIER_WAD() external pure returns (uint256) {
        return _MIN_VOL_MULTIPLIER_WAD;
    }

    /// @inheritdoc IOptionMarketConstants
    function VOL_SHOCK_REFERENCE_SECONDS() external pure returns (uint256) {
        return _VOL_SHOCK_REFERENCE_SECONDS;
    }

    /// @inheritdoc IOptionMarketConstants
    function MIN_PRICE_AGE_SECONDS() external pure returns (uint256) {
        return _MIN_PRICE_AGE_SECONDS;
    }

    /// @inheritdoc IOptionMarketConstants
    function MAX_PRICE_AGE_SECONDS() external pure returns (uint256) {
        return _MAX_PRICE_AGE_SECONDS;
    }

    /* PENDING SETTLEMENT */

    /// @dev The answer of the feed's first round at or after `expiry` (the only round settleExpiry accepts: its
    ///      predecessor is before expiry), found by bisection over the latest phase's round ids (Chainlink's
    ///      phaseId << 64 | round; settleExpiry's `roundId − 1` stays in one phase too). 0 while the newest round
    ///      is before expiry, and whenever a read fails or answers ≤ 0 (settleExpiry would revert too): the
    ///      caller then values at spot. O(log rounds) reads, only for expired, unsettled positions.
    function _pendingSettlementWad(uint256 underlyingId, uint256 expiry)
        internal
        view
        override
        returns (uint256)
    {
        Underlying memory u = _underlyings[underlyingId];
        (bool ok, uint80 hi, int256 answer, uint256 at) = _round(u.feed, 0, true);
        if (!ok || at < expiry) return 0;
        uint80 lo = uint80((uint256(hi) >> 64) << 64); // invariant: round lo is before expiry (or is no round)
        while (hi - lo > 1) {
            uint80 mid = lo + (hi - lo) / 2;
            (ok,,, at) = _round(u.feed, mid, false);
            if (!ok) return 0;
            if (at >= expiry) hi = mid;
            else lo = mid;
        }
        (ok,, answer,) = _round(u.feed, hi, false);
        return ok && answer > 0 ? _toWad(uint256(answer), u.feedDecimals) : 0;
    }

    /// @dev One round of `feed` (the latest if `latest`) by staticcall: a view must not revert on a feed.
    function _round(address feed, uint80 roundId, bool latest)
        internal
        view
        returns (bool ok, uint80 id, int256 answer, uint256 updatedAt)
    {
        bytes memory ret;
        // slither-disable-next-line low-level-calls
        (ok, ret) = feed.staticcall(
            latest
                ? abi.encodeCall(IAggregatorV3.latestRoundData, ())
                : abi.encodeCall(IAggregatorV3.getRoundData, (roundId))
        );
        if (!ok || ret.length < 160) return (false, 0, 0, 0);
        // Round ids and timestamps as Chainlink returns them; startedAt and answeredInRound are not used.
        // slither-disable-next-line unused-return
        (id, answer,, updatedAt,) = abi.decode(ret, (uint80, int256, uint256, uint256, uint80));
    }

    /* FACET CHAIN */

    /// @dev Pool and governance selectors run in OptionMarketGovernance.
    function _implementation() internal view override returns (address) {
        return NEXT;
    }
}
