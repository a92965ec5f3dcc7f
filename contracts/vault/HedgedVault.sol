// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20, IERC20Metadata} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IVaultAdapter, RAISES_HEALTH_FACTOR_ONLY} from "../interfaces/IVaultAdapter.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {VaultLogic} from "./VaultLogic.sol";
import {VaultLogicFactory} from "./VaultLogicFactory.sol";
import {PriceLib} from "./libraries/PriceLib.sol";
import {VaultBounds} from "./libraries/VaultBounds.sol";
import {VaultMath} from "./libraries/VaultMath.sol";

/// @title HedgedVault
/// @notice ERC-4626 vault whose keeper hedges through whitelisted adapters (Aave v3 lending, Uniswap v3 swaps, the
///         option venue). What a compromised keeper can do is bounded by checks on measured state after every
///         rebalance: Aave health factor floor, NAV loss per rebalance, per-swap slippage at oracle prices, rolling
///         turnover and loss budgets (VaultLogic.chargeBudgets), and oracle freshness and agreement with the Uniswap TWAP.
/// @dev NAV = idle asset + tracked tokens at their oracle + each Aave reserve (supply − debt) at the same oracles + venue marks
///      reported by OPTIONS adapters. Rebalance gains are locked and released linearly (no sandwiching a
///      rebalance); rebalance losses are absorbed by still-locked profit first. Fees accrue (as shares) at every
///      entry point, and every preview/max view simulates that accrual, so previews equal results. Withdrawals are
///      served from idle assets; larger redemptions are queued and the keeper must fulfil them within
///      `maxFulfilDelaySeconds` (rebalancing is blocked while one is overdue unless it fulfils it).
contract HedgedVault is ERC4626, AccessControl, Pausable, ReentrancyGuardTransient, IHedgedVault {
    using SafeERC20 for IERC20;
    using Math for uint256;

    /* CONSTANTS */

    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");

    uint256 internal constant _BPS = 10_000;
    uint8 internal constant _OFFSET = VaultBounds.DECIMALS_OFFSET;
    uint256 internal constant _VIRTUAL_SHARES = 10 ** _OFFSET;
    uint8 internal constant _LENDING = uint8(IVaultAdapter.Kind.LENDING) + 1;
    uint8 internal constant _SWAP = uint8(IVaultAdapter.Kind.SWAP) + 1;
    uint8 internal constant _OPTIONS = uint8(IVaultAdapter.Kind.OPTIONS) + 1;

    /* IMMUTABLES */

    IAavePool public immutable aavePool;
    uint8 public immutable assetDecimals;
    VaultLogic internal immutable _logic;

    /* STORAGE */

    uint256 public depositCap;
    /// @dev 0: not allowed; otherwise the adapter's Kind + 1, read once when it is allowed.
    mapping(address adapter => uint8 kindPlusOne) internal _adapterKind;

    /// @dev The profit lock in one slot (issue 19, guard gas: 3 cold slots before): `amount` asset units locked at
    ///      `start`, released linearly until `end`. Ranges: amount < 2^160 (1.4e48 asset units; SafeCast reverts
    ///      above), timestamps < 2^48 (year 8.9 million).
    struct ProfitLock {
        uint160 amount;
        uint48 start;
        uint48 end;
    }

    ProfitLock internal _lock;

    RedeemRequest[] internal _redeems;

    /// @dev The redeem queue's head in one slot, all the overdue check of every batch reads (issue 19, guard gas:
    ///      4 cold slots before). `first`: requests before it are done; `pending`: request `first` exists and waits,
    ///      requested at `pendingSince` (= _redeems[first].requestedAt, kept by requestRedeem and _advancePending);
    ///      `maxDelaySeconds` ≤ MAX_FULFIL_DELAY_SECONDS. uint64s: indices and timestamps, as RedeemRequest's.
    ///      `paused`: Pausable's flag, kept here (paused/_pause/_unpause overridden; Pausable's own slot stays unused)
    ///      because every batch reads this slot anyway: one cold slot fewer.
    struct QueueHead {
        uint64 first;
        uint64 pendingSince;
        uint64 maxDelaySeconds;
        bool pending;
        bool paused;
    }

    QueueHead internal _head;
    uint256 public escrowedShares;

    /// @dev What a batch of adapter actions measured (NAV in asset units, Aave debt in base 1e8).
    struct Batch {
        uint256 navBefore;
        uint256 navAfter;
        uint256 debtBefore;
        uint256 healthFactorBefore;
        uint256 debtAfter;
        uint256 healthFactorAfter;
        uint256 navBeforeE8;
        uint256 supply; // after the fee mint
        uint256 turnoverE8;
        bool tradedOnVenue;
        bool mayLowerHealthFactor; // a lending action that did not report RAISES_HEALTH_FACTOR_ONLY
    }

    /* CONSTRUCTOR */

    /// @param asset_ the collateral asset (USDC on the devnet).
    /// @param assetFeed_ USD feed of the asset (values Aave and tracked tokens in asset units).
    /// @param governance the TimelockController: governance and role admin.
    /// @param logicFactory_ creates this vault's VaultLogic and names its Aave pool (a separate deployment: the
    ///        vault's initcode then stays under EIP-3860's 49,152 bytes, which embedding VaultLogic's creation code
    ///        would exceed).
    constructor(
        IERC20Metadata asset_,
        string memory name_,
        string memory symbol_,
        IAggregatorV3 assetFeed_,
        address governance,
        address guardian,
        address keeper,
        RiskParams memory risk_,
        FeeParams memory fees_,
        uint256 depositCap_,
        VaultLogicFactory logicFactory_
    ) ERC4626(asset_) ERC20(name_, symbol_) {
        if (governance == address(0) || address(assetFeed_) == address(0)) {
            revert ZeroAddress();
        }
        assetDecimals = asset_.decimals();
        _logic = logicFactory_.create(address(asset_), assetFeed_);
        if (_logic.vault() != address(this)) revert InvalidLogic(address(_logic));
        _logic.setRisk(risk_);
        _logic.setFees(fees_);
        aavePool = _logic.aavePool(); // the factory's Aave market
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
        if (keeper != address(0)) _grantRole(KEEPER_ROLE, keeper);
        depositCap = depositCap_;
        _head.maxDelaySeconds = 1 days;
        emit RiskParamsSet(msg.sender, risk_);
        emit FeeParamsSet(fees_);
        emit DepositCapSet(depositCap_);
        emit MaxFulfilDelaySet(1 days);
    }

    /* DEPOSIT / WITHDRAWAL: each prices with one NAV read, after minting the fees due */

    /// @inheritdoc ERC4626
    /// @dev Reverts with StalePrice when any feed is older than the heartbeat (shares would be mispriced), and with
    ///      ZeroShares when the assets buy no share (a donation-inflated price cannot swallow a deposit).
    function deposit(uint256 assets, address receiver) public override nonReentrant returns (uint256 shares) {
        (uint256 total, uint256 supply) = _accrue(true);
        uint256 max = _maxDeposit(total, supply);
        if (assets > max) revert ERC4626ExceededMaxDeposit(receiver, assets, max);
        shares = _sharesFor(assets, total, supply, Math.Rounding.Floor);
        // A deposit worth less than one share unit would be a gift to the holders: refused (intended equality);
        // deposit(0) mints 0 (ERC-4626 allows it).
        // slither-disable-next-line incorrect-equality
        if (shares == 0 && assets > 0) revert ZeroShares();
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc ERC4626
    function mint(uint256 shares, address receiver) public override nonReentrant returns (uint256 assets) {
        (uint256 total, uint256 supply) = _accrue(true);
        uint256 max = _maxMint(_maxDeposit(total, supply), total, supply);
        if (shares > max) revert ERC4626ExceededMaxMint(receiver, shares, max);
        assets = _assetsFor(shares, total, supply, Math.Rounding.Ceil);
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Open while paused and whatever the oracles say: only idle assets are paid out, which moves no risk.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 shares)
    {
        (uint256 total, uint256 supply) = _accrue(false);
        uint256 max = Math.min(_assetsFor(balanceOf(owner), total, supply, Math.Rounding.Floor), _idle());
        if (assets > max) revert ERC4626ExceededMaxWithdraw(owner, assets, max);
        shares = _sharesFor(assets, total, supply, Math.Rounding.Ceil);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc ERC4626
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 assets)
    {
        (uint256 total, uint256 supply) = _accrue(false);
        uint256 max = Math.min(balanceOf(owner), _sharesFor(_idle(), total, supply, Math.Rounding.Floor));
        if (shares > max) revert ERC4626ExceededMaxRedeem(owner, shares, max);
        assets = _assetsFor(shares, total, supply, Math.Rounding.Floor);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc IHedgedVault
    function requestRedeem(uint256 shares, address receiver, address owner)
        external
        nonReentrant
        returns (uint256 requestId)
    {
        if (receiver == address(0)) revert ZeroAddress();
        if (shares == 0) revert ZeroShares();
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        _transfer(owner, address(this), shares);
        escrowedShares += shares;
        requestId = _redeems.length;
        // Safe cast: block timestamps fit 64 bits for the next 5e11 years.
        // forge-lint: disable-next-line(unsafe-typecast)
        _redeems.push(
            RedeemRequest(owner, receiver, SafeCast.toUint128(shares), uint64(block.timestamp), false)
        );
        // The queue was empty: this request is its head (`first` already equals its id).
        // forge-lint: disable-next-line(unsafe-typecast)
        if (!_head.pending) (_head.pending, _head.pendingSince) = (true, uint64(block.timestamp));
        emit RedeemRequested(requestId, owner, receiver, shares);
    }

    /// @inheritdoc IHedgedVault
    function cancelRedeem(uint256 requestId) external nonReentrant {
        RedeemRequest storage r = _pendingRequest(requestId);
        if (r.owner != msg.sender) revert InvalidRedeemRequest(requestId);
        r.fulfilled = true;
        escrowedShares -= r.shares;
        _advancePending();
        emit RedeemCancelled(requestId, r.owner, r.shares, false);
        _transfer(address(this), r.owner, r.shares);
    }

    /// @inheritdoc IHedgedVault
    function fulfilRedeems(uint256[] calldata requestIds) external nonReentrant onlyRole(KEEPER_ROLE) {
        (uint256 total, uint256 supply) = _accrue(false);
        _fulfil(requestIds, total, supply);
    }

    /* REBALANCE */

    /// @inheritdoc IHedgedVault
    /// @dev The budgets and the profit lock are written after the adapters run because they are post-conditions on
    ///      NAV measured after them; the whole call is nonReentrant and its external calls go to the vault's own
    ///      VaultLogic and to timelock-whitelisted adapters.
    // slither-disable-next-line reentrancy-no-eth
    function rebalance(Action[] calldata actions, uint256[] calldata fulfilIds)
        external
        nonReentrant
        whenNotPaused
        onlyRole(KEEPER_ROLE)
    {
        (Batch memory b, RiskParams memory r, uint256 assetE8) =
            _runBatch(actions, fulfilIds.length > 0, false);
        if (b.debtAfter > 0 && b.healthFactorAfter < r.healthFactorFloorWad) {
            revert HealthFactorBelowFloor(b.healthFactorAfter, r.healthFactorFloorWad);
        }
        // Venue margin can only be worsened by the keeper through the venue: checked when the batch traded there
        // (a stale venue input then fails the batch; an Aave-only deleverage never waits on the vol feed).
        if (b.tradedOnVenue) _logic.checkVenueMargins();
        _logic.chargeBudgets(b.turnoverE8, _lossE8(b, assetE8), b.navBeforeE8, r, false);
        _settleProfit(b.navBefore, b.navAfter);
        if (fulfilIds.length > 0) _fulfil(fulfilIds, _lessLocked(b.navAfter), b.supply);
        _requireNoOverdue();
        emit Rebalanced(msg.sender, actions.length, b.navBefore, b.navAfter, b.turnoverE8);
    }

    /// @inheritdoc IHedgedVault
    /// @dev As rebalance: post-conditions on measured NAV, written after the adapters run, nonReentrant.
    // slither-disable-next-line reentrancy-no-eth
    function emergencyUnwind(Action[] calldata actions) external nonReentrant whenPaused {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(GOVERNANCE_ROLE, msg.sender)) {
            revert NotGuardianOrGovernance(msg.sender);
        }
        (Batch memory b, RiskParams memory r, uint256 assetE8) = _runBatch(actions, false, true);
        if (b.debtAfter > b.debtBefore) revert UnwindIncreasedDebt(b.debtBefore, b.debtAfter);
        if (b.debtAfter > 0 && b.healthFactorAfter < b.healthFactorBefore) {
            revert UnwindLoweredHealthFactor(b.healthFactorBefore, b.healthFactorAfter);
        }
        _logic.chargeBudgets(0, _lossE8(b, assetE8), b.navBeforeE8, r, true);
        _settleProfit(b.navBefore, b.navAfter);
        emit Unwound(msg.sender, actions.length, b.navBefore, b.navAfter);
    }

    /* GOVERNANCE (through the timelock) */

    /// @inheritdoc IHedgedVault
    function setRiskParams(RiskParams calldata params) external onlyRole(GOVERNANCE_ROLE) {
        _logic.setRisk(params);
        emit RiskParamsSet(msg.sender, params);
    }

    /// @inheritdoc IHedgedVault
    function setFeeParams(FeeParams calldata params) external onlyRole(GOVERNANCE_ROLE) {
        _accrue(false);
        _logic.setFees(params);
        emit FeeParamsSet(params);
    }

    /// @inheritdoc IHedgedVault
    function setAdapter(address adapter, bool allowed) external onlyRole(GOVERNANCE_ROLE) {
        if (adapter == address(0)) revert ZeroAddress();
        uint8 current = _adapterKind[adapter];
        if (allowed && current == 0) {
            uint8 kindPlusOne = uint8(IVaultAdapter(adapter).kind()) + 1;
            _adapterKind[adapter] = kindPlusOne;
            if (kindPlusOne == _OPTIONS) _logic.setOptionsAdapter(adapter, true);
        } else if (!allowed && current != 0) {
            delete _adapterKind[adapter];
            if (current == _OPTIONS) _logic.setOptionsAdapter(adapter, false);
        }
        emit AdapterSet(adapter, allowed);
    }

    /// @inheritdoc IHedgedVault
    function addTrackedToken(TrackedToken calldata t) external onlyRole(GOVERNANCE_ROLE) {
        _logic.addToken(t);
        emit TokenTracked(t.token, t.feed, t.twapPool);
    }

    /// @inheritdoc IHedgedVault
    function setTrackedTokenFeed(TrackedToken calldata t) external onlyRole(GOVERNANCE_ROLE) {
        _logic.setTokenFeed(t);
        emit TrackedTokenFeedSet(t.token, t.feed, t.twapPool);
    }

    /// @inheritdoc IHedgedVault
    function removeTrackedToken(address token) external onlyRole(GOVERNANCE_ROLE) {
        uint256 balance = _logic.removeToken(token);
        emit TokenRetired(token, balance);
    }

    /// @inheritdoc IHedgedVault
    function setAssetFeed(IAggregatorV3 feed) external onlyRole(GOVERNANCE_ROLE) {
        _logic.setAssetFeed(feed);
        emit AssetFeedSet(address(feed));
    }

    /// @inheritdoc IHedgedVault
    function setDepositCap(uint256 cap) external onlyRole(GOVERNANCE_ROLE) {
        depositCap = cap;
        emit DepositCapSet(cap);
    }

    /// @inheritdoc IHedgedVault
    function setMaxFulfilDelay(uint256 seconds_) external onlyRole(GOVERNANCE_ROLE) {
        if (seconds_ == 0 || seconds_ > VaultBounds.MAX_FULFIL_DELAY_SECONDS) {
            revert ParameterOutOfBounds(
                "maxFulfilDelaySeconds", seconds_, 1, VaultBounds.MAX_FULFIL_DELAY_SECONDS
            );
        }
        // Safe cast: seconds_ <= MAX_FULFIL_DELAY_SECONDS.
        // forge-lint: disable-next-line(unsafe-typecast)
        _head.maxDelaySeconds = uint64(seconds_);
        emit MaxFulfilDelaySet(seconds_);
    }

    /// @inheritdoc IHedgedVault
    function unpause() external onlyRole(GOVERNANCE_ROLE) {
        _unpause();
    }

    /* GUARDIAN */

    /// @inheritdoc IHedgedVault
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IHedgedVault
    function tightenRiskParams(RiskParams calldata p) external onlyRole(GUARDIAN_ROLE) {
        _logic.tightenRisk(p);
        emit RiskParamsSet(msg.sender, p);
    }

    /// @inheritdoc IHedgedVault
    function lowerDepositCap(uint256 cap) external onlyRole(GUARDIAN_ROLE) {
        if (cap > depositCap) revert OnlyTightening("depositCap", depositCap, cap);
        depositCap = cap;
        emit DepositCapSet(cap);
    }

    /* ERC-4626 ACCOUNTING */

    /// @notice NAV less profit still locked, in asset units (rounds down: favours the vault).
    function totalAssets() public view override returns (uint256 total) {
        (total,) = _viewTotals();
    }

    /// @dev Zero while paused or while any feed is stale (deposit would revert).
    function maxDeposit(address) public view override returns (uint256) {
        (uint256 total, bool fresh) = _viewTotals();
        return fresh ? _maxDeposit(total, totalSupply() + _pendingFeeShares(total)) : 0;
    }

    function maxMint(address) public view override returns (uint256) {
        (uint256 total, bool fresh) = _viewTotals();
        if (!fresh) return 0;
        uint256 supply = totalSupply() + _pendingFeeShares(total);
        return _maxMint(_maxDeposit(total, supply), total, supply);
    }

    /// @dev Honest: limited by the owner's shares (at the post-fee price) and by idle assets.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), _idle());
    }

    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(balanceOf(owner), _convertToShares(_idle(), Math.Rounding.Floor));
    }

    /// @dev Previews and conversions price with the fee shares an entry point would mint first.
    function _convertToShares(uint256 assets, Math.Rounding rounding)
        internal
        view
        override
        returns (uint256)
    {
        uint256 total = totalAssets();
        return _sharesFor(assets, total, totalSupply() + _pendingFeeShares(total), rounding);
    }

    function _convertToAssets(uint256 shares, Math.Rounding rounding)
        internal
        view
        override
        returns (uint256)
    {
        uint256 total = totalAssets();
        return _assetsFor(shares, total, totalSupply() + _pendingFeeShares(total), rounding);
    }

    /// @dev Pulls the assets and refuses a shortfall (fee-on-transfer): shares only for assets received.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        IERC20 token = IERC20(asset());
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(caller, address(this), assets);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != assets) revert AssetsNotReceived(assets, received);
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return _OFFSET;
    }

    /* VIEWS */

    /// @inheritdoc IHedgedVault
    function assetFeed() external view returns (IAggregatorV3 feed) {
        feed = _logic.assetFeed(); // a static word: returned as is (no _returnLogicView bytes to save)
    }

    /// @inheritdoc IHedgedVault
    function logic() external view returns (address) {
        return address(_logic);
    }

    /// @inheritdoc IHedgedVault
    // Halts with VaultLogic's answer on purpose (_returnLogicView): the return data is this function's ABI.
    // slither-disable-next-line incorrect-return
    function riskParams() external view returns (RiskParams memory r) {
        _returnLogicView(); // = `r = _logic.riskParams();`
    }

    /// @inheritdoc IHedgedVault
    // Halts with VaultLogic's answer on purpose (_returnLogicView): the return data is this function's ABI.
    // slither-disable-next-line incorrect-return
    function feeParams() external view returns (FeeParams memory f) {
        _returnLogicView(); // = `f = _logic.feeParams();`
    }

    /// @inheritdoc IHedgedVault
    // Halts with VaultLogic's answer on purpose (_returnLogicView): the return data is this function's ABI.
    // slither-disable-next-line incorrect-return
    function trackedTokens() external view returns (TrackedToken[] memory t) {
        _returnLogicView(); // = `t = _logic.trackedTokens();`
    }

    /// @inheritdoc IHedgedVault
    // Halts with VaultLogic's answer on purpose (_returnLogicView): the return data is this function's ABI.
    // slither-disable-next-line incorrect-return
    function optionsAdapters() external view returns (address[] memory a) {
        _returnLogicView(); // = `a = _logic.optionsAdapters();`
    }

    /// @inheritdoc IHedgedVault
    function adapterAllowed(address adapter) external view returns (bool) {
        return _adapterKind[adapter] != 0;
    }

    /// @inheritdoc IHedgedVault
    function redeemRequest(uint256 id) external view returns (RedeemRequest memory) {
        return _redeems[id];
    }

    /// @inheritdoc Pausable
    function paused() public view override returns (bool) {
        return _head.paused;
    }

    /// @inheritdoc IHedgedVault
    function firstPendingRedeem() external view returns (uint256) {
        return _head.first;
    }

    /// @notice How long a queued redemption may wait for the keeper (seconds).
    function maxFulfilDelaySeconds() external view returns (uint256) {
        return _head.maxDelaySeconds;
    }

    /// @inheritdoc IHedgedVault
    function redeemRequestCount() external view returns (uint256) {
        return _redeems.length;
    }

    /// @inheritdoc IHedgedVault
    function idleAssets() external view returns (uint256) {
        return _idle();
    }

    /// @notice The profit locked at `lockStart` (asset units), released linearly until `lockEnd`.
    function lockedProfit() external view returns (uint256) {
        return _lock.amount;
    }

    function lockStart() external view returns (uint256) {
        return _lock.start;
    }

    function lockEnd() external view returns (uint256) {
        return _lock.end;
    }

    /// @inheritdoc IHedgedVault
    function lockedProfitNow() external view returns (uint256) {
        return _lockedProfitNow();
    }

    /// @dev Ends the call with VaultLogic's answer to the same argument-less view (same selector, same ABI): the
    ///      Solidity equivalent is `return _logic.<view>();`, which decodes and re-encodes the answer (the structs
    ///      and arrays cost HedgedVault bytes it needs for packed storage under EIP-170).
    function _returnLogicView() internal view {
        address l = address(_logic);
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, shl(224, shr(224, calldataload(0))))
            let ok := staticcall(gas(), l, p, 4, 0, 0)
            returndatacopy(p, 0, returndatasize())
            if iszero(ok) { revert(p, returndatasize()) }
            return(p, returndatasize())
        }
    }

    /* INTERNAL: pause flag (in the queue head's slot) */

    function _pause() internal override whenNotPaused {
        _head.paused = true;
        emit Paused(_msgSender());
    }

    function _unpause() internal override whenPaused {
        _head.paused = false;
        emit Unpaused(_msgSender());
    }

    /* INTERNAL: rebalance */

    /// @dev Checked prices and NAV before (one call), the actions, NAV after and the max-loss bound: what rebalance
    ///      and emergencyUnwind share; each then applies its own checks to the measured Batch. Fees accrue only when
    ///      the batch pays queued redemptions (`accrue`): the bounds are on gross NAV, which fees do not move, and
    ///      every entry point accrues before it prices.
    function _runBatch(Action[] calldata actions, bool accrue, bool unwind)
        internal
        returns (Batch memory b, RiskParams memory r, uint256 assetE8)
    {
        // Aave's account data before the batch only for an unwind (its debt and health factor may not worsen).
        VaultLogic.State memory s = _logic.checkedState(unwind);
        (r, assetE8, b.navBefore, b.debtBefore, b.healthFactorBefore) =
        (s.risk, s.assetPriceE8, s.nav, s.debtBase, s.healthFactor);
        if (accrue) b.supply = _accrueFees(_lessLocked(b.navBefore));
        for (uint256 i; i < actions.length; ++i) {
            (uint256 turnoverE8, uint8 kindPlusOne, bool mayLower) = _execute(i, actions[i], s);
            b.turnoverE8 += turnoverE8;
            if (kindPlusOne == _OPTIONS) b.tradedOnVenue = true;
            if (mayLower) b.mayLowerHealthFactor = true;
        }
        // Untouched venue accounts keep their value within the transaction: no second repricing of the book. Aave's
        // account data only when the batch may have lowered the health factor (a withdraw or a borrow: a batch of
        // supplies, repays, swaps and venue trades cannot, and then passes the floor check as it passed it before)
        // or for an unwind (its debt and health factor are compared with before).
        (b.navAfter, b.debtAfter, b.healthFactorAfter) =
            _logic.navAfter(s, b.tradedOnVenue, unwind || b.mayLowerHealthFactor);
        if (b.navAfter * _BPS < b.navBefore * (_BPS - r.maxLossBps)) {
            revert MaxLossExceeded(b.navBefore, b.navAfter, r.maxLossBps);
        }
        b.navBeforeE8 = _assetsToE8(b.navBefore, assetE8);
    }

    /// @dev One adapter action by DELEGATECALL; a swap is judged by the oracle value of what left and entered the
    ///      wallet (measured around it: only a swap's wallet delta is used, so only a swap pays for it).
    function _execute(uint256 index, Action calldata action, VaultLogic.State memory s)
        internal
        returns (uint256 turnoverE8, uint8 kindPlusOne, bool mayLowerHealthFactor)
    {
        kindPlusOne = _adapterKind[action.adapter];
        if (kindPlusOne == 0) revert AdapterNotAllowed(action.adapter);
        bool swap = kindPlusOne == _SWAP;
        uint256[] memory before = swap ? _logic.walletBalances() : new uint256[](0);
        // Adapters are timelock-whitelisted, storage-free code run in the vault's context.
        // slither-disable-next-line controlled-delegatecall,delegatecall-loop
        (bool ok, bytes memory reason) =
            action.adapter.delegatecall(abi.encodeCall(IVaultAdapter.execute, (action.data)));
        if (!ok) revert AdapterCallFailed(index, reason);
        // Turnover is what trades at a market price: a swap's wallet delta, an option premium (paid out of or into
        // venue collateral, which the wallet does not see: the adapter reports it). Lending moves and venue margin
        // moves (supply, borrow, margin in and out) cost nothing to churn, and counting them would let the budget
        // block a deleverage or a margin top-up.
        if (kindPlusOne == _OPTIONS) turnoverE8 = abi.decode(reason, (uint256));
        // Fail-safe: anything but an explicit RAISES_HEALTH_FACTOR_ONLY from a lending adapter keeps the read.
        if (kindPlusOne == _LENDING) {
            mayLowerHealthFactor =
                reason.length != 32 || abi.decode(reason, (uint256)) != RAISES_HEALTH_FACTOR_ONLY;
        }
        if (swap) {
            (uint256 spentE8, uint256 receivedE8, uint256 checked) =
                _logic.walletDeltaE8(before, s.assetPriceE8, s.tokenPricesE8);
            s.twapChecked |= checked; // navAfter does not observe these pools again
            uint256 maxSlippageBps = s.risk.maxSlippageBps;
            turnoverE8 = Math.max(spentE8, receivedE8);
            // A swap that spent no priced token spent something the check cannot see (the vault's aTokens): refused,
            // whatever the adapter checks itself. (Equality intended: nothing priced left the wallet.)
            // slither-disable-next-line incorrect-equality
            if (spentE8 == 0) revert SwapSpentNothingPriced(index);
            if (receivedE8 * _BPS < spentE8 * (_BPS - maxSlippageBps)) {
                revert SlippageExceeded(index, spentE8, receivedE8, maxSlippageBps);
            }
        }
    }

    /// @dev The batch's NAV loss in USD 1e8 (0 for a gain).
    function _lossE8(Batch memory b, uint256 assetE8) internal view returns (uint256) {
        return b.navAfter < b.navBefore ? _assetsToE8(b.navBefore - b.navAfter, assetE8) : 0;
    }

    /* INTERNAL: valuation */

    function _idle() internal view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    function _assetsToE8(uint256 assets, uint256 assetE8) internal view returns (uint256) {
        return assets.mulDiv(assetE8, 10 ** assetDecimals);
    }

    /// @dev totalAssets for views, and whether deposits would see fresh prices.
    function _viewTotals() internal view returns (uint256 total, bool fresh) {
        uint256 gross;
        (gross, fresh) = _logic.navNow();
        total = _lessLocked(gross);
    }

    /* INTERNAL: shares, fees, profit lock */

    function _sharesFor(uint256 assets, uint256 total, uint256 supply, Math.Rounding rounding)
        internal
        pure
        returns (uint256)
    {
        return assets.mulDiv(supply + _VIRTUAL_SHARES, total + 1, rounding);
    }

    function _assetsFor(uint256 shares, uint256 total, uint256 supply, Math.Rounding rounding)
        internal
        pure
        returns (uint256)
    {
        return shares.mulDiv(total + 1, supply + _VIRTUAL_SHARES, rounding);
    }

    /// @dev The cap's room: type(uint256).max when uncapped, 0 when the room buys no share (deposit(maxDeposit)
    ///      then deposits 0 instead of reverting ZeroShares).
    function _maxDeposit(uint256 total, uint256 supply) internal view returns (uint256 room) {
        if (paused()) return 0;
        uint256 cap = depositCap;
        if (cap == type(uint256).max) return cap;
        room = cap > total ? cap - total : 0;
        // A room that buys no share (intended equality, not a balance comparison): deposit(maxDeposit) must pass.
        // slither-disable-next-line incorrect-equality
        if (_sharesFor(room, total, supply, Math.Rounding.Floor) == 0) room = 0;
    }

    /// @dev maxDeposit in shares, saturating at type(uint256).max instead of overflowing (uncapped vault).
    function _maxMint(uint256 maxAssets, uint256 total, uint256 supply) internal pure returns (uint256) {
        (bool fits, uint256 product) = Math.tryMul(maxAssets, supply + _VIRTUAL_SHARES);
        return fits ? product / (total + 1) : type(uint256).max;
    }

    /// @dev Reads prices (fresh ones if `requireFresh`: entries) and NAV once, mints the fees due; returns
    ///      totalAssets and the supply after the mint, which the caller prices with.
    function _accrue(bool requireFresh) internal returns (uint256 total, uint256 supply) {
        (uint256 gross, bool fresh) = _logic.navNow();
        if (requireFresh && !fresh) {
            // Called only to revert with the stale feed named; its return values are not needed.
            // slither-disable-next-line unused-return
            _logic.checkedState(false);
            // Nothing named there (checkedState passed: a venue valuation that failed in navNow only): still refused.
            revert StalePrice(address(0), 0, 0);
        }
        total = _lessLocked(gross);
        supply = _accrueFees(total);
    }

    /// @dev Mints management and performance fees due at `total` (= totalAssets now); returns the new supply.
    function _accrueFees(uint256 total) internal returns (uint256 supply) {
        supply = totalSupply();
        (uint256 management, uint256 performance, address recipient) = _logic.accrueFees(total, supply);
        if (management + performance > 0) {
            _mint(recipient, management + performance);
            supply += management + performance;
            emit FeesMinted(recipient, management, performance);
        }
    }

    function _pendingFeeShares(uint256 total) internal view returns (uint256) {
        return _logic.pendingFeeShares(total, totalSupply());
    }

    function _lockedProfitNow() internal view returns (uint256) {
        ProfitLock memory p = _lock;
        return VaultMath.lockedProfitAt(p.amount, p.start, p.end, block.timestamp);
    }

    function _lessLocked(uint256 gross) internal view returns (uint256) {
        uint256 locked = _lockedProfitNow();
        return gross > locked ? gross - locked : 0;
    }

    /// @dev A batch's gain is locked (weighted unlock end); a loss is absorbed by profit still locked first.
    function _settleProfit(uint256 navBefore, uint256 navAfter) internal {
        ProfitLock memory p = _lock;
        uint256 lockedNow = VaultMath.lockedProfitAt(p.amount, p.start, p.end, block.timestamp);
        uint256 locked;
        uint256 end = p.end;
        if (navAfter > navBefore) {
            (locked, end) = VaultMath.lockGain(
                lockedNow, end, navAfter - navBefore, _logic.profitUnlockSeconds(), block.timestamp
            );
        } else if (lockedNow > 0) {
            uint256 loss = navBefore - navAfter;
            locked = lockedNow > loss ? lockedNow - loss : 0;
        } else {
            return;
        }
        _lock = ProfitLock(
            SafeCast.toUint160(locked), SafeCast.toUint48(block.timestamp), SafeCast.toUint48(end)
        );
    }

    /* INTERNAL: redeem queue */

    function _pendingRequest(uint256 id) internal view returns (RedeemRequest storage r) {
        if (id >= _redeems.length) revert InvalidRedeemRequest(id);
        r = _redeems[id];
        if (r.fulfilled) revert InvalidRedeemRequest(id);
    }

    /// @dev Pays requests at the price of (`total`, `supply`), kept exact as each payout leaves. A payout whose
    ///      transfer fails bounces: the shares go back to the owner, so one receiver cannot jam the queue.
    ///      The idle balance is read afresh in each iteration, right before it is compared (slither's loop analysis
    ///      sees the previous iteration's transfer as "before": no stale balance is used).
    // slither-disable-next-line reentrancy-balance
    function _fulfil(uint256[] calldata ids, uint256 total, uint256 supply) internal {
        for (uint256 i; i < ids.length; ++i) {
            RedeemRequest storage r = _pendingRequest(ids[i]);
            uint256 shares = r.shares;
            uint256 assets = _assetsFor(shares, total, supply, Math.Rounding.Floor);
            uint256 idle = _idle(); // measured each time: never a balance read before a payout
            if (assets > idle) revert InsufficientLiquidity(assets, idle);
            r.fulfilled = true;
            escrowedShares -= shares;
            _burn(address(this), shares);
            if (_tryTransferAsset(r.receiver, assets)) {
                (total, supply) = (total - assets, supply - shares);
                emit RedeemFulfilled(ids[i], r.receiver, shares, assets);
            } else {
                _mint(r.owner, shares);
                emit RedeemCancelled(ids[i], r.owner, shares, true);
            }
        }
        _advancePending();
    }

    /// @dev SafeERC20's acceptance rule (no return data from a contract, or `true`), without reverting.
    function _tryTransferAsset(address to, uint256 amount) internal returns (bool) {
        address token = asset();
        // slither-disable-next-line low-level-calls
        (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20.transfer, (to, amount)));
        if (!ok) return false;
        // ABI return-value checks (empty, or the word 1), not balance comparisons.
        // slither-disable-next-line incorrect-equality
        if (ret.length == 0) return token.code.length > 0;
        // slither-disable-next-line incorrect-equality
        return ret.length >= 32 && abi.decode(ret, (uint256)) == 1;
    }

    function _advancePending() internal {
        QueueHead memory h = _head;
        uint256 next = h.first;
        uint256 n = _redeems.length;
        while (next < n && _redeems[next].fulfilled) ++next;
        // Safe cast: next <= the queue's length, far below 2^64.
        // forge-lint: disable-next-line(unsafe-typecast)
        h.first = uint64(next);
        h.pending = next < n;
        h.pendingSince = h.pending ? _redeems[next].requestedAt : 0;
        _head = h;
    }

    function _requireNoOverdue() internal view {
        QueueHead memory h = _head;
        if (h.pending) {
            uint256 deadline = uint256(h.pendingSince) + h.maxDelaySeconds;
            if (block.timestamp > deadline) revert RedeemOverdue(h.first, h.pendingSince, deadline);
        }
    }
}
