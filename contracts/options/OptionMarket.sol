// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketAccounts} from "../interfaces/options/IOptionMarketAccounts.sol";
import {OptionMarketBase} from "./OptionMarketBase.sol";
import {OptionMarketViews} from "./OptionMarketViews.sol";
import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

/// @title OptionMarket
/// @notice Reference cash-settled option venue: on-chain Black-Scholes quotes from spot feeds and a vol surface,
///         an LP pool as counterparty, portfolio margin over a scenario grid, partial liquidation, settlement.
///         Its address serves the whole `IOptionMarket` ABI.
/// @dev This contract runs the account facet (accounts, trading, liquidation, account settlement). Every other
///      selector falls through to `EXTENSION` (OptionMarketViews) by DELEGATECALL, and from there to
///      OptionMarketGovernance (pool and governance): a facet chain that runs in this contract's storage (one layout:
///      all inherit OptionMarketBase and add no storage), as Compound III's Comet does with CometExt, to keep each
///      contract under the EIP-170 code-size limit. Every entry point runs checks → effects
///      → margin post-checks on the new state → events → token transfers. See IOptionMarket and
///      docs/option-market.md.
contract OptionMarket is OptionMarketBase, IOptionMarketAccounts, Proxy {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /* IMMUTABLES */

    /// @notice The contract serving the pool, governance and view selectors (by DELEGATECALL).
    address public immutable EXTENSION;

    /* CONSTRUCTOR */

    /// @param usdc_ Collateral token (6 decimals).
    /// @param extension_ An OptionMarketViews built for the same `usdc_` (it links to OptionMarketGovernance).
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (governance).
    constructor(
        IERC20 usdc_,
        OptionMarketViews extension_,
        address admin,
        RiskParams memory risk_,
        MarketParams memory market_
    ) OptionMarketBase(usdc_) {
        if (address(extension_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        if (extension_.collateralToken() != address(usdc_)) revert ExtensionMismatch(address(extension_));
        EXTENSION = address(extension_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRiskParams(risk_);
        _setMarketParams(market_);
    }

    /* MODIFIERS */

    modifier onlyAccountOwner(uint256 accountId) {
        _checkAccountOwner(accountId);
        _;
    }

    /// @dev The modifier's body, once (a modifier is inlined at each of its four uses: code room).
    function _checkAccountOwner(uint256 accountId) internal view {
        address owner = _accounts[accountId].owner;
        if (owner == address(0)) revert AccountNotFound(accountId);
        if (owner != msg.sender) revert NotAccountOwner(accountId, msg.sender);
    }

    /* ACCOUNTS */

    /// @inheritdoc IOptionMarketAccounts
    function openAccount() external returns (uint256 accountId) {
        accountId = ++_accountCount;
        _accounts[accountId].owner = msg.sender;
        _accountsOf[msg.sender].push(accountId);
        emit AccountOpened(accountId, msg.sender);
    }

    /// @inheritdoc IOptionMarketAccounts
    function deposit(uint256 accountId, uint256 amountE6) external nonReentrant onlyAccountOwner(accountId) {
        if (amountE6 == 0) revert ZeroAmount();
        _realize(accountId);
        _accounts[accountId].collateralE6 += amountE6.toInt256();
        emit Deposited(accountId, msg.sender, amountE6);
        _usdc.safeTransferFrom(msg.sender, address(this), amountE6);
    }

    /// @inheritdoc IOptionMarketAccounts
    function withdraw(uint256 accountId, uint256 amountE6, address to)
        external
        nonReentrant
        whenNotPaused
        onlyAccountOwner(accountId)
    {
        if (amountE6 == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        _realize(accountId);
        Account storage a = _accounts[accountId];
        if (a.collateralE6 < amountE6.toInt256()) {
            revert InsufficientCollateral(accountId, a.collateralE6, amountE6);
        }
        a.collateralE6 -= amountE6.toInt256();
        if (a.positions.length != 0) {
            Margin memory m = _accountMargin(_newCtx(true), accountId, true);
            if (m.equityE6 < int256(m.initialE6)) {
                revert InitialMarginBreached(accountId, m.equityE6, m.initialE6);
            }
        }
        emit Withdrawn(accountId, to, amountE6);
        _usdc.safeTransfer(to, amountE6);
    }

    /* TRADING */

    /// @inheritdoc IOptionMarketAccounts
    function buy(uint256 accountId, uint256 seriesId, uint256 sizeWad, uint256 maxCostE6)
        external
        nonReentrant
        whenNotPaused
        onlyAccountOwner(accountId)
        returns (uint256 costE6)
    {
        _realize(accountId);
        Ctx memory ctx = _newCtx(true);
        Quote memory q = _quote(ctx, seriesId, sizeWad, true);
        costE6 = q.premiumE6;
        if (costE6 > maxCostE6) revert CostAboveMax(costE6, maxCostE6);
        Account storage a = _accounts[accountId];
        if (a.collateralE6 < costE6.toInt256()) {
            revert InsufficientCollateral(accountId, a.collateralE6, costE6);
        }
        _trade(ctx, accountId, seriesId, sizeWad.toInt256(), q, 0);
        _emitTraded(accountId, seriesId, sizeWad.toInt256(), costE6.toInt256(), q);
    }

    /// @inheritdoc IOptionMarketAccounts
    function sell(uint256 accountId, uint256 seriesId, uint256 sizeWad, uint256 minProceedsE6)
        external
        nonReentrant
        whenNotPaused
        onlyAccountOwner(accountId)
        returns (uint256 proceedsE6)
    {
        _realize(accountId);
        Ctx memory ctx = _newCtx(true);
        Quote memory q = _quote(ctx, seriesId, sizeWad, false);
        // The part that closes a long is a claim on the pool (paid net of its haircut, see _trade); the rest opens
        // a short: the account gives the pool a margined debt worth the mark for the bid, a trade that raises the
        // pool's equity, so it is paid the full bid.
        int256 held = _positionOf(accountId, seriesId);
        uint256 closeWad = held > 0 ? FixedPointMathLib.min(uint256(held), sizeWad) : 0;
        proceedsE6 = q.premiumE6 - _trade(ctx, accountId, seriesId, -sizeWad.toInt256(), q, closeWad);
        if (proceedsE6 < minProceedsE6) revert ProceedsBelowMin(proceedsE6, minProceedsE6);
        _emitTraded(accountId, seriesId, -sizeWad.toInt256(), -proceedsE6.toInt256(), q);
    }

    /// @dev One `Traded` for `buy` and `sell` (one copy of its encoding: code room).
    function _emitTraded(uint256 accountId, uint256 seriesId, int256 sizeWad, int256 costE6, Quote memory q)
        internal
    {
        emit Traded(accountId, seriesId, sizeWad, costE6, q.feeE6, q.markPriceWad, q.spotWad, q.volWad);
    }

    /// @inheritdoc IOptionMarketAccounts
    function quoteBuy(uint256 seriesId, uint256 sizeWad) external view returns (Quote memory) {
        return _quote(_newCtx(true), seriesId, sizeWad, true);
    }

    /// @inheritdoc IOptionMarketAccounts
    function quoteSell(uint256 seriesId, uint256 sizeWad) external view returns (Quote memory q) {
        Ctx memory ctx = _newCtx(true);
        q = _quote(ctx, seriesId, sizeWad, false);
        q.premiumE6 -= FixedPointMathLib.mulDivUp(q.premiumE6, _poolHaircutWad(ctx), WAD);
    }

    /// @dev Moves the premium of `q` (paid for a buy, `deltaWad` > 0; received for a sale) between the account and
    ///      the pool and `deltaWad` from the pool to the account, then checks both margins on the new state (a
    ///      failing side passes only if the trade reduced its IM shortfall). A sale whose first `closeWad` units
    ///      close a long pays back to the pool `cutE6`, those units' bid × the pool's haircut computed on the state
    ///      before the trade (`_haircutWad` on it rebuilt), so the haircut of the pool's other creditors does not
    ///      rise: a solvent pool's sale skips it, the post-trade equity alone proving the pre-trade one ≥ 0.
    function _trade(
        Ctx memory ctx,
        uint256 accountId,
        uint256 seriesId,
        int256 deltaWad,
        Quote memory q,
        uint256 closeWad
    ) internal returns (uint256 cutE6) {
        int256 premiumE6 = deltaWad > 0 ? q.premiumE6.toInt256() : -q.premiumE6.toInt256();
        _accounts[accountId].collateralE6 -= premiumE6;
        _poolCashE6 += premiumE6;
        _move(accountId, seriesId, deltaWad);

        Margin memory pool = _margin(ctx, _poolHoldings(0, 0), _poolCashE6, true);
        // Pre-trade equity = this one − the sale's mark value + its proceeds (to rounding): ≥ 0 when this one is at
        // least twice the sale's mark value (+ 1 µUSDC each for rounding).
        if (closeWad != 0 && pool.equityE6 < 2 * (q.premiumE6 + q.feeE6 + 1).toInt256()) {
            uint256 h = _haircutWad(
                ctx, _poolHoldings(seriesId, -deltaWad), _poolCashE6 - premiumE6, seriesId, closeWad
            );
            cutE6 = FixedPointMathLib.mulDivUp(closeWad * q.tradePriceWad / 1e30, h, WAD);
            _accounts[accountId].collateralE6 -= cutE6.toInt256();
            _poolCashE6 += cutE6.toInt256();
            premiumE6 += cutE6.toInt256();
            pool.equityE6 += cutE6.toInt256();
        }
        if (premiumE6 < 0 && _poolCashE6 < 0) {
            revert InsufficientPoolCash(_poolCashE6 - premiumE6, uint256(-premiumE6));
        }

        Margin memory post =
            _margin(ctx, _accountHoldings(accountId, 0, 0), _accounts[accountId].collateralE6, true);
        if (post.equityE6 < int256(post.initialE6)) {
            Margin memory pre = _margin(
                ctx,
                _accountHoldings(accountId, seriesId, deltaWad),
                _accounts[accountId].collateralE6 + premiumE6,
                true
            );
            if (_shortfall(post) >= _shortfall(pre)) {
                revert InitialMarginBreached(accountId, post.equityE6, post.initialE6);
            }
        }
        if (pool.equityE6 < int256(pool.initialE6)) {
            Margin memory pre =
                _margin(ctx, _poolHoldings(seriesId, -deltaWad), _poolCashE6 - premiumE6, true);
            if (_shortfall(pool) >= _shortfall(pre)) {
                revert PoolMarginBreached(pool.equityE6, pool.initialE6);
            }
        }
    }

    function _shortfall(Margin memory m) internal pure returns (int256) {
        return int256(m.initialE6) - m.equityE6;
    }

    /// @dev Adds `deltaWad` to the account's position and subtracts it from the pool's; opens or closes the slot.
    function _move(uint256 accountId, uint256 seriesId, int256 deltaWad) internal {
        Account storage a = _accounts[accountId];
        uint256 slot = _positionSlot[accountId][seriesId];
        int256 old = 0;
        if (slot == 0) {
            if (a.positions.length >= _MAX_POSITIONS) revert TooManyPositions(accountId, _MAX_POSITIONS);
            a.positions.push(Position(seriesId.toUint32(), 0));
            slot = a.positions.length;
            _positionSlot[accountId][seriesId] = slot;
        } else {
            old = a.positions[slot - 1].sizeWad;
        }
        int256 size = old + deltaWad;
        _checkSize(size);
        // The accounts' gross long size of the series: the pool's obligation its haircut is shared over.
        _longOpenWad[seriesId] =
            _longOpenWad[seriesId] + (size > 0 ? uint256(size) : 0) - (old > 0 ? uint256(old) : 0);
        if (size == 0) {
            _removePosition(accountId, slot);
        } else {
            a.positions[slot - 1].sizeWad = size.toInt128();
        }
        int256 poolSize = _poolSize[seriesId] - deltaWad;
        _checkSize(poolSize);
        _poolSize[seriesId] = poolSize;
    }

    function _checkSize(int256 sizeWad) internal pure {
        uint256 abs = SignedMath.abs(sizeWad);
        if (abs > _MAX_POSITION_SIZE_WAD) revert SizeOutOfBounds(abs, _MAX_POSITION_SIZE_WAD);
    }

    function _removePosition(uint256 accountId, uint256 slot) internal {
        Position[] storage ps = _accounts[accountId].positions;
        uint256 last = ps.length;
        delete _positionSlot[accountId][ps[slot - 1].seriesId];
        if (slot != last) {
            Position memory moved = ps[last - 1];
            ps[slot - 1] = moved;
            _positionSlot[accountId][moved.seriesId] = slot;
        }
        ps.pop();
    }

    /* LIQUIDATION */

    /// @inheritdoc IOptionMarketAccounts
    function liquidate(uint256 accountId, uint256 seriesId, uint256 maxSizeWad)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 closedSizeWad, uint256 bonusE6)
    {
        address owner = _accounts[accountId].owner;
        if (owner == address(0)) revert AccountNotFound(accountId);
        if (owner == msg.sender) revert SelfLiquidation(accountId);
        if (maxSizeWad == 0) revert ZeroAmount();
        _realize(accountId);
        int256 size = _positionOf(accountId, seriesId);
        if (size == 0) revert NoPosition(accountId, seriesId);
        Series memory s = _existingSeries(seriesId);
        if (s.expiry <= block.timestamp) revert TradingClosed(seriesId, s.expiry, 0);

        Ctx memory ctx = _newCtx(true);
        Margin memory pre = _accountMargin(ctx, accountId, true);
        if (pre.equityE6 >= int256(pre.maintenanceE6)) {
            revert AccountNotLiquidatable(accountId, pre.equityE6, pre.maintenanceE6);
        }
        uint256 abs = SignedMath.abs(size);
        closedSizeWad = maxSizeWad < abs ? maxSizeWad : abs;
        int256 premiumE6 = _closePremium(ctx, s, size < 0, closedSizeWad);
        // penalty × spot per unit closed, in USDC (WAD·WAD·WAD → E6), rounded down once
        bonusE6 = FixedPointMathLib.mulDiv(
            closedSizeWad * ctx.spotWad[s.underlyingId], _risk.liquidationPenaltyWad, 1e48
        );
        int256 delta = size < 0 ? closedSizeWad.toInt256() : -closedSizeWad.toInt256();

        _accounts[accountId].collateralE6 -= premiumE6 + bonusE6.toInt256();
        _poolCashE6 += premiumE6;
        _move(accountId, seriesId, delta);
        _checkLiquidation(ctx, accountId, pre);
        emit Liquidated(
            accountId, seriesId, msg.sender, delta, premiumE6, bonusE6, pre.equityE6, pre.maintenanceE6
        );
        _absorbIfInsolvent(accountId);
        if (bonusE6 != 0) _usdc.safeTransfer(msg.sender, bonusE6);
    }

    /// @dev Signed premium the account pays to close `sizeWad`: the ask for a short (buy back), minus the bid for a
    ///      long net of the pool's haircut. Ignores the trading cutoff (liquidations run until expiry).
    function _closePremium(Ctx memory ctx, Series memory s, bool isShort, uint256 sizeWad)
        internal
        view
        returns (int256)
    {
        (uint256 markWad,) = _mark(ctx, s);
        uint256 spotWad = ctx.spotWad[s.underlyingId];
        uint256 feeWad = FixedPointMathLib.mulWadUp(_market.spotFeeWad, spotWad)
            + FixedPointMathLib.mulWadUp(_market.priceFeeWad, markWad);
        if (isShort) return FixedPointMathLib.mulDivUp(sizeWad, markWad + feeWad, 1e30).toInt256();
        uint256 bid = markWad > feeWad ? markWad - feeWad : 0;
        // A long is a claim on the pool: paid net of its haircut, computed before the close (as `sell` pays it).
        uint256 proceeds = sizeWad * bid / 1e30;
        proceeds -= FixedPointMathLib.mulDivUp(proceeds, _poolHaircutWad(ctx), WAD);
        if (_poolCashE6 < proceeds.toInt256()) revert InsufficientPoolCash(_poolCashE6, proceeds);
        return -proceeds.toInt256();
    }

    /// @dev The pool's solvency (h = 0) proved without pricing an option: its cash, less 1 µUSDC for the valuation's
    ///      floor, covers each short it holds at the most that short can be worth (a call its spot: C ≤ S; a put its
    ///      strike: P ≤ K·DF), its longs worth ≥ 0, with 1 ppm of that bound + 1 µUSDC per position for the pricer's
    ///      and the division's rounding. False on any expired series (its unsettled payoff is not bounded so; the
    ///      strict valuation reverts on it) and whenever the shorts exceed the cash at these bounds: a sufficient
    ///      condition only, which then leaves h to the valuation (`_haircutWad`, that built `pool` already).
    function _coversShorts(Ctx memory ctx, Holding[] memory pool, int256 cashE6)
        internal
        view
        override
        returns (bool)
    {
        cashE6 -= 1;
        for (uint256 i; i < pool.length && cashE6 >= 0; ++i) {
            int256 size = pool[i].sizeWad;
            if (size == 0) continue;
            Series storage s = _series[pool[i].seriesId];
            if (s.expiry <= block.timestamp) return false;
            uint256 maxWad = s.isCall ? _spot(ctx, s.underlyingId) : s.strikeWad;
            // Checked product (a feed's answer is not bounded here); then boundE6 < 2^256 / 1e30: the rest fits.
            uint256 boundE6 = SignedMath.abs(size) * maxWad / 1e30;
            cashE6 -= int256((size < 0 ? boundE6 : 0) + boundE6 / 1e6 + 1);
        }
        return cashE6 >= 0;
    }

    /// @dev A liquidation must reduce the IM shortfall and must not overshoot IM.
    function _checkLiquidation(Ctx memory ctx, uint256 accountId, Margin memory pre) internal view {
        Margin memory post = _accountMargin(ctx, accountId, true);
        if (_shortfall(post) >= _shortfall(pre)) {
            revert LiquidationDidNotImprove(accountId, _shortfall(pre), _shortfall(post));
        }
        if (post.equityE6 > int256(post.initialE6)) {
            revert OverLiquidation(accountId, post.equityE6, post.initialE6);
        }
    }

    /// @dev An account with no positions and negative collateral: the pool absorbs the deficit as bad debt.
    function _absorbIfInsolvent(uint256 accountId) internal {
        Account storage a = _accounts[accountId];
        if (a.collateralE6 >= 0 || a.positions.length != 0) return;
        uint256 deficit = uint256(-a.collateralE6);
        a.collateralE6 = 0;
        _poolCashE6 -= deficit.toInt256();
        _badDebtE6 += deficit;
        emit BadDebtAbsorbed(accountId, deficit);
    }

    /* SETTLEMENT (per account) */

    /// @inheritdoc IOptionMarketAccounts
    function settleAccount(uint256 accountId) external nonReentrant returns (int256 payoutE6) {
        if (_accounts[accountId].owner == address(0)) revert AccountNotFound(accountId);
        payoutE6 = _realize(accountId);
    }

    /// @dev Cashes the account's positions whose expiry is settled; absorbs bad debt if nothing is left.
    function _realize(uint256 accountId) internal returns (int256 payoutE6) {
        Account storage a = _accounts[accountId];
        for (uint256 i = a.positions.length; i > 0; --i) {
            Position memory p = a.positions[i - 1];
            Series memory s = _series[p.seriesId];
            if (s.expiry > block.timestamp) continue;
            ExpiryInfo memory info = _expiries[s.underlyingId][s.expiry];
            if (info.settlementPriceWad == 0) continue;
            // A long is paid less the pool's haircut fixed at settlement (the pool kept that share then).
            int256 payout = _cut(_valueE6(p.sizeWad, _payoff(s, info.settlementPriceWad)), info.haircutWad);
            payoutE6 += payout;
            _removePosition(accountId, i);
            emit PositionSettled(accountId, p.seriesId, p.sizeWad, payout);
        }
        if (payoutE6 != 0) a.collateralE6 += payoutE6;
        _absorbIfInsolvent(accountId);
    }

    /* EXTENSION */

    /// @dev Selectors this contract does not serve run in the extension, in this contract's storage.
    function _implementation() internal view override returns (address) {
        return EXTENSION;
    }
}
