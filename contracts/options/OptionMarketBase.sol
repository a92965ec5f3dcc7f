// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IOptionMarketErrors} from "../interfaces/options/IOptionMarketErrors.sol";
import {IOptionMarketEvents} from "../interfaces/options/IOptionMarketEvents.sol";
import {BlackScholesLib} from "./libraries/BlackScholesLib.sol";
import {MarginLib} from "./libraries/MarginLib.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";
import {LibSort} from "solady/utils/LibSort.sol";

/// @title OptionMarketBase
/// @notice Storage, constants, oracle reads and the portfolio loader of the OptionMarket: everything that turns
///         stored positions into a `MarginLib.Book` and a margin result. No state-changing entry points.
/// @dev Freshness has two modes. `strict` (every mutation and `marginOf`): a stale spot, a stale or missing vol
///      surface, or an expired position without a settlement price reverts. Not strict (state views): the same
///      numbers are computed with the inputs at hand and `fresh` turns false.
abstract contract OptionMarketBase is
    IOptionMarketErrors,
    IOptionMarketEvents,
    AccessControl,
    Pausable,
    ReentrancyGuard
{
    using SafeCast for uint256;
    using SafeCast for int256;

    /* CONSTANTS */

    bytes32 internal constant _LISTER_ROLE = keccak256("LISTER_ROLE");
    bytes32 internal constant _VOL_FEEDER_ROLE = keccak256("VOL_FEEDER_ROLE");
    bytes32 internal constant _GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Open positions per account (bounds the margin check's gas).
    uint256 internal constant _MAX_POSITIONS = 64;
    /// @notice Listed, unsettled series (the pool holds all of them; bounds the pool's margin check).
    uint256 internal constant _MAX_LIVE_SERIES = 128;
    uint256 internal constant _MAX_UNDERLYINGS = 8;
    /// @notice Largest |size| of one trade, and of any account's or the pool's position (1e27 = 1e9 units).
    uint256 internal constant _MAX_TRADE_SIZE_WAD = 1e24;
    uint256 internal constant _MAX_POSITION_SIZE_WAD = 1e27;
    uint256 internal constant _MIN_LISTING_SECONDS = 1 hours;
    uint256 internal constant _MAX_EXPIRY_SECONDS = 730 days;
    uint256 internal constant _MIN_STRIKE_RATIO_WAD = 0.2e18;
    uint256 internal constant _MAX_STRIKE_RATIO_WAD = 5e18;
    uint256 internal constant _MAX_STRIKE_WAD = 1e25;
    uint256 internal constant _MIN_VOL_WAD = 0.01e18;
    uint256 internal constant _MAX_VOL_WAD = 5e18;
    uint256 internal constant _MAX_SKEW_WAD = 2e18;
    uint256 internal constant _MAX_SMILE_WAD = 5e18;
    /// @notice Floor of the "vol down" scenario multiplier.
    uint256 internal constant _MIN_VOL_MULTIPLIER_WAD = 0.1e18;
    /// @notice τ at which vol shocks equal their parameter (they scale with √(30 days / τ)).
    uint256 internal constant _VOL_SHOCK_REFERENCE_SECONDS = 30 days;
    uint256 internal constant _MIN_PRICE_AGE_SECONDS = 60;
    uint256 internal constant _MAX_PRICE_AGE_SECONDS = 2 days;

    /// @dev Pool shares: virtual offset against share-price manipulation of an empty pool (1 USDC ↔ 1e18 shares).
    uint256 internal constant _VIRTUAL_SHARES = 1e18;
    uint256 internal constant _VIRTUAL_ASSETS_E6 = 1e6;
    uint256 internal constant WAD = 1e18;
    int256 internal constant IWAD = 1e18;
    /// @dev WAD USD → USDC E6.
    int256 internal constant _WAD_PER_E6 = 1e12;

    /* IMMUTABLES */

    IERC20 internal immutable _usdc;

    /* STORAGE (the market and its facets share this layout: none adds storage) */

    struct ExpiryInfo {
        uint128 settlementPriceWad; // 0 until settled
        uint32 liveSeries; // series listed for this expiry (all retired together at settlement)
        bool listed;
        // Share of every long payout of this expiry the pool keeps (WAD, rounded up; 0 = paid in full): the pool's
        // haircut at settlement, when its equity was negative (see `_poolHaircutWad`).
        uint64 haircutWad;
    }

    struct Position {
        uint32 seriesId;
        int128 sizeWad;
    }

    struct Account {
        address owner;
        int256 collateralE6;
        Position[] positions;
    }

    // Slither's uninitialized-state checks each contract alone. Every variable below is written, in the
    // market's storage, by the facet named beside it and read by the others (one layout, checked by
    // tests/venue/test_artifacts.py). Each is triaged on its own line: one added later is checked again.
    RiskParams internal _risk; // core constructor, Governance.setRiskParams
    MarketParams internal _market; // core constructor, Governance.setMarketParams

    // slither-disable-next-line uninitialized-state
    Underlying[] internal _underlyings; // Governance: addUnderlying, setMaxPriceAge
    // slither-disable-next-line uninitialized-state
    mapping(uint256 seriesId => Series) internal _series; // Governance.listSeries
    // slither-disable-next-line uninitialized-state
    uint256 internal _seriesCount; // Governance.listSeries
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 key => uint256 seriesId) internal _seriesIds; // Governance.listSeries
    // Governance: listSeries, settleExpiry. Packed 8 per slot: the pool loader reads it on every trade.
    // slither-disable-next-line uninitialized-state
    uint32[] internal _live;
    mapping(uint256 seriesId => uint256 slot) internal _liveSlot; // index + 1 in _live
    // Governance: listSeries, settleExpiry.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 underlyingId => mapping(uint256 expiry => ExpiryInfo)) internal _expiries;
    // Governance.postVolSurface.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 underlyingId => mapping(uint256 expiry => VolSurface)) internal _vols;

    // slither-disable-next-line uninitialized-state
    mapping(uint256 accountId => Account) internal _accounts; // core: accounts, collateral, positions
    // slither-disable-next-line uninitialized-state
    uint256 internal _accountCount; // core.openAccount
    // Core: trades, liquidations, settlement. Index + 1 in the account's positions.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 accountId => mapping(uint256 seriesId => uint256 slot)) internal _positionSlot;
    // slither-disable-next-line uninitialized-state
    mapping(address owner => uint256[]) internal _accountsOf; // core.openAccount

    // slither-disable-next-line uninitialized-state
    int256 internal _poolCashE6; // core: trades, liquidations; Governance: settleExpiry, LP flows
    // slither-disable-next-line uninitialized-state
    mapping(uint256 seriesId => int256) internal _poolSize; // core: trades, liquidations
    // slither-disable-next-line uninitialized-state
    uint256 internal _totalShares; // Governance: LP flows
    // slither-disable-next-line uninitialized-state
    mapping(address provider => uint256) internal _shares; // Governance: LP flows
    // slither-disable-next-line uninitialized-state
    uint256 internal _badDebtE6; // core: bad-debt absorption
    // Σ of the accounts' long sizes per series (the pool's gross obligations; core: trades, liquidations).
    // slither-disable-next-line uninitialized-state
    mapping(uint256 seriesId => uint256) internal _longOpenWad;

    /* WORKING STATE (memory) */

    /// @dev Oracle reads of one operation, cached per underlying.
    struct Ctx {
        bool strict;
        bool fresh;
        uint256[] spotWad; // 0 = not read yet
    }

    /// @dev A position to load: series and signed size.
    struct Holding {
        uint256 seriesId;
        int256 sizeWad;
    }

    /// @dev Equity and margins in USDC (equity rounded down, margins up).
    struct Margin {
        int256 equityE6;
        uint256 initialE6;
        uint256 maintenanceE6;
        bool fresh;
    }

    /// @dev The (underlying, expiry) group being filled while loading a book.
    struct Group {
        uint256 underlyingId;
        uint256 expiry;
        uint256 sqrtTauWad;
        VolSurface surface;
        uint256 lastStrikeWad;
    }

    /* CONSTRUCTOR */

    constructor(IERC20 usdc_) {
        if (address(usdc_) == address(0)) revert ZeroAddress();
        _usdc = usdc_;
    }

    /// @notice The collateral token this contract was built for (lets facets check each other at deployment).
    function collateralToken() external view returns (address) {
        return address(_usdc);
    }

    /* ORACLES */

    function _newCtx(bool strict) internal view returns (Ctx memory ctx) {
        ctx.strict = strict;
        ctx.fresh = true;
        ctx.spotWad = new uint256[](_underlyings.length);
    }

    /// @dev Spot in WAD, read once per operation; staleness reverts (strict) or clears `fresh`.
    function _spot(Ctx memory ctx, uint256 underlyingId) internal view returns (uint256 spotWad) {
        spotWad = ctx.spotWad[underlyingId];
        if (spotWad != 0) return spotWad;
        uint256 updatedAt;
        (spotWad, updatedAt) = _readFeed(underlyingId);
        Underlying memory u = _underlyings[underlyingId];
        if (block.timestamp > updatedAt + u.maxPriceAgeSeconds) {
            if (ctx.strict) revert StalePrice(u.feed, updatedAt, u.maxPriceAgeSeconds);
            ctx.fresh = false;
        }
        ctx.spotWad[underlyingId] = spotWad;
    }

    /// @dev Latest feed answer in WAD and its timestamp; a non-positive answer always reverts.
    function _readFeed(uint256 underlyingId) internal view returns (uint256 spotWad, uint256 updatedAt) {
        Underlying memory u = _underlyings[underlyingId];
        int256 answer;
        // Round ids and startedAt are not used: freshness is judged on updatedAt (answeredInRound is deprecated).
        // slither-disable-next-line unused-return
        (, answer,, updatedAt,) = IAggregatorV3(u.feed).latestRoundData();
        if (answer <= 0) revert InvalidPrice(u.feed, answer);
        spotWad = _toWad(answer.toUint256(), u.feedDecimals);
    }

    function _toWad(uint256 answer, uint8 decimals) internal pure returns (uint256) {
        return decimals <= 18 ? answer * 10 ** (18 - decimals) : answer / 10 ** (decimals - 18);
    }

    /// @dev The surface of (underlying, expiry); missing or stale reverts (strict) or clears `fresh`.
    function _surface(Ctx memory ctx, uint256 underlyingId, uint256 expiry)
        internal
        view
        returns (VolSurface memory s)
    {
        s = _vols[underlyingId][expiry];
        uint256 maxAge = _market.volMaxAgeSeconds;
        if (s.updatedAt == 0 || block.timestamp > s.updatedAt + maxAge) {
            if (ctx.strict) revert StaleVolSurface(underlyingId, expiry, s.updatedAt, maxAge);
            ctx.fresh = false;
        }
    }

    /* PRICING */

    /// @dev Forward and discount factor at τ (WAD) with the market rate.
    function _forward(uint256 spotWad, uint256 tauWad)
        internal
        view
        returns (uint256 forwardWad, uint256 discountWad)
    {
        int256 rt = (uint256(_market.rateWad) * tauWad / WAD).toInt256();
        forwardWad = spotWad * uint256(FixedPointMathLib.expWad(rt)) / WAD;
        discountWad = uint256(FixedPointMathLib.expWad(-rt));
    }

    /// @dev Surface vol of strike K at forward F: k = ln(K/F) = −ln(F/K).
    function _vol(VolSurface memory s, int256 logFwdOverStrikeWad) internal pure returns (uint256) {
        return BlackScholesLib.surfaceVol(
            s.atmVolWad, s.skewWad, s.smileWad, -logFwdOverStrikeWad, _MIN_VOL_WAD, _MAX_VOL_WAD
        );
    }

    /// @dev Mid price and vol of a live series per unit (WAD).
    function _mark(Ctx memory ctx, Series memory s) internal view returns (uint256 priceWad, uint256 volWad) {
        uint256 spotWad = _spot(ctx, s.underlyingId);
        uint256 tauWad = BlackScholesLib.yearFraction(s.expiry - block.timestamp);
        (uint256 forwardWad,) = _forward(spotWad, tauWad);
        volWad = _vol(_surface(ctx, s.underlyingId, s.expiry), _logRatio(forwardWad, s.strikeWad));
        priceWad = BlackScholesLib.price(spotWad, s.strikeWad, tauWad, volWad, _market.rateWad, s.isCall);
    }

    /// @dev Payoff per unit at `priceWad`.
    function _payoff(Series memory s, uint256 priceWad) internal pure returns (uint256) {
        if (s.isCall) return priceWad > s.strikeWad ? priceWad - s.strikeWad : 0;
        return s.strikeWad > priceWad ? s.strikeWad - priceWad : 0;
    }

    /// @dev Value per unit of an expired series: payoff at the settlement price; until it is fixed (not strict), at
    ///      the price `settleExpiry` will fix (the feed's first round at or after expiry) once that round is on
    ///      chain, so settling never steps a holder's equity (issue 19, finding 1), and at spot before it.
    function _expiredPrice(Ctx memory ctx, Series memory s)
        internal
        view
        returns (uint256 priceWad, uint256 settled)
    {
        settled = _expiries[s.underlyingId][s.expiry].settlementPriceWad;
        if (settled == 0) {
            if (ctx.strict) revert ExpiryNotSettled(s.underlyingId, s.expiry);
            ctx.fresh = false;
            uint256 pending = _pendingSettlementWad(s.underlyingId, s.expiry);
            return (_payoff(s, pending != 0 ? pending : _spot(ctx, s.underlyingId)), 0);
        }
        return (_payoff(s, settled), settled);
    }

    /// @dev The price `settleExpiry` would fix now for (underlying, expiry), 0 while its round is not on chain.
    ///      Reached only by non-strict reads, which the view facet serves (it overrides this); the other facets
    ///      read strictly, so they keep this stub and their code size.
    function _pendingSettlementWad(uint256, uint256) internal view virtual returns (uint256) {
        return 0;
    }

    function _logRatio(uint256 numWad, uint256 denWad) internal pure returns (int256) {
        return FixedPointMathLib.lnWad((numWad * WAD / denWad).toInt256());
    }

    /* PORTFOLIO LOADING */

    /// @dev Equity and margins of holdings plus cash (`withGrid` false: equity only).
    function _margin(Ctx memory ctx, Holding[] memory h, int256 cashE6, bool withGrid)
        internal
        view
        returns (Margin memory m)
    {
        (MarginLib.Book memory book, int256 expiredWad) = _book(ctx, h);
        int256 valueWad;
        if (book.expiryCount == 0) {
            valueWad = 0;
        } else if (withGrid) {
            RiskParams memory r = _risk;
            MarginLib.Result memory res = MarginLib.evaluate(
                book, MarginLib.grid(r.spotShockWad, r.spotSteps), r.minShortMarginWad, r.imFactorWad
            );
            valueWad = res.valueWad;
            m.maintenanceE6 = _ceilE6(res.maintenanceWad);
            m.initialE6 = _ceilE6(res.initialWad);
        } else {
            valueWad = MarginLib.markValue(book);
        }
        m.equityE6 = cashE6 + _floorE6(valueWad + expiredWad);
        m.fresh = ctx.fresh;
    }

    /// @dev Groups holdings by (underlying, expiry, strike) and precomputes every per-expiry and per-leg term.
    ///      Expired holdings are valued at their payoff (`expiredWad`) and left out of the grid.
    function _book(Ctx memory ctx, Holding[] memory h)
        internal
        view
        returns (MarginLib.Book memory book, int256 expiredWad)
    {
        uint256 n = h.length;
        Series[] memory ser = new Series[](n);
        uint256[] memory keys = new uint256[](n); // live holdings; zeros (skipped) sort first
        uint256 live = 0;
        for (uint256 i; i < n; ++i) {
            if (h[i].sizeWad == 0) continue;
            Series memory s = _series[h[i].seriesId];
            ser[i] = s;
            if (s.expiry <= block.timestamp) {
                (uint256 p,) = _expiredPrice(ctx, s);
                expiredWad += h[i].sizeWad * p.toInt256() / IWAD;
                continue;
            }
            keys[i] = (uint256(s.underlyingId) << 240) | (uint256(s.expiry) << 176)
                | (uint256(s.strikeWad) << 48) | i;
            ++live;
        }
        uint256 nu = _underlyings.length;
        book.spotWad = new uint256[](nu);
        book.shortSizeWad = new uint256[](nu);
        book.legs = new MarginLib.Leg[](live);
        book.expiries = new MarginLib.Expiry[](live);
        if (live == 0) return (book, expiredWad);
        LibSort.sort(keys);
        // The first live holding opens the first group (book.expiryCount == 0), so g's zeros are never compared.
        Group memory g = Group(0, 0, 0, VolSurface(0, 0, 0, 0), 0);
        uint256 legs = 0;
        for (uint256 k = n - live; k < n; ++k) {
            uint256 i = keys[k] & type(uint48).max;
            Series memory s = ser[i];
            if (book.expiryCount == 0 || s.underlyingId != g.underlyingId || s.expiry != g.expiry) {
                if (book.expiryCount != 0) book.expiries[book.expiryCount - 1].legEnd = legs;
                _openExpiry(ctx, book, g, s);
                book.expiries[book.expiryCount - 1].legStart = legs;
            }
            MarginLib.Expiry memory ex = book.expiries[book.expiryCount - 1];
            if (legs == ex.legStart || s.strikeWad != g.lastStrikeWad) {
                _openLeg(book.legs[legs], ex, g, s.strikeWad);
                ++legs;
            }
            int256 size = h[i].sizeWad;
            int256 notional = size * int256(uint256(s.strikeWad)) / IWAD;
            book.legs[legs - 1].callNotionalWad += notional;
            if (!s.isCall) {
                ex.putSizeWad += size;
                ex.putNotionalWad += notional;
            }
            if (size < 0) book.shortSizeWad[s.underlyingId] += SignedMath.abs(size);
        }
        book.expiries[book.expiryCount - 1].legEnd = legs;
    }

    /// @dev Starts a new (underlying, expiry) group: spot, τ, forward, discount, vol multipliers, surface.
    function _openExpiry(Ctx memory ctx, MarginLib.Book memory book, Group memory g, Series memory s)
        internal
        view
    {
        uint256 spotWad = _spot(ctx, s.underlyingId);
        book.spotWad[s.underlyingId] = spotWad;
        uint256 secondsLeft = s.expiry - block.timestamp;
        uint256 tauWad = BlackScholesLib.yearFraction(secondsLeft);
        MarginLib.Expiry memory ex = book.expiries[book.expiryCount++];
        ex.underlyingId = s.underlyingId;
        (ex.forwardWad, ex.discountWad) = _forward(spotWad, tauWad);
        (ex.volUpWad, ex.volDownWad) = _volMultipliers(secondsLeft);
        g.underlyingId = s.underlyingId;
        g.expiry = s.expiry;
        g.sqrtTauWad = FixedPointMathLib.sqrtWad(tauWad);
        g.surface = _surface(ctx, s.underlyingId, s.expiry);
    }

    /// @dev Per-leg terms at the current forward.
    function _openLeg(MarginLib.Leg memory leg, MarginLib.Expiry memory ex, Group memory g, uint256 strikeWad)
        internal
        pure
    {
        int256 a = _logRatio(ex.forwardWad, strikeWad);
        uint256 s = _vol(g.surface, a) * g.sqrtTauWad / WAD;
        leg.logMoneynessWad = a;
        leg.forwardOverStrikeWad = ex.forwardWad * WAD / strikeWad;
        leg.stdDevWad = s;
        leg.invStdDevWad = 1e36 / s;
        g.lastStrikeWad = strikeWad;
    }

    /// @notice Vol multipliers of the up and down scenarios at `secondsLeft` to expiry:
    ///         1 ± shock·√(30 days / max(τ, floor)), the down one floored at MIN_VOL_MULTIPLIER_WAD.
    function _volMultipliers(uint256 secondsLeft) internal view returns (uint256 upWad, uint256 downWad) {
        RiskParams memory r = _risk;
        uint256 t = secondsLeft > r.volShockFloorSeconds ? secondsLeft : r.volShockFloorSeconds;
        uint256 scaleWad = FixedPointMathLib.sqrt(_VOL_SHOCK_REFERENCE_SECONDS * 1e36 / t);
        upWad = WAD + uint256(r.volShockUpWad) * scaleWad / WAD;
        uint256 down = uint256(r.volShockDownWad) * scaleWad / WAD;
        downWad = down + _MIN_VOL_MULTIPLIER_WAD >= WAD ? _MIN_VOL_MULTIPLIER_WAD : WAD - down;
    }

    /* HOLDINGS */

    /// @dev An account's positions, with `deltaWad` subtracted from `seriesId` (to rebuild the state before a trade;
    ///      a position the trade closed comes back as an extra holding).
    function _accountHoldings(uint256 accountId, uint256 seriesId, int256 deltaWad)
        internal
        view
        returns (Holding[] memory h)
    {
        Position[] storage ps = _accounts[accountId].positions;
        uint256 n = ps.length;
        h = new Holding[](n + 1);
        bool found = false;
        for (uint256 i; i < n; ++i) {
            Position memory p = ps[i];
            if (p.seriesId == seriesId) {
                found = true;
                h[i] = Holding(seriesId, p.sizeWad - deltaWad);
            } else {
                h[i] = Holding(p.seriesId, p.sizeWad);
            }
        }
        h[n] = Holding(seriesId, found ? int256(0) : -deltaWad);
    }

    /// @dev The pool's positions (every live series it holds), with `deltaWad` subtracted from `seriesId`.
    function _poolHoldings(uint256 seriesId, int256 deltaWad) internal view returns (Holding[] memory h) {
        uint32[] memory live = _live;
        uint256 n = live.length;
        h = new Holding[](n);
        for (uint256 i; i < n; ++i) {
            uint256 id = live[i];
            int256 size = _poolSize[id];
            h[i] = Holding(id, id == seriesId ? size - deltaWad : size);
        }
    }

    function _accountMargin(Ctx memory ctx, uint256 accountId, bool withGrid)
        internal
        view
        returns (Margin memory)
    {
        return _margin(ctx, _accountHoldings(accountId, 0, 0), _accounts[accountId].collateralE6, withGrid);
    }

    function _poolMargin(Ctx memory ctx, bool withGrid) internal view returns (Margin memory) {
        return _margin(ctx, _poolHoldings(0, 0), _poolCashE6, withGrid);
    }

    /// @dev The pool's haircut on what it owes the accounts' long positions (WAD, rounded up, ≤ 1): 0 while the
    ///      pool's equity (cash + its positions at the marks) is ≥ 0; else its shortfall over the value of every
    ///      long the accounts hold of a live series (`_longOpenWad`), so each long is worth mark × (1 − haircut) and
    ///      the pool's creditors share the shortfall pro rata (issue 19, item 6b). The accounts' shorts and their
    ///      collateral are not cut. Marks as in the caller's context (not strict: the views' marks).
    function _poolHaircutWad(Ctx memory ctx) internal view returns (uint256) {
        return _haircutWad(ctx, _poolHoldings(0, 0), _poolCashE6, 0, 0);
    }

    /// @dev `_poolHaircutWad` of a pool holding `pool` and `cashE6`, with the accounts' long size of `seriesId`
    ///      raised by `longWad`: the state before a trade, rebuilt after it (`_poolHoldings(seriesId, −delta)`).
    function _haircutWad(
        Ctx memory ctx,
        Holding[] memory pool,
        int256 cashE6,
        uint256 seriesId,
        uint256 longWad
    ) internal view returns (uint256) {
        if (_coversShorts(ctx, pool, cashE6)) return 0;
        int256 equityE6 = _margin(ctx, pool, cashE6, false).equityE6;
        if (equityE6 >= 0) return 0;
        uint32[] memory live = _live;
        Holding[] memory longs = new Holding[](live.length);
        for (uint256 i; i < live.length; ++i) {
            uint256 id = live[i];
            longs[i] = Holding(id, (_longOpenWad[id] + (id == seriesId ? longWad : 0)).toInt256());
        }
        int256 owedE6 = _margin(ctx, longs, 0, false).equityE6;
        uint256 shortfall = uint256(-equityE6);
        if (owedE6 <= 0 || shortfall >= uint256(owedE6)) return WAD;
        return FixedPointMathLib.mulDivUp(shortfall, WAD, uint256(owedE6));
    }

    /// @dev A proof that a pool holding `pool` and `cashE6` is solvent without pricing its book (see the core's
    ///      override); the facets keep this stub (`false`: the valuation decides) and their code size.
    function _coversShorts(Ctx memory, Holding[] memory, int256) internal view virtual returns (bool) {
        return false;
    }

    /// @dev `valueE6` less its `haircutWad` share, rounded up (what a long holder is paid of a pool claim).
    function _cut(int256 valueE6, uint256 haircutWad) internal pure returns (int256) {
        // A sign and a "no haircut" sentinel, not a balance comparison.
        // slither-disable-next-line incorrect-equality
        if (valueE6 <= 0 || haircutWad == 0) return valueE6;
        return valueE6 - FixedPointMathLib.mulDivUp(uint256(valueE6), haircutWad, WAD).toInt256();
    }

    /* ROUNDING (in the venue's favour: equity down, margins up) */

    function _floorE6(int256 wad) internal pure returns (int256) {
        return _floorDiv(wad, _WAD_PER_E6);
    }

    function _ceilE6(uint256 wad) internal pure returns (uint256) {
        return (wad + 1e12 - 1) / 1e12;
    }

    /// @dev size × price in USDC, rounded toward −∞ (a long's value or payout down, a short's debit up).
    function _valueE6(int256 sizeWad, uint256 priceWad) internal pure returns (int256) {
        return _floorDiv(sizeWad * priceWad.toInt256(), IWAD * _WAD_PER_E6);
    }

    /// @dev ⌊x / d⌋ for d > 0 (callers pass positive constants): `/` rounds toward zero, so a negative x is first
    ///      moved d − 1 further from zero.
    function _floorDiv(int256 x, int256 d) internal pure returns (int256) {
        return x >= 0 ? x / d : (x - d + 1) / d;
    }

    /* SHARED CHECKS */

    /// @dev Quote with fresh inputs inside the trading window (see MarketParams for the fee).
    function _quote(Ctx memory ctx, uint256 seriesId, uint256 sizeWad, bool isBuy)
        internal
        view
        returns (Quote memory q)
    {
        Series memory s = _existingSeries(seriesId);
        if (sizeWad == 0) revert ZeroAmount();
        if (sizeWad > _MAX_TRADE_SIZE_WAD) revert SizeOutOfBounds(sizeWad, _MAX_TRADE_SIZE_WAD);
        uint256 cutoff = _market.tradingCutoffSeconds;
        if (block.timestamp + cutoff >= s.expiry) revert TradingClosed(seriesId, s.expiry, cutoff);
        (q.markPriceWad, q.volWad) = _mark(ctx, s);
        q.spotWad = ctx.spotWad[s.underlyingId];
        uint256 feeWad = FixedPointMathLib.mulWadUp(_market.spotFeeWad, q.spotWad)
            + FixedPointMathLib.mulWadUp(_market.priceFeeWad, q.markPriceWad);
        uint256 markE6 = sizeWad * q.markPriceWad / 1e30;
        if (isBuy) {
            q.tradePriceWad = q.markPriceWad + feeWad;
            q.premiumE6 = FixedPointMathLib.mulDivUp(sizeWad, q.tradePriceWad, 1e30);
            q.feeE6 = q.premiumE6 - markE6;
        } else {
            q.tradePriceWad = q.markPriceWad > feeWad ? q.markPriceWad - feeWad : 0;
            q.premiumE6 = sizeWad * q.tradePriceWad / 1e30;
            q.feeE6 = markE6 - q.premiumE6;
        }
    }

    function _existingSeries(uint256 seriesId) internal view returns (Series memory s) {
        s = _series[seriesId];
        if (s.expiry == 0) revert SeriesNotFound(seriesId);
    }

    function _underlyingExists(uint256 underlyingId) internal view {
        if (underlyingId >= _underlyings.length) revert UnderlyingNotFound(underlyingId);
    }

    /// @dev An account's signed position in a series (0 if none).
    function _positionOf(uint256 accountId, uint256 seriesId) internal view returns (int256) {
        uint256 slot = _positionSlot[accountId][seriesId];
        return slot == 0 ? int256(0) : _accounts[accountId].positions[slot - 1].sizeWad;
    }

    /* PARAMETERS */

    function _setRiskParams(RiskParams memory p) internal {
        _bound("spotShockWad", p.spotShockWad, 0.05e18, 0.5e18);
        _bound("spotSteps", p.spotSteps, 1, 8);
        _bound("volShockUpWad", p.volShockUpWad, 0, 2e18);
        _bound("volShockDownWad", p.volShockDownWad, 0, 0.9e18);
        _bound("volShockFloorSeconds", p.volShockFloorSeconds, 1 days, 30 days);
        _bound("imFactorWad", p.imFactorWad, 1e18, 3e18);
        _bound("minShortMarginWad", p.minShortMarginWad, 0.001e18, 0.2e18);
        _bound("liquidationPenaltyWad", p.liquidationPenaltyWad, 0, 0.05e18);
        _risk = p;
        emit RiskParamsSet(p);
    }

    function _setMarketParams(MarketParams memory p) internal {
        _bound("rateWad", p.rateWad, 0, 0.25e18);
        _bound("spotFeeWad", p.spotFeeWad, 0, 0.01e18);
        _bound("priceFeeWad", p.priceFeeWad, 0, 0.2e18);
        _bound("volMaxAgeSeconds", p.volMaxAgeSeconds, 60, 2 days);
        _bound("tradingCutoffSeconds", p.tradingCutoffSeconds, 0, 1 days);
        _market = p;
        emit MarketParamsSet(p);
    }

    function _bound(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ParameterOutOfBounds(name, value, min, max);
    }
}
