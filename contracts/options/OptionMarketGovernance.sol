// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IOptionMarketGovernance} from "../interfaces/options/IOptionMarketGovernance.sol";
import {IOptionMarketPool} from "../interfaces/options/IOptionMarketPool.sol";
import {IOptionMarketViews} from "../interfaces/options/IOptionMarketViews.sol";
import {OptionMarketBase} from "./OptionMarketBase.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

/// @title OptionMarketGovernance
/// @notice The OptionMarket's pool facet (expiry settlement, LP liquidity) and governance facet (underlyings,
///         listing, vol feed, parameters, pause): the last link of the market's facet chain
///         (OptionMarket → OptionMarketViews → this), always run by DELEGATECALL in the market's storage.
/// @dev Called directly it sees its own empty storage and no roles, so it can do nothing.
contract OptionMarketGovernance is OptionMarketBase, IOptionMarketPool, IOptionMarketGovernance {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @param usdc_ Collateral token of the market this facet serves.
    constructor(IERC20 usdc_) OptionMarketBase(usdc_) {}

    /* ACCOUNT REGISTRY (served here for the core's code room) */

    /// @inheritdoc IOptionMarketGovernance
    function accountsOf(address owner) external view returns (uint256[] memory) {
        return _accountsOf[owner];
    }

    /// @inheritdoc IOptionMarketGovernance
    function ownerOf(uint256 accountId) external view returns (address) {
        return _accounts[accountId].owner;
    }

    /* SETTLEMENT (per expiry) */

    /// @inheritdoc IOptionMarketPool
    function settleExpiry(uint256 underlyingId, uint64 expiry, uint80 roundId) external nonReentrant {
        ExpiryInfo storage info = _expiries[underlyingId][expiry];
        if (!info.listed) revert ExpiryNotListed(underlyingId, expiry);
        if (info.settlementPriceWad != 0) revert ExpiryAlreadySettled(underlyingId, expiry);
        if (block.timestamp < expiry) revert ExpiryNotReached(expiry, block.timestamp);
        uint256 priceWad = _settlementRound(underlyingId, expiry, roundId);
        info.settlementPriceWad = priceWad.toUint128();
        // The pool's haircut now, this expiry valued at its settlement price, read from the view facet (the number
        // the accounts' valuation used a block before): its longs are paid less it and the pool keeps that share,
        // so the haircut of the pool's other creditors is unchanged.
        uint256 haircutWad = IOptionMarketViews(address(this)).poolHaircutWad();
        // The view returns at most 1e18.
        // forge-lint: disable-next-line(unsafe-typecast)
        info.haircutWad = uint64(haircutWad);
        int256 poolPayoutE6 = 0;
        uint256 keptWad = 0; // Σ long size × payoff × haircut, WAD·WAD
        for (uint256 i = _live.length; i > 0; --i) {
            uint256 id = _live[i - 1];
            Series memory s = _series[id];
            if (s.underlyingId != underlyingId || s.expiry != expiry) continue;
            uint256 payoffWad = _payoff(s, priceWad);
            poolPayoutE6 += _valueE6(_poolSize[id], payoffWad);
            // Size × payoff rounded to a wei first keeps the product in range for any feed answer (< 1e-18 USDC).
            // slither-disable-next-line divide-before-multiply
            keptWad += _longOpenWad[id] * payoffWad / WAD * haircutWad;
            _retire(id, i);
        }
        info.liveSeries = 0;
        // The pool keeps the haircut share of the longs' payouts (rounded down: each long's cut rounds up).
        _poolCashE6 += poolPayoutE6 + (keptWad / 1e30).toInt256();
        emit ExpirySettled(underlyingId, expiry, priceWad, roundId, poolPayoutE6);
    }

    /// @dev The price of the feed's first round at or after expiry, in WAD.
    function _settlementRound(uint256 underlyingId, uint256 expiry, uint80 roundId)
        internal
        view
        returns (uint256)
    {
        Underlying memory u = _underlyings[underlyingId];
        // The round is identified by the id asked for; only its answer and time matter (startedAt is not used,
        // answeredInRound is deprecated).
        // slither-disable-next-line unused-return
        (, int256 answer,, uint256 updatedAt,) = IAggregatorV3(u.feed).getRoundData(roundId);
        if (updatedAt < expiry || roundId == 0) revert InvalidSettlementRound(roundId, updatedAt, expiry);
        if (roundId > 1) {
            // Only the previous round's time matters: it must be before expiry (roundId is the first after it).
            // slither-disable-next-line unused-return
            (,,, uint256 previousAt,) = IAggregatorV3(u.feed).getRoundData(roundId - 1);
            if (previousAt >= expiry) revert InvalidSettlementRound(roundId, updatedAt, expiry);
        }
        if (answer <= 0) revert InvalidPrice(u.feed, answer);
        return _toWad(answer.toUint256(), u.feedDecimals);
    }

    /// @dev Removes a series from the live list (slot = index + 1).
    function _retire(uint256 seriesId, uint256 slot) internal {
        uint256 last = _live.length;
        if (slot != last) {
            uint32 moved = _live[last - 1];
            _live[slot - 1] = moved;
            _liveSlot[moved] = slot;
        }
        _live.pop();
        delete _liveSlot[seriesId];
    }

    /* LIQUIDITY POOL */

    /// @inheritdoc IOptionMarketPool
    function provideLiquidity(uint256 amountE6) external nonReentrant whenNotPaused returns (uint256 shares) {
        if (amountE6 == 0) revert ZeroAmount();
        int256 equityE6 = _poolMargin(_newCtx(true), false).equityE6;
        if (equityE6 < 0 || (equityE6 == 0 && _totalShares != 0)) revert PoolInsolvent(equityE6);
        shares = amountE6 * (_totalShares + _VIRTUAL_SHARES) / (equityE6.toUint256() + _VIRTUAL_ASSETS_E6);
        if (shares == 0) revert ZeroAmount();
        _poolCashE6 += amountE6.toInt256();
        _totalShares += shares;
        _shares[msg.sender] += shares;
        emit LiquidityProvided(msg.sender, amountE6, shares);
        _usdc.safeTransferFrom(msg.sender, address(this), amountE6);
    }

    /// @inheritdoc IOptionMarketPool
    function withdrawLiquidity(uint256 shares, address to)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 amountE6)
    {
        if (shares == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = _shares[msg.sender];
        if (shares > balance) revert InsufficientShares(balance, shares);
        Ctx memory ctx = _newCtx(true);
        int256 equityE6 = _poolMargin(ctx, false).equityE6;
        if (equityE6 <= 0) revert PoolInsolvent(equityE6);
        amountE6 = shares * (equityE6.toUint256() + _VIRTUAL_ASSETS_E6) / (_totalShares + _VIRTUAL_SHARES);
        if (_poolCashE6 < amountE6.toInt256()) revert InsufficientPoolCash(_poolCashE6, amountE6);
        _poolCashE6 -= amountE6.toInt256();
        _totalShares -= shares;
        _shares[msg.sender] = balance - shares;
        Margin memory m = _poolMargin(ctx, true);
        if (m.equityE6 < int256(m.initialE6)) revert PoolMarginBreached(m.equityE6, m.initialE6);
        emit LiquidityWithdrawn(msg.sender, to, shares, amountE6);
        _usdc.safeTransfer(to, amountE6);
    }

    /* LISTING AND VOL FEED */

    /// @inheritdoc IOptionMarketGovernance
    function addUnderlying(address asset, address feed, uint32 maxPriceAgeSeconds)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (uint256 underlyingId)
    {
        if (asset == address(0) || feed == address(0)) revert ZeroAddress();
        underlyingId = _underlyings.length;
        if (underlyingId >= _MAX_UNDERLYINGS) {
            revert ParameterOutOfBounds("underlyings", underlyingId + 1, 1, _MAX_UNDERLYINGS);
        }
        _checkPriceAge(maxPriceAgeSeconds);
        uint8 decimals = IAggregatorV3(feed).decimals();
        _underlyings.push(Underlying(asset, feed, decimals, maxPriceAgeSeconds));
        emit UnderlyingAdded(underlyingId, asset, feed, maxPriceAgeSeconds);
    }

    /// @inheritdoc IOptionMarketGovernance
    function setMaxPriceAge(uint256 underlyingId, uint32 maxPriceAgeSeconds)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _underlyingExists(underlyingId);
        _checkPriceAge(maxPriceAgeSeconds);
        _underlyings[underlyingId].maxPriceAgeSeconds = maxPriceAgeSeconds;
        emit MaxPriceAgeSet(underlyingId, maxPriceAgeSeconds);
    }

    function _checkPriceAge(uint256 age) internal pure {
        _bound("maxPriceAgeSeconds", age, _MIN_PRICE_AGE_SECONDS, _MAX_PRICE_AGE_SECONDS);
    }

    /// @inheritdoc IOptionMarketGovernance
    function listSeries(uint256 underlyingId, uint64 expiry, uint128 strikeWad, bool isCall)
        external
        onlyRole(_LISTER_ROLE)
        whenNotPaused
        returns (uint256 seriesId)
    {
        _underlyingExists(underlyingId);
        bytes32 key = keccak256(abi.encode(underlyingId, expiry, strikeWad, isCall));
        if (_seriesIds[key] != 0) revert SeriesExists(_seriesIds[key]);
        uint256 earliest = block.timestamp + _MIN_LISTING_SECONDS;
        uint256 latest = block.timestamp + _MAX_EXPIRY_SECONDS;
        if (expiry < earliest || expiry > latest) revert ExpiryOutOfBounds(expiry, earliest, latest);
        (uint256 spotWad,) = _readFeed(underlyingId);
        uint256 lo = spotWad * _MIN_STRIKE_RATIO_WAD / WAD;
        uint256 hi = spotWad * _MAX_STRIKE_RATIO_WAD / WAD;
        if (hi > _MAX_STRIKE_WAD) hi = _MAX_STRIKE_WAD;
        if (strikeWad < lo || strikeWad > hi) revert StrikeOutOfBounds(strikeWad, lo, hi);
        if (_live.length >= _MAX_LIVE_SERIES) revert TooManyLiveSeries(_MAX_LIVE_SERIES);
        seriesId = ++_seriesCount;
        _seriesIds[key] = seriesId;
        _series[seriesId] = Series(strikeWad, expiry, underlyingId.toUint16(), isCall);
        _live.push(seriesId.toUint32());
        _liveSlot[seriesId] = _live.length;
        ExpiryInfo storage info = _expiries[underlyingId][expiry];
        info.listed = true;
        ++info.liveSeries;
        emit SeriesListed(seriesId, underlyingId, expiry, strikeWad, isCall);
    }

    /// @inheritdoc IOptionMarketGovernance
    function postVolSurface(
        uint256 underlyingId,
        uint64 expiry,
        uint256 atmVolWad,
        int256 skewWad,
        int256 smileWad
    ) external onlyRole(_VOL_FEEDER_ROLE) {
        _underlyingExists(underlyingId);
        _bound("atmVolWad", atmVolWad, _MIN_VOL_WAD, _MAX_VOL_WAD);
        uint256 absSkew = SignedMath.abs(skewWad);
        _bound("skewWad", absSkew, 0, _MAX_SKEW_WAD);
        if (smileWad < 0) revert ParameterOutOfBounds("smileWad", 0, 0, _MAX_SMILE_WAD);
        _bound("smileWad", smileWad.toUint256(), 0, _MAX_SMILE_WAD);
        _vols[underlyingId][expiry] = VolSurface(
            atmVolWad.toUint64(), skewWad.toInt64(), smileWad.toInt64(), block.timestamp.toUint64()
        );
        emit VolSurfacePosted(underlyingId, expiry, atmVolWad, skewWad, smileWad);
    }

    /* GOVERNANCE AND GUARDIAN */

    /// @inheritdoc IOptionMarketGovernance
    function setRiskParams(RiskParams calldata params) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRiskParams(params);
    }

    /// @inheritdoc IOptionMarketGovernance
    function setMarketParams(MarketParams calldata params) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMarketParams(params);
    }

    /// @inheritdoc IOptionMarketGovernance
    function pause() external onlyRole(_GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IOptionMarketGovernance
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }
}
