// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20, IERC20Metadata} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IVaultAdapter} from "../interfaces/IVaultAdapter.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {IUniswapV3Pool} from "../interfaces/uniswap/IUniswapV3.sol";

/// @title HedgedVault
/// @notice ERC-4626 vault whose keeper hedges through whitelisted adapters (Aave v3 lending, Uniswap v3 swaps, the
///         option venue). What a compromised keeper can do is bounded by checks on measured state after every
///         rebalance: Aave health factor floor, NAV loss per rebalance, per-swap slippage at oracle prices, rolling
///         turnover and loss budgets, and oracle freshness and agreement with the Uniswap TWAP.
/// @dev NAV = idle asset + tracked tokens at their oracle + Aave (collateral − debt, Aave's oracle) + venue marks
///      reported by OPTIONS adapters; gains from rebalances are released linearly (no sandwiching a rebalance).
///      Withdrawals are served from idle assets; larger redemptions are queued and the keeper must fulfil them
///      within `maxFulfilDelaySeconds` (rebalancing is blocked while one is overdue unless it fulfils it).
contract HedgedVault is ERC4626, AccessControl, Pausable, ReentrancyGuard, IHedgedVault {
    using SafeERC20 for IERC20;
    using Math for uint256;

    /* CONSTANTS */

    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");

    uint256 public constant MIN_HEALTH_FACTOR_FLOOR_WAD = 1.05e18;
    uint256 public constant MAX_HEALTH_FACTOR_FLOOR_WAD = 5e18;
    uint256 public constant MAX_LOSS_BPS = 500;
    uint256 public constant MAX_SLIPPAGE_BPS = 300;
    uint256 public constant MAX_TURNOVER_BUDGET_BPS = 100_000;
    uint256 public constant MAX_LOSS_BUDGET_BPS = 1000;
    uint256 public constant MIN_PERIOD_SECONDS = 1 hours;
    uint256 public constant MAX_PERIOD_SECONDS = 7 days;
    uint256 public constant MIN_HEARTBEAT_SECONDS = 60;
    uint256 public constant MAX_HEARTBEAT_SECONDS = 2 days;
    uint256 public constant MAX_ORACLE_DEVIATION_BPS = 1000;
    uint256 public constant MIN_TWAP_WINDOW_SECONDS = 60;
    uint256 public constant MAX_TWAP_WINDOW_SECONDS = 2 hours;
    uint256 public constant MAX_MANAGEMENT_FEE_BPS = 200;
    uint256 public constant MAX_PERFORMANCE_FEE_BPS = 3000;
    uint256 public constant MAX_PROFIT_UNLOCK_SECONDS = 14 days;
    uint256 public constant MAX_FULFIL_DELAY_SECONDS = 3 days;
    uint256 public constant MAX_TRACKED_TOKENS = 8;
    uint256 internal constant _BPS = 10_000;
    uint256 internal constant _YEAR = 365 days;
    /// @dev ln(1.0001) in WAD: one Uniswap tick.
    int256 internal constant _LN_TICK_WAD = 99_995_000_333_308;

    /* IMMUTABLES */

    IAavePool public immutable aavePool;
    IAggregatorV3 public immutable assetFeed;
    uint8 internal immutable _assetDecimals;

    /* STORAGE */

    RiskParams internal _risk;
    FeeParams internal _fees;
    uint256 public depositCap;
    uint256 public maxFulfilDelaySeconds;
    mapping(address adapter => bool) public adapterAllowed;
    address[] internal _optionsAdapters;
    TrackedToken[] internal _tokens;

    uint256 public periodStart;
    uint256 public periodTurnoverE8;
    uint256 public periodLossE8;

    uint256 public lockedProfit; // asset units locked at `lockStart`, released linearly
    uint256 public lockStart;
    uint256 public highWaterMarkWad; // assets per share (1e18) after the last performance fee
    uint256 public lastFeeAccrual;

    RedeemRequest[] internal _redeems;
    uint256 public firstPendingRedeem; // requests before this index are fulfilled or cancelled
    uint256 public escrowedShares;

    /* CONSTRUCTOR */

    /// @param asset_ the collateral asset (USDC on the devnet).
    /// @param assetFeed_ USD feed of the asset (values Aave and tracked tokens in asset units).
    /// @param governance the TimelockController: governance and role admin.
    constructor(
        IERC20Metadata asset_,
        string memory name_,
        string memory symbol_,
        IAavePool aavePool_,
        IAggregatorV3 assetFeed_,
        address governance,
        address guardian,
        address keeper,
        RiskParams memory risk_,
        FeeParams memory fees_,
        uint256 depositCap_
    ) ERC4626(asset_) ERC20(name_, symbol_) {
        if (governance == address(0) || address(aavePool_) == address(0) || address(assetFeed_) == address(0))
        {
            revert ZeroAddress();
        }
        aavePool = aavePool_;
        assetFeed = assetFeed_;
        _assetDecimals = asset_.decimals();
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
        if (keeper != address(0)) _grantRole(KEEPER_ROLE, keeper);
        _checkRisk(risk_);
        _risk = risk_;
        _checkFees(fees_);
        _fees = fees_;
        depositCap = depositCap_;
        maxFulfilDelaySeconds = 1 days;
        periodStart = block.timestamp;
        lastFeeAccrual = block.timestamp;
        highWaterMarkWad = 1e18;
        emit RiskParamsSet(msg.sender, risk_);
        emit FeeParamsSet(fees_);
        emit DepositCapSet(depositCap_);
    }

    /* DEPOSIT / WITHDRAWAL */

    /// @inheritdoc ERC4626
    function deposit(uint256 assets, address receiver) public override nonReentrant returns (uint256) {
        _accrueFees();
        return super.deposit(assets, receiver);
    }

    /// @inheritdoc ERC4626
    function mint(uint256 shares, address receiver) public override nonReentrant returns (uint256) {
        _accrueFees();
        return super.mint(shares, receiver);
    }

    /// @inheritdoc ERC4626
    /// @dev Open while paused: only idle assets are paid out, which moves no risk.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256)
    {
        _accrueFees();
        return super.withdraw(assets, receiver, owner);
    }

    /// @inheritdoc ERC4626
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256)
    {
        _accrueFees();
        return super.redeem(shares, receiver, owner);
    }

    /// @notice Queue a redemption larger than the liquid buffer: the shares move to escrow now and are paid at the
    ///         share price of fulfilment, which the keeper must do within `maxFulfilDelaySeconds`.
    function requestRedeem(uint256 shares, address receiver, address owner)
        external
        nonReentrant
        returns (uint256 requestId)
    {
        if (receiver == address(0)) revert ZeroAddress();
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        _transfer(owner, address(this), shares);
        escrowedShares += shares;
        requestId = _redeems.length;
        _redeems.push(
            RedeemRequest(owner, receiver, SafeCast.toUint128(shares), uint64(block.timestamp), false)
        );
        emit RedeemRequested(requestId, owner, receiver, shares);
    }

    /// @notice Cancel one's own pending request; the shares come back.
    function cancelRedeem(uint256 requestId) external nonReentrant {
        RedeemRequest storage r = _pendingRequest(requestId);
        if (r.owner != msg.sender) revert InvalidRedeemRequest(requestId);
        r.fulfilled = true;
        escrowedShares -= r.shares;
        _transfer(address(this), r.owner, r.shares);
        _advancePending();
        emit RedeemFulfilled(requestId, r.owner, r.shares, 0);
    }

    /// @notice Keeper pays queued redemptions from idle assets (allowed while paused: it only pays out).
    function fulfilRedeems(uint256[] calldata requestIds) external nonReentrant onlyRole(KEEPER_ROLE) {
        _accrueFees();
        _fulfil(requestIds);
    }

    /* REBALANCE */

    /// @notice Run `actions` through whitelisted adapters, then fulfil `fulfilIds`; reverts unless every bound holds.
    function rebalance(Action[] calldata actions, uint256[] calldata fulfilIds)
        external
        nonReentrant
        whenNotPaused
        onlyRole(KEEPER_ROLE)
    {
        _checkOracles();
        _accrueFees();
        _rollPeriod();
        uint256 idleBefore = _idle();
        int256 navBeforeE8 = _positionsValueE8();
        uint256 turnoverE8;
        for (uint256 i; i < actions.length; ++i) {
            turnoverE8 += _execute(i, actions[i]);
        }
        uint256 navBefore = _toAssets(idleBefore, navBeforeE8);
        uint256 navAfter = _toAssets(_idle(), _positionsValueE8());
        _postChecks(navBefore, navAfter, turnoverE8);
        if (navAfter > navBefore) _lockProfit(navAfter - navBefore);
        _fulfil(fulfilIds);
        _requireNoOverdue();
        emit Rebalanced(msg.sender, actions.length, navBefore, navAfter, turnoverE8);
    }

    /// @notice Emergency unwind toward collateral, only while paused, by the guardian or governance. Actions go
    ///         through the same whitelisted adapters and per-swap slippage bound; after the batch Aave debt must
    ///         not have grown, the health factor must not have fallen, and NAV may not drop by more than
    ///         `maxLossBps`. Turnover and loss budgets do not apply: shrinking risk must not be blocked by them.
    function emergencyUnwind(Action[] calldata actions) external nonReentrant whenPaused {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(GOVERNANCE_ROLE, msg.sender)) {
            revert NotGuardianOrGovernance(msg.sender);
        }
        _checkOracles();
        _accrueFees();
        (, uint256 debtBefore,,,, uint256 hfBefore) = aavePool.getUserAccountData(address(this));
        uint256 navBefore = _toAssets(_idle(), _positionsValueE8());
        for (uint256 i; i < actions.length; ++i) {
            _execute(i, actions[i]);
        }
        (, uint256 debtAfter,,,, uint256 hfAfter) = aavePool.getUserAccountData(address(this));
        if (debtAfter > debtBefore) revert UnwindIncreasedDebt(debtBefore, debtAfter);
        if (debtAfter > 0 && hfAfter < hfBefore) revert UnwindLoweredHealthFactor(hfBefore, hfAfter);
        uint256 navAfter = _toAssets(_idle(), _positionsValueE8());
        if (navAfter * _BPS < navBefore * (_BPS - _risk.maxLossBps)) {
            revert MaxLossExceeded(navBefore, navAfter, _risk.maxLossBps);
        }
        emit Unwound(msg.sender, actions.length, navBefore, navAfter);
    }

    /* GOVERNANCE (through the timelock) */

    function setRiskParams(RiskParams calldata params) external onlyRole(GOVERNANCE_ROLE) {
        _checkRisk(params);
        _risk = params;
        emit RiskParamsSet(msg.sender, params);
    }

    function setFeeParams(FeeParams calldata params) external onlyRole(GOVERNANCE_ROLE) {
        _accrueFees();
        _checkFees(params);
        _fees = params;
        emit FeeParamsSet(params);
    }

    function setAdapter(address adapter, bool allowed) external onlyRole(GOVERNANCE_ROLE) {
        if (adapter == address(0)) revert ZeroAddress();
        adapterAllowed[adapter] = allowed;
        if (IVaultAdapter(adapter).kind() == IVaultAdapter.Kind.OPTIONS) {
            if (allowed) _optionsAdapters.push(adapter);
            else _removeOptionsAdapter(adapter);
        }
        emit AdapterSet(adapter, allowed);
    }

    function addTrackedToken(TrackedToken calldata t) external onlyRole(GOVERNANCE_ROLE) {
        if (t.token == address(0) || t.feed == address(0)) revert ZeroAddress();
        if (t.token == asset() || _tokens.length >= MAX_TRACKED_TOKENS) revert TokenAlreadyTracked(t.token);
        for (uint256 i; i < _tokens.length; ++i) {
            if (_tokens[i].token == t.token) revert TokenAlreadyTracked(t.token);
        }
        _tokens.push(t);
        emit TokenTracked(t.token, t.feed, t.twapPool);
    }

    function setDepositCap(uint256 cap) external onlyRole(GOVERNANCE_ROLE) {
        depositCap = cap;
        emit DepositCapSet(cap);
    }

    function setMaxFulfilDelay(uint256 seconds_) external onlyRole(GOVERNANCE_ROLE) {
        if (seconds_ == 0 || seconds_ > MAX_FULFIL_DELAY_SECONDS) {
            revert ParameterOutOfBounds("maxFulfilDelaySeconds", seconds_, 1, MAX_FULFIL_DELAY_SECONDS);
        }
        maxFulfilDelaySeconds = seconds_;
    }

    function unpause() external onlyRole(GOVERNANCE_ROLE) {
        _unpause();
    }

    /* GUARDIAN */

    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @notice Tighten risk: every field must be at least as strict as now (and within bounds).
    function tightenRiskParams(RiskParams calldata p) external onlyRole(GUARDIAN_ROLE) {
        RiskParams memory c = _risk;
        _checkRisk(p);
        if (p.healthFactorFloorWad < c.healthFactorFloorWad) {
            revert OnlyTightening("healthFactorFloorWad", c.healthFactorFloorWad, p.healthFactorFloorWad);
        }
        _tighter("maxLossBps", c.maxLossBps, p.maxLossBps);
        _tighter("maxSlippageBps", c.maxSlippageBps, p.maxSlippageBps);
        _tighter("turnoverBudgetBps", c.turnoverBudgetBps, p.turnoverBudgetBps);
        _tighter("lossBudgetBps", c.lossBudgetBps, p.lossBudgetBps);
        _tighter("heartbeatSeconds", c.heartbeatSeconds, p.heartbeatSeconds);
        _tighter("maxOracleDeviationBps", c.maxOracleDeviationBps, p.maxOracleDeviationBps);
        if (p.periodSeconds != c.periodSeconds || p.twapWindowSeconds != c.twapWindowSeconds) {
            revert OnlyTightening("periodOrWindow", c.periodSeconds, p.periodSeconds);
        }
        _risk = p;
        emit RiskParamsSet(msg.sender, p);
    }

    /* ERC-4626 ACCOUNTING */

    /// @notice NAV less profit still locked, in asset units (rounds down: favours the vault).
    function totalAssets() public view override returns (uint256) {
        uint256 gross = _toAssets(_idle(), _positionsValueE8());
        uint256 locked = _lockedProfitNow();
        return gross > locked ? gross - locked : 0;
    }

    function maxDeposit(address) public view override returns (uint256) {
        if (paused()) return 0;
        uint256 assets = totalAssets();
        return depositCap > assets ? depositCap - assets : 0;
    }

    function maxMint(address receiver) public view override returns (uint256) {
        return _convertToShares(maxDeposit(receiver), Math.Rounding.Floor);
    }

    /// @dev Honest: limited by the owner's shares and by idle assets.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), _idle());
    }

    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(balanceOf(owner), _convertToShares(_idle(), Math.Rounding.Floor));
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }

    /* VIEWS */

    function riskParams() external view returns (RiskParams memory) {
        return _risk;
    }

    function feeParams() external view returns (FeeParams memory) {
        return _fees;
    }

    function trackedTokens() external view returns (TrackedToken[] memory) {
        return _tokens;
    }

    function optionsAdapters() external view returns (address[] memory) {
        return _optionsAdapters;
    }

    function redeemRequest(uint256 id) external view returns (RedeemRequest memory) {
        return _redeems[id];
    }

    function redeemRequestCount() external view returns (uint256) {
        return _redeems.length;
    }

    /// @notice Idle asset not owed to anyone.
    function idleAssets() external view returns (uint256) {
        return _idle();
    }

    /// @notice Oracle price of a token in USD with 8 decimals (no staleness check: for views).
    function priceE8(address feed) public view returns (uint256 price, uint256 updatedAt) {
        (, int256 answer,, uint256 at,) = IAggregatorV3(feed).latestRoundData();
        uint8 d = IAggregatorV3(feed).decimals();
        uint256 a = answer > 0 ? uint256(answer) : 0;
        price = d >= 8 ? a / 10 ** (d - 8) : a * 10 ** (8 - d);
        updatedAt = at;
    }

    /* INTERNAL: rebalance */

    function _execute(uint256 index, Action calldata action) internal returns (uint256 turnoverE8) {
        if (!adapterAllowed[action.adapter]) revert AdapterNotAllowed(action.adapter);
        IVaultAdapter.Kind kind = IVaultAdapter(action.adapter).kind();
        bool swap = kind == IVaultAdapter.Kind.SWAP;
        (uint256 inBefore, uint256[] memory balances) = _walletSnapshot();
        // Adapters are timelock-whitelisted, storage-free code run in the vault's context.
        // slither-disable-next-line controlled-delegatecall
        (bool ok, bytes memory reason) =
            action.adapter.delegatecall(abi.encodeCall(IVaultAdapter.execute, (action.data)));
        if (!ok) revert AdapterCallFailed(index, reason);
        (uint256 spentE8, uint256 receivedE8) = _walletDelta(inBefore, balances);
        // Turnover is what trades at a market price (swaps, option premiums): lending moves (supply, withdraw,
        // borrow, repay) cost nothing to churn, and counting them would let the budget block a deleverage.
        if (kind != IVaultAdapter.Kind.LENDING) turnoverE8 = Math.max(spentE8, receivedE8);
        if (swap && receivedE8 * _BPS < spentE8 * (_BPS - _risk.maxSlippageBps)) {
            revert SlippageExceeded(index, spentE8, receivedE8, _risk.maxSlippageBps);
        }
    }

    function _postChecks(uint256 navBefore, uint256 navAfter, uint256 turnoverE8) internal {
        RiskParams memory r = _risk;
        (, uint256 debtBase,,,, uint256 hf) = aavePool.getUserAccountData(address(this));
        if (debtBase > 0 && hf < r.healthFactorFloorWad) {
            revert HealthFactorBelowFloor(hf, r.healthFactorFloorWad);
        }
        if (navAfter * _BPS < navBefore * (_BPS - r.maxLossBps)) {
            revert MaxLossExceeded(navBefore, navAfter, r.maxLossBps);
        }
        uint256 navE8 = _assetsToE8(navBefore);
        periodTurnoverE8 += turnoverE8;
        uint256 turnoverBudget = navE8 * r.turnoverBudgetBps / _BPS;
        if (periodTurnoverE8 > turnoverBudget) {
            revert TurnoverBudgetExceeded(periodTurnoverE8, turnoverBudget);
        }
        if (navAfter < navBefore) periodLossE8 += _assetsToE8(navBefore - navAfter);
        uint256 lossBudget = navE8 * r.lossBudgetBps / _BPS;
        if (periodLossE8 > lossBudget) revert LossBudgetExceeded(periodLossE8, lossBudget);
    }

    function _rollPeriod() internal {
        if (block.timestamp >= periodStart + _risk.periodSeconds) {
            periodStart = block.timestamp;
            periodTurnoverE8 = 0;
            periodLossE8 = 0;
        }
    }

    /// @dev Every tracked oracle fresh, and within the deviation bound of its Uniswap TWAP.
    function _checkOracles() internal view {
        RiskParams memory r = _risk;
        (uint256 assetPrice, uint256 assetAt) = priceE8(address(assetFeed));
        if (assetPrice == 0 || block.timestamp > assetAt + r.heartbeatSeconds) {
            revert StalePrice(address(assetFeed), assetAt, r.heartbeatSeconds);
        }
        for (uint256 i; i < _tokens.length; ++i) {
            TrackedToken memory t = _tokens[i];
            (uint256 price, uint256 at) = priceE8(t.feed);
            if (price == 0 || block.timestamp > at + r.heartbeatSeconds) {
                revert StalePrice(t.feed, at, r.heartbeatSeconds);
            }
            if (t.twapPool != address(0)) _checkTwap(t, price, assetPrice, r);
        }
    }

    /// @dev Compare in tick space: oracle price → tick = ln(raw price)/ln(1.0001), against the TWAP tick.
    function _checkTwap(TrackedToken memory t, uint256 priceE8_, uint256 assetPriceE8, RiskParams memory r)
        internal
        view
    {
        uint32[] memory ago = new uint32[](2);
        ago[0] = r.twapWindowSeconds;
        (int56[] memory cumulatives,) = IUniswapV3Pool(t.twapPool).observe(ago);
        int56 delta = cumulatives[1] - cumulatives[0];
        int256 twapTick = int256(delta) / int256(uint256(r.twapWindowSeconds));
        if (delta < 0 && int256(delta) % int256(uint256(r.twapWindowSeconds)) != 0) twapTick--;
        // raw price of token1 per token0 in WAD, from the oracles (asset units per token unit, or the inverse).
        bool tokenIsToken0 = IUniswapV3Pool(t.twapPool).token0() == t.token;
        uint256 rawWad = tokenIsToken0
            ? FixedPointMathLib.fullMulDiv(
                priceE8_ * 1e18, 10 ** _assetDecimals, assetPriceE8 * 10 ** t.decimals
            )
            : FixedPointMathLib.fullMulDiv(
                assetPriceE8 * 1e18, 10 ** t.decimals, priceE8_ * 10 ** _assetDecimals
            );
        int256 oracleTick = FixedPointMathLib.lnWad(int256(rawWad)) / _LN_TICK_WAD;
        uint256 diff = uint256(oracleTick > twapTick ? oracleTick - twapTick : twapTick - oracleTick);
        if (diff > r.maxOracleDeviationBps) {
            // One tick is 1.0001: the TWAP price implied by the tick difference, for the error message.
            int256 expo = (tokenIsToken0 ? twapTick - oracleTick : oracleTick - twapTick) * _LN_TICK_WAD;
            uint256 twapPriceE8 = FixedPointMathLib.mulWad(priceE8_, uint256(FixedPointMathLib.expWad(expo)));
            revert OracleDeviation(t.token, priceE8_, twapPriceE8, r.maxOracleDeviationBps);
        }
    }

    /* INTERNAL: valuation */

    function _idle() internal view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    /// @dev Tracked tokens at their oracle + Aave net + venue marks, USD 1e8 (may be negative if insolvent).
    function _positionsValueE8() internal view returns (int256 value) {
        for (uint256 i; i < _tokens.length; ++i) {
            TrackedToken memory t = _tokens[i];
            (uint256 price,) = priceE8(t.feed);
            value += SafeCast.toInt256(
                IERC20(t.token).balanceOf(address(this)).mulDiv(price, 10 ** t.decimals)
            );
        }
        (uint256 collateralBase, uint256 debtBase,,,,) = aavePool.getUserAccountData(address(this));
        value += SafeCast.toInt256(collateralBase) - SafeCast.toInt256(debtBase);
        for (uint256 i; i < _optionsAdapters.length; ++i) {
            value += IOptionsValuation(_optionsAdapters[i]).valueE8(address(this));
        }
    }

    /// @dev idle (asset units) + positions (USD 1e8) → asset units, rounding down.
    function _toAssets(uint256 idle, int256 positionsE8) internal view returns (uint256) {
        (uint256 assetPrice,) = priceE8(address(assetFeed));
        if (positionsE8 >= 0) return idle + uint256(positionsE8).mulDiv(10 ** _assetDecimals, assetPrice);
        uint256 shortfall = uint256(-positionsE8).mulDiv(10 ** _assetDecimals, assetPrice, Math.Rounding.Ceil);
        return idle > shortfall ? idle - shortfall : 0;
    }

    function _assetsToE8(uint256 assets) internal view returns (uint256) {
        (uint256 assetPrice,) = priceE8(address(assetFeed));
        return assets.mulDiv(assetPrice, 10 ** _assetDecimals);
    }

    /// @dev Wallet value (asset + tracked tokens) in USD 1e8, and each balance, before an action.
    function _walletSnapshot() internal view returns (uint256 assetBalance, uint256[] memory balances) {
        assetBalance = _idle();
        balances = new uint256[](_tokens.length);
        for (uint256 i; i < _tokens.length; ++i) {
            balances[i] = IERC20(_tokens[i].token).balanceOf(address(this));
        }
    }

    /// @dev Oracle value of what left and what entered the wallet during an action.
    function _walletDelta(uint256 assetBefore, uint256[] memory before)
        internal
        view
        returns (uint256 spentE8, uint256 receivedE8)
    {
        uint256 assetAfter = _idle();
        if (assetAfter < assetBefore) spentE8 += _assetsToE8(assetBefore - assetAfter);
        else receivedE8 += _assetsToE8(assetAfter - assetBefore);
        for (uint256 i; i < _tokens.length; ++i) {
            TrackedToken memory t = _tokens[i];
            uint256 nowBalance = IERC20(t.token).balanceOf(address(this));
            if (nowBalance == before[i]) continue;
            (uint256 price,) = priceE8(t.feed);
            if (nowBalance < before[i]) spentE8 += (before[i] - nowBalance).mulDiv(price, 10 ** t.decimals);
            else receivedE8 += (nowBalance - before[i]).mulDiv(price, 10 ** t.decimals);
        }
    }

    /* INTERNAL: fees and profit lock */

    function _lockedProfitNow() internal view returns (uint256) {
        uint256 duration = _fees.profitUnlockSeconds;
        if (duration == 0 || block.timestamp >= lockStart + duration) return 0;
        return lockedProfit * (lockStart + duration - block.timestamp) / duration;
    }

    function _lockProfit(uint256 gain) internal {
        lockedProfit = _lockedProfitNow() + gain;
        lockStart = block.timestamp;
    }

    /// @dev Management fee on time elapsed, performance fee above the high-water mark; both minted as shares.
    function _accrueFees() internal {
        FeeParams memory f = _fees;
        uint256 elapsed = block.timestamp - lastFeeAccrual;
        lastFeeAccrual = block.timestamp;
        uint256 supply = totalSupply();
        if (supply == 0 || f.feeRecipient == address(0)) {
            if (supply == 0) highWaterMarkWad = 1e18;
            return;
        }
        uint256 assets = totalAssets();
        uint256 managementShares = supply.mulDiv(uint256(f.managementFeeBps) * elapsed, _BPS * _YEAR);
        uint256 performanceShares;
        uint256 ppsWad = (assets + 1).mulDiv(1e18, supply + 10 ** _decimalsOffset());
        if (ppsWad > highWaterMarkWad && f.performanceFeeBps > 0) {
            uint256 gain = (ppsWad - highWaterMarkWad).mulDiv(supply, 1e18);
            uint256 feeAssets = gain * f.performanceFeeBps / _BPS;
            performanceShares = feeAssets.mulDiv(supply, assets > feeAssets ? assets - feeAssets : 1);
            highWaterMarkWad = ppsWad;
        }
        if (managementShares + performanceShares > 0) {
            _mint(f.feeRecipient, managementShares + performanceShares);
            emit FeesMinted(f.feeRecipient, managementShares, performanceShares);
        }
    }

    /* INTERNAL: redeem queue */

    function _pendingRequest(uint256 id) internal view returns (RedeemRequest storage r) {
        if (id >= _redeems.length) revert InvalidRedeemRequest(id);
        r = _redeems[id];
        if (r.fulfilled) revert InvalidRedeemRequest(id);
    }

    function _fulfil(uint256[] calldata ids) internal {
        for (uint256 i; i < ids.length; ++i) {
            RedeemRequest storage r = _pendingRequest(ids[i]);
            uint256 assets = previewRedeem(r.shares);
            uint256 idle = _idle();
            if (assets > idle) revert InsufficientLiquidity(assets, idle);
            r.fulfilled = true;
            escrowedShares -= r.shares;
            _burn(address(this), r.shares);
            IERC20(asset()).safeTransfer(r.receiver, assets);
            emit RedeemFulfilled(ids[i], r.receiver, r.shares, assets);
        }
        _advancePending();
    }

    function _advancePending() internal {
        uint256 next = firstPendingRedeem;
        while (next < _redeems.length && _redeems[next].fulfilled) ++next;
        firstPendingRedeem = next;
    }

    function _requireNoOverdue() internal view {
        uint256 id = firstPendingRedeem;
        if (id < _redeems.length) {
            uint256 deadline = _redeems[id].requestedAt + maxFulfilDelaySeconds;
            if (block.timestamp > deadline) revert RedeemOverdue(id, _redeems[id].requestedAt, deadline);
        }
    }

    /* INTERNAL: parameters */

    function _checkRisk(RiskParams memory p) internal pure {
        _bound(
            "healthFactorFloorWad",
            p.healthFactorFloorWad,
            MIN_HEALTH_FACTOR_FLOOR_WAD,
            MAX_HEALTH_FACTOR_FLOOR_WAD
        );
        _bound("maxLossBps", p.maxLossBps, 1, MAX_LOSS_BPS);
        _bound("maxSlippageBps", p.maxSlippageBps, 1, MAX_SLIPPAGE_BPS);
        _bound("turnoverBudgetBps", p.turnoverBudgetBps, 1, MAX_TURNOVER_BUDGET_BPS);
        _bound("lossBudgetBps", p.lossBudgetBps, 1, MAX_LOSS_BUDGET_BPS);
        _bound("periodSeconds", p.periodSeconds, MIN_PERIOD_SECONDS, MAX_PERIOD_SECONDS);
        _bound("heartbeatSeconds", p.heartbeatSeconds, MIN_HEARTBEAT_SECONDS, MAX_HEARTBEAT_SECONDS);
        _bound("maxOracleDeviationBps", p.maxOracleDeviationBps, 1, MAX_ORACLE_DEVIATION_BPS);
        _bound("twapWindowSeconds", p.twapWindowSeconds, MIN_TWAP_WINDOW_SECONDS, MAX_TWAP_WINDOW_SECONDS);
    }

    function _checkFees(FeeParams memory f) internal pure {
        _bound("managementFeeBps", f.managementFeeBps, 0, MAX_MANAGEMENT_FEE_BPS);
        _bound("performanceFeeBps", f.performanceFeeBps, 0, MAX_PERFORMANCE_FEE_BPS);
        _bound("profitUnlockSeconds", f.profitUnlockSeconds, 0, MAX_PROFIT_UNLOCK_SECONDS);
    }

    function _bound(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ParameterOutOfBounds(name, value, min, max);
    }

    /// @dev Lower is tighter for these fields.
    function _tighter(bytes32 name, uint256 current, uint256 proposed) internal pure {
        if (proposed > current) revert OnlyTightening(name, current, proposed);
    }

    function _removeOptionsAdapter(address adapter) internal {
        uint256 n = _optionsAdapters.length;
        for (uint256 i; i < n; ++i) {
            if (_optionsAdapters[i] == adapter) {
                _optionsAdapters[i] = _optionsAdapters[n - 1];
                _optionsAdapters.pop();
                return;
            }
        }
    }
}

/// @notice Valuation surface of OPTIONS adapters (called with STATICCALL, not delegatecall).
interface IOptionsValuation {
    /// @notice Mark value of `vault`'s venue account (collateral + option marks) in USD 1e8.
    function valueE8(address vault) external view returns (int256);
}
