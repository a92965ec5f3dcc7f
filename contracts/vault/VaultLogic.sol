// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";
import {SSTORE2} from "solady/utils/SSTORE2.sol";

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IOptionsValuation} from "../interfaces/IOptionsValuation.sol";
import {IPricedTokens} from "../interfaces/IPricedTokens.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {IUniswapV3Pool} from "../interfaces/uniswap/IUniswapV3.sol";
import {VaultParamChecks} from "./VaultParamChecks.sol";
import {PriceLib} from "./libraries/PriceLib.sol";
import {VaultBounds} from "./libraries/VaultBounds.sol";
import {VaultMath} from "./libraries/VaultMath.sol";

/// @title VaultLogic
/// @notice The vault's configuration, valuation and fee book, in its own contract so HedgedVault stays under
///         EIP-170 (24,576 bytes): it holds the risk and fee parameters, the tracked tokens, the OPTIONS adapters and
///         the fee state (high-water mark, last accrual), all written only by its vault (which checks roles and
///         emits the events); it reads oracle prices with freshness and agreement with the Uniswap TWAP (in tick
///         space), values the vault's holdings, computes the fees due, and checks parameter bounds and guardian
///         tightening. Created by the vault's constructor (`vault` is its creator); reverts
///         with IHedgedVault's errors, which the vault's calls bubble up unchanged.
contract VaultLogic is IPricedTokens {
    using Math for uint256;

    /// @dev ln(1.0001) in WAD: one Uniswap tick.
    int256 internal constant _LN_TICK_WAD = 99_995_000_333_308;

    /// @notice Thrown when anyone but the vault writes the configuration.
    error OnlyVault(address caller);
    /// @notice Thrown when an OPTIONS adapter's valuation used all the gas it was given: the call may have been
    ///         short of gas (send more) or the venue burns gas (governance delists the adapter); an exit is never
    ///         paid without a venue that merely needed more gas.
    error OptionsValuationOutOfGas(address adapter);

    /// @notice The vault this contract serves (it called the factory that created this contract).
    address public immutable vault;
    address public immutable asset;
    uint8 public immutable assetDecimals;
    IAavePool public immutable aavePool;

    /// @dev The configuration every valuation reads (issue 19, guard gas): the risk parameters, the asset's USD feed,
    ///      the tracked tokens, their Aave reserve tokens and the OPTIONS adapters, abi-encoded in ONE SSTORE2 data
    ///      contract (`_configData`), rewritten whole by every setter. A valuation reads it with one cold SLOAD and
    ///      one EXTCODECOPY (~5k) instead of ~16 cold slots (~34k). It is the only copy (no storage mirror), so no
    ///      reader can see a configuration older than the last setter's.
    address internal _configData;
    IHedgedVault.FeeParams internal _fees;
    /// @notice Share price (VaultMath.sharePriceWad) after the last performance fee.
    uint256 public highWaterMarkWad;
    /// @notice When fees last accrued (seconds).
    uint256 public lastFeeAccrual;

    /// @dev A rolling budget (issue 19, finding 4): `usedE8` (USD 1e8) at `at`, draining linearly at
    ///      `drainE8PerSecond` = capacity / period, set at the last charge. The capacity is half the period budget
    ///      (nav × bps / 2), so what is charged over ANY window of one period is at most capacity (the level can
    ///      hold) + capacity (what can drain) = the budget at the window's highest NAV: the same bound at every
    ///      instant, with no boundary to straddle (a fixed window allowed 2 × the budget within seconds).
    struct Budget {
        uint128 usedE8;
        uint96 drainE8PerSecond;
        uint32 at;
    }

    /// @dev The configuration (see `_configData`). `assetFeed`: USD feed of the asset; governance may re-point it (a
    ///      dead feed must not strand the vault). `reserves`: each tracked token's Aave reserve tokens (parallel to
    ///      `tokens`), read when it is tracked or re-pointed.
    struct Config {
        IHedgedVault.RiskParams risk;
        IAggregatorV3 assetFeed;
        IHedgedVault.TrackedToken[] tokens;
        AaveTokens[] reserves;
        address[] optionsAdapters;
    }

    /// @dev An Aave v3 reserve's aToken, id (its bits in Aave's user configuration) and variable-debt token (all 0:
    ///      Aave had no reserve for the token; it is looked up again at every valuation until it has one). The vault
    ///      only borrows at the variable rate.
    struct AaveTokens {
        address aToken;
        uint16 id;
        address debtToken;
    }

    /// @notice The pure bounds and tightening checks of the parameters (a contract of their own: EIP-170 room),
    ///         which also serves the hard bounds (`MAX_LOSS_BPS`, …) that governance reads.
    VaultParamChecks public immutable paramChecks;

    /// @dev The asset's reserve tokens, read at construction.
    address internal immutable _assetAToken;
    address internal immutable _assetDebtToken;
    uint16 internal immutable _assetReserveId;

    Budget internal _turnover;
    Budget internal _loss;
    Budget internal _unwindLoss; // emergency unwinds: their own loss budget

    modifier onlyVault() {
        if (msg.sender != vault) revert OnlyVault(msg.sender);
        _;
    }

    constructor(address vault_, address asset_, IAggregatorV3 assetFeed_, IAavePool aavePool_) {
        vault = vault_;
        asset = asset_;
        assetDecimals = IERC20Metadata(asset_).decimals();
        aavePool = aavePool_;
        paramChecks = new VaultParamChecks();
        AaveTokens memory r = _reserveOf(asset_);
        (_assetAToken, _assetDebtToken, _assetReserveId) = (r.aToken, r.debtToken, r.id);
        // The risk and fee parameters are set by the vault's constructor (setRisk, setFees): a small constructor
        // keeps this contract's creation code, which VaultLogicFactory carries, well under EIP-170.
        highWaterMarkWad = 1e18;
        lastFeeAccrual = block.timestamp;
        // Zero risk parameters until the vault's setRisk, no tracked token, no OPTIONS adapter.
        _setConfig(
            Config(
                IHedgedVault.RiskParams(0, 0, 0, 0, 0, 0, 0, 0, 0),
                assetFeed_,
                new IHedgedVault.TrackedToken[](0),
                new AaveTokens[](0),
                new address[](0)
            )
        );
    }

    /// @dev The configuration, read from its data contract: `abi.encode(c)` of `_setConfig`, pointed into in place (an
    ///      ABI decode costs ~5k per read, several reads a batch): every field of the encoding is a clean word, so
    ///      the static risk struct and the address[] are their own memory image, and the two arrays of static structs
    ///      need only an array of pointers to their encoded elements. Trusted layout: only `_setConfig` writes it.
    function _config() internal view returns (Config memory c) {
        bytes memory data = SSTORE2.read(_configData);
        assembly ("memory-safe") {
            // data: [length][offset of the struct][struct: risk (9 words), assetFeed, 3 offsets from its start][tails]
            let s := add(add(data, 0x20), mload(add(data, 0x20)))
            mstore(c, s)
            mstore(add(c, 0x20), mload(add(s, 0x120)))
            let free := mload(0x40)
            // k = 0: tokens (4 words an element), k = 1: reserves (3 words an element).
            for { let k := 0 } lt(k, 2) { k := add(k, 1) } {
                let a := add(s, mload(add(s, add(0x140, mul(k, 0x20)))))
                let n := mload(a)
                let size := sub(0x80, mul(k, 0x20))
                mstore(add(c, add(0x40, mul(k, 0x20))), free)
                mstore(free, n)
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    mstore(add(free, mul(add(i, 1), 0x20)), add(add(a, 0x20), mul(i, size)))
                }
                free := add(free, mul(add(n, 1), 0x20))
            }
            mstore(0x40, free)
            mstore(add(c, 0x80), add(s, mload(add(s, 0x180))))
        }
    }

    /// @dev Replace the configuration: a new data contract, its address in the one slot readers follow.
    function _setConfig(Config memory c) internal {
        _configData = SSTORE2.write(abi.encode(c));
    }

    /* CONFIGURATION (vault only) */

    /// @notice Replace the risk parameters (each within its hard bound).
    function setRisk(IHedgedVault.RiskParams calldata p) external onlyVault {
        paramChecks.checkRisk(p);
        Config memory c = _config();
        c.risk = p;
        _setConfig(c);
    }

    /// @notice Replace the risk parameters with ones at least as strict, field by field (the guardian's power).
    function tightenRisk(IHedgedVault.RiskParams calldata p) external onlyVault {
        Config memory c = _config();
        paramChecks.checkTightening(c.risk, p);
        c.risk = p;
        _setConfig(c);
    }

    /// @notice Track a token: not the asset, decimals as the token says, a live feed, a TWAP pool (if any) that
    ///         pairs exactly this token with the asset; not tracked yet, and at most MAX_TRACKED_TOKENS.
    function addToken(IHedgedVault.TrackedToken calldata t) external onlyVault {
        paramChecks.checkToken(t, asset);
        Config memory c = _config();
        uint256 n = c.tokens.length;
        if (n >= VaultBounds.MAX_TRACKED_TOKENS) {
            revert IHedgedVault.ListFull(VaultBounds.MAX_TRACKED_TOKENS);
        }
        if (_indexOf(c.tokens, t.token) < n) revert IHedgedVault.TokenAlreadyTracked(t.token);
        IHedgedVault.TrackedToken[] memory tokens = new IHedgedVault.TrackedToken[](n + 1);
        AaveTokens[] memory reserves = new AaveTokens[](n + 1);
        for (uint256 i; i < n; ++i) {
            (tokens[i], reserves[i]) = (c.tokens[i], c.reserves[i]);
        }
        (tokens[n], reserves[n]) = (t, _reserveOf(t.token));
        (c.tokens, c.reserves) = (tokens, reserves);
        _setConfig(c);
    }

    /// @notice Re-point a tracked token's feed and TWAP pool (same checks as addToken; decimals must not change).
    function setTokenFeed(IHedgedVault.TrackedToken calldata t) external onlyVault {
        Config memory c = _config();
        uint256 i = _indexOf(c.tokens, t.token);
        if (i == c.tokens.length) revert IHedgedVault.TokenNotTracked(t.token);
        paramChecks.checkToken(t, asset);
        (c.tokens[i], c.reserves[i]) = (t, _reserveOf(t.token));
        _setConfig(c);
    }

    /// @notice Stop tracking `token` (order of the others kept); returns the balance it writes off NAV (wallet and
    ///         Aave supply). Refused while the vault owes Aave debt in it (NAV would stop counting the debt).
    function removeToken(address token) external onlyVault returns (uint256 balance) {
        Config memory c = _config();
        (IHedgedVault.TrackedToken[] memory tokens, AaveTokens[] memory reserves) = (c.tokens, c.reserves);
        uint256 n = tokens.length;
        uint256 i = _indexOf(tokens, token);
        if (i == n) revert IHedgedVault.TokenNotTracked(token);
        (uint256 supplied, uint256 owed) = _aaveBalances(token, reserves[i], type(uint256).max);
        if (owed > 0) revert IHedgedVault.TrackedTokenOwed(token, owed);
        for (; i + 1 < n; ++i) {
            (tokens[i], reserves[i]) = (tokens[i + 1], reserves[i + 1]);
        }
        // Drop the last entry (memory arrays of pointers: shortening the length is the pop).
        assembly ("memory-safe") {
            mstore(tokens, sub(n, 1))
            mstore(reserves, sub(n, 1))
        }
        _setConfig(c);
        balance = _balanceOrZero(token) + supplied;
    }

    /// @notice Re-point the asset's USD feed (a live feed: positive answer).
    function setAssetFeed(IAggregatorV3 feed) external onlyVault {
        if (address(feed) == address(0)) revert IHedgedVault.ZeroAddress();
        // slither-disable-next-line unused-return
        (uint256 price,) = PriceLib.priceE8(address(feed));
        Config memory c = _config();
        if (price == 0) revert IHedgedVault.StalePrice(address(feed), 0, c.risk.heartbeatSeconds);
        c.assetFeed = feed;
        _setConfig(c);
    }

    /// @notice Replace the fee parameters (the vault accrues under the old ones first).
    function setFees(IHedgedVault.FeeParams calldata f) external onlyVault {
        paramChecks.checkFees(f, vault);
        _fees = f;
    }

    /// @notice Record an accrual at (`total` = totalAssets, `supply` before the mint): the vault mints
    ///         `management + performance` shares to `recipient`.
    function accrueFees(uint256 total, uint256 supply)
        external
        onlyVault
        returns (uint256 management, uint256 performance, address recipient)
    {
        uint256 hwm;
        (management, performance, hwm, recipient) = _fees_(total, supply);
        if (lastFeeAccrual != block.timestamp) lastFeeAccrual = block.timestamp;
        if (hwm != highWaterMarkWad) highWaterMarkWad = hwm;
    }

    /// @notice Charge a batch's turnover and NAV loss (USD 1e8) to the rolling budgets at `navE8` (NAV before the
    ///         batch) and the risk parameters `r` (as checkedState returned them): keeper batches to the turnover
    ///         and loss budgets, guardian unwinds (`unwind`) to their own loss budget only.
    /// @dev Reverts TurnoverBudgetExceeded / LossBudgetExceeded(used, capacity): used = drained level + this
    ///      charge, capacity = half the period budget (see Budget).
    function chargeBudgets(
        uint256 turnoverE8,
        uint256 lossE8,
        uint256 navE8,
        IHedgedVault.RiskParams calldata r,
        bool unwind
    ) external onlyVault {
        uint256 used;
        uint256 capacity;
        if (turnoverE8 > 0) {
            (used, capacity) = _charge(_turnover, turnoverE8, navE8 * r.turnoverBudgetBps, r.periodSeconds);
            if (used > capacity) revert IHedgedVault.TurnoverBudgetExceeded(used, capacity);
        }
        if (lossE8 > 0) {
            (used, capacity) =
                _charge(unwind ? _unwindLoss : _loss, lossE8, navE8 * r.lossBudgetBps, r.periodSeconds);
            if (used > capacity) revert IHedgedVault.LossBudgetExceeded(used, capacity);
        }
    }

    function _charge(Budget storage u, uint256 amountE8, uint256 navTimesBps, uint256 periodSeconds)
        internal
        returns (uint256 used, uint256 capacity)
    {
        capacity = navTimesBps / 20_000;
        used = _usedNow(u) + amountE8;
        u.usedE8 = SafeCast.toUint128(used);
        u.drainE8PerSecond = SafeCast.toUint96(capacity / periodSeconds);
        u.at = SafeCast.toUint32(block.timestamp);
    }

    function _usedNow(Budget memory u) internal view returns (uint256) {
        uint256 drained = (block.timestamp - u.at) * u.drainE8PerSecond;
        return u.usedE8 > drained ? u.usedE8 - drained : 0;
    }

    /// @notice The rolling budgets' levels now (USD 1e8, drained to this block; each refused once a charge would
    ///         take it over half its period budget) and when one was last charged (0: never).
    function budgetsUsed()
        external
        view
        returns (uint256 turnoverE8, uint256 lossE8, uint256 unwindLossE8, uint256 lastChargedAt)
    {
        (Budget memory t, Budget memory l, Budget memory w) = (_turnover, _loss, _unwindLoss);
        lastChargedAt = Math.max(t.at, Math.max(l.at, w.at));
        return (_usedNow(t), _usedNow(l), _usedNow(w), lastChargedAt);
    }

    /// @notice List or delist an OPTIONS adapter (its venue marks are part of NAV); the vault calls this only on a
    ///         change of its allowed set, so an adapter is listed at most once.
    function setOptionsAdapter(address adapter, bool listed) external onlyVault {
        Config memory c = _config();
        address[] memory a = c.optionsAdapters;
        uint256 n = a.length;
        if (listed) {
            if (n >= VaultBounds.MAX_OPTIONS_ADAPTERS) {
                revert IHedgedVault.ListFull(VaultBounds.MAX_OPTIONS_ADAPTERS);
            }
            c.optionsAdapters = new address[](n + 1);
            for (uint256 i; i < n; ++i) {
                c.optionsAdapters[i] = a[i];
            }
            c.optionsAdapters[n] = adapter;
        } else {
            uint256 i;
            while (i < n && a[i] != adapter) ++i;
            if (i == n) return;
            a[i] = a[n - 1];
            // Drop the last entry.
            assembly ("memory-safe") {
                mstore(a, sub(n, 1))
            }
        }
        _setConfig(c);
    }

    /// @notice The venue-margin post-check of a rebalance: every OPTIONS adapter's accounts above its floor.
    function checkVenueMargins() external view {
        address[] memory a = _config().optionsAdapters;
        for (uint256 i; i < a.length; ++i) {
            IOptionsValuation(a[i]).checkMargin(vault);
        }
    }

    /* CONFIGURATION VIEWS */

    /// @inheritdoc IPricedTokens
    function isPriced(address token) external view returns (bool) {
        if (token == asset) return true;
        IHedgedVault.TrackedToken[] memory tokens = _config().tokens;
        return _indexOf(tokens, token) < tokens.length;
    }

    /// @notice Oracle price of `feed` in USD with 8 decimals and its timestamp (no staleness check: for views and
    ///         governance's pre-flight checks; 0 for a dead feed, as PriceLib reads it).
    function priceE8(address feed) external view returns (uint256 price, uint256 updatedAt) {
        return PriceLib.priceE8(feed);
    }

    /// @notice USD feed of the asset; governance may re-point it (a dead feed must not strand the vault).
    function assetFeed() external view returns (IAggregatorV3) {
        return _config().assetFeed;
    }

    function riskParams() external view returns (IHedgedVault.RiskParams memory) {
        return _config().risk;
    }

    function trackedTokens() external view returns (IHedgedVault.TrackedToken[] memory) {
        return _config().tokens;
    }

    function optionsAdapters() external view returns (address[] memory) {
        return _config().optionsAdapters;
    }

    function feeParams() external view returns (IHedgedVault.FeeParams memory) {
        return _fees;
    }

    function profitUnlockSeconds() external view returns (uint256) {
        return _fees.profitUnlockSeconds;
    }

    /// @notice Fee shares an accrual at (`total`, `supply`) would mint now (what previews price with).
    function pendingFeeShares(uint256 total, uint256 supply) external view returns (uint256) {
        (uint256 management, uint256 performance,,) = _fees_(total, supply);
        return management + performance;
    }

    function _fees_(uint256 total, uint256 supply)
        internal
        view
        returns (uint256 management, uint256 performance, uint256 hwm, address recipient)
    {
        IHedgedVault.FeeParams memory f = _fees;
        recipient = f.feeRecipient;
        (management, performance, hwm) = VaultMath.accruedFees(
            VaultMath.FeeInput({
                assets: total,
                supply: supply,
                virtualShares: 10 ** VaultBounds.DECIMALS_OFFSET,
                elapsedSeconds: block.timestamp - lastFeeAccrual,
                highWaterMarkWad: highWaterMarkWad,
                managementFeeBps: f.managementFeeBps,
                performanceFeeBps: f.performanceFeeBps,
                hasRecipient: recipient != address(0)
            })
        );
    }

    function _indexOf(IHedgedVault.TrackedToken[] memory tokens, address token)
        internal
        pure
        returns (uint256 i)
    {
        uint256 n = tokens.length;
        while (i < n && tokens[i].token != token) ++i;
    }

    /* ORACLES AND VALUATION */

    /// @notice What a keeper or guardian batch is judged with (checkedState), and what navAfter compares with.
    struct State {
        IHedgedVault.RiskParams risk;
        uint256 assetPriceE8;
        uint256[] tokenPricesE8; // each tracked token's, in order
        int256[] amounts; // each tracked token's wallet + Aave supply − Aave debt before the batch
        uint256 nav; // asset units
        uint256 debtBase; // Aave's account data (base currency 1e8), when asked for (`aaveAccount`)
        uint256 healthFactor; // idem
        int256 optionsValueE8; // venue marks
        uint256 twapChecked; // bit i: token i's TWAP already checked in this batch (walletDeltaE8's `checked`)
    }

    /// @notice What a keeper or guardian batch is judged with: the risk parameters, the prices (USD 1e8) of the
    ///         asset and of each tracked token once every one is fresh (positive, within the heartbeat), each
    ///         tracked token's amount (wallet + Aave supply − Aave debt), and the NAV before the batch at those
    ///         prices (asset units); Aave's debt (base 1e8) and health factor if `aaveAccount`. One call. The TWAP
    ///         agreement of a token's price is checked where that price judges the batch: by walletDeltaE8 for a
    ///         token a swap moved, by navAfter for a token whose amount the batch changed (a price that multiplies
    ///         an unchanged amount cancels out of the batch's NAV change, the only thing the guards judge by prices).
    /// @dev Reverts with StalePrice.
    function checkedState(bool aaveAccount) external view returns (State memory s) {
        Config memory c = _config();
        s.risk = c.risk;
        IHedgedVault.TrackedToken[] memory tokens = c.tokens;
        s.assetPriceE8 = _fresh(address(c.assetFeed), s.risk.heartbeatSeconds);
        s.tokenPricesE8 = new uint256[](tokens.length);
        for (uint256 i; i < tokens.length; ++i) {
            s.tokenPricesE8[i] = _fresh(tokens[i].feed, s.risk.heartbeatSeconds);
        }
        (s.optionsValueE8,) = _optionsValueE8(c.optionsAdapters, true); // strict, as _strictOptionsValueE8
        s.amounts = new int256[](tokens.length);
        s.nav = _nav(c, s.assetPriceE8, s.tokenPricesE8, s.optionsValueE8, s.amounts);
        if (aaveAccount) (s.debtBase, s.healthFactor) = _aaveAccount();
    }

    /// @notice The vault's wallet: its asset balance, then each tracked token's (taken before an action).
    function walletBalances() external view returns (uint256[] memory) {
        return _walletBalances(_config().tokens);
    }

    function _walletBalances(IHedgedVault.TrackedToken[] memory tokens)
        internal
        view
        returns (uint256[] memory balances)
    {
        uint256 n = tokens.length;
        balances = new uint256[](n + 1);
        balances[0] = IERC20(asset).balanceOf(vault);
        for (uint256 i; i < n; ++i) {
            balances[i + 1] = IERC20(tokens[i].token).balanceOf(vault);
        }
    }

    /// @notice Oracle value (USD 1e8) of what left and what entered the vault's wallet since `before`
    ///         (walletBalances), at the batch's prices; each tracked token that moved must be within
    ///         `maxOracleDeviationBps` of its TWAP (reverts OracleDeviation).
    function walletDeltaE8(uint256[] calldata before, uint256 assetPriceE8, uint256[] calldata tokenPricesE8)
        external
        view
        returns (uint256 spentE8, uint256 receivedE8, uint256 checked)
    {
        Config memory c = _config();
        uint256[] memory afterwards = _walletBalances(c.tokens);
        uint256 unit = 10 ** assetDecimals;
        if (afterwards[0] < before[0]) spentE8 = (before[0] - afterwards[0]).mulDiv(assetPriceE8, unit);
        else receivedE8 = (afterwards[0] - before[0]).mulDiv(assetPriceE8, unit);
        for (uint256 i; i < tokenPricesE8.length; ++i) {
            (uint256 b, uint256 a) = (before[i + 1], afterwards[i + 1]);
            IHedgedVault.TrackedToken memory t = c.tokens[i];
            unit = 10 ** t.decimals;
            if (a < b) spentE8 += (b - a).mulDiv(tokenPricesE8[i], unit);
            else if (a > b) receivedE8 += (a - b).mulDiv(tokenPricesE8[i], unit);
            else continue;
            // The swap is judged at this token's price: it must agree with the pool's TWAP (before the slippage test).
            if (t.twapPool != address(0)) _checkTwap(t, tokenPricesE8[i], assetPriceE8, c.risk);
            checked |= 1 << i;
        }
    }

    /// @notice Gross NAV at the latest prices (no checks), and whether every price is positive and within the
    ///         heartbeat (deposits need that). Never reverts on a feed: a feed that reverts or answers ≤ 0 is
    ///         replaced by Aave's oracle price of the same token (its Aave reserve included), and a token
    ///         neither prices counts as 0; such a NAV is not `fresh`, so only exits (which then pay less, never
    ///         more) run on it until governance re-points the feed (setAssetFeed / setTrackedTokenFeed). A tracked
    ///         token whose price is not fresh is valued at the worse, for an exit, of that price and its pool's TWAP
    ///         (issue 19 item 7: the lower while the vault is net long the token, the higher while net short; the
    ///         stale price alone if the pool cannot answer), so a stale-high feed pays a redeemer no more than the
    ///         pool's market. An OPTIONS adapter whose valuation reverts (a dead venue feed) or returns malformed data
    ///         counts as 0 and leaves the NAV not fresh; one that runs out of gas reverts (see _optionsValueE8).
    function navNow() external view returns (uint256 gross, bool fresh) {
        Config memory c = _config();
        uint256 heartbeat = c.risk.heartbeatSeconds;
        IHedgedVault.TrackedToken[] memory tokens = c.tokens;
        uint256 assetPriceE8;
        (assetPriceE8, fresh) = _exitPriceE8(address(c.assetFeed), asset, heartbeat);
        uint256[] memory tokenPricesE8 = new uint256[](tokens.length);
        uint256 stale = 0; // bit i: token i's price is not fresh
        for (uint256 i; i < tokens.length; ++i) {
            bool ok;
            (tokenPricesE8[i], ok) = _exitPriceE8(tokens[i].feed, tokens[i].token, heartbeat);
            if (!ok) stale |= 1 << i;
        }
        (int256 optionsE8, bool valued) = _optionsValueE8(c.optionsAdapters, false);
        fresh = fresh && stale == 0 && valued;
        int256[] memory amounts = new int256[](tokens.length);
        gross = _nav(c, assetPriceE8, tokenPricesE8, optionsE8, amounts);
        // A bit mask and the dead-feed sentinel (no asset price: nothing converts), not balance comparisons.
        // slither-disable-next-line incorrect-equality
        if (stale == 0 || assetPriceE8 == 0) return (gross, fresh);
        for (uint256 i; i < tokens.length; ++i) {
            if ((stale >> i) & 1 == 0 || tokens[i].twapPool == address(0)) continue;
            try paramChecks.twapPriceE8(
                tokens[i], assetPriceE8, assetDecimals, c.risk.twapWindowSeconds
            ) returns (
                uint256 twap
            ) {
                if (amounts[i] < 0 ? twap > tokenPricesE8[i] : twap < tokenPricesE8[i]) {
                    tokenPricesE8[i] = twap;
                }
            } catch {} // no TWAP: the stale price
        }
        gross = _nav(c, assetPriceE8, tokenPricesE8, optionsE8, amounts);
    }

    /// @dev The feed's price and whether it is fresh; a dead feed (0) falls back to Aave's oracle (never fresh).
    function _exitPriceE8(address feed, address token, uint256 heartbeat)
        internal
        view
        returns (uint256 price, bool fresh)
    {
        uint256 at;
        (price, at) = PriceLib.priceE8(feed);
        if (price > 0) return (price, block.timestamp <= at + heartbeat);
        return (paramChecks.aavePriceE8(aavePool, token), false);
    }

    function _balanceOrZero(address token) internal view returns (uint256) {
        // slither-disable-next-line low-level-calls
        (bool ok, bytes memory ret) = token.staticcall(abi.encodeCall(IERC20.balanceOf, (vault)));
        return ok && ret.length >= 32 ? abi.decode(ret, (uint256)) : 0;
    }

    /// @notice The vault's gross NAV after a batch judged with `s` (checkedState), in asset units at s's prices
    ///         (see _nav), with the venue marks revalued if `tradedOnVenue`, else s's (a batch that did not trade on
    ///         the venue cannot have moved them, and repricing a large option book twice per rebalance would dominate
    ///         the gas); if `aaveAccount`, Aave's debt (base currency, 1e8, every reserve) and health factor (else
    ///         0, 0: the batch could not lower it): the health factor guard is on Aave's own numbers, which are what
    ///         liquidates. Each tracked token whose amount the batch changed must be within `maxOracleDeviationBps`
    ///         of its TWAP.
    function navAfter(State calldata s, bool tradedOnVenue, bool aaveAccount)
        external
        view
        returns (uint256 gross, uint256 debtBase, uint256 healthFactor)
    {
        Config memory c = _config();
        IHedgedVault.TrackedToken[] memory tokens = c.tokens;
        int256[] memory amounts = new int256[](tokens.length);
        gross = _nav(
            c,
            s.assetPriceE8,
            s.tokenPricesE8,
            tradedOnVenue ? _strictOptionsValueE8(c.optionsAdapters) : s.optionsValueE8,
            amounts
        );
        if (aaveAccount) (debtBase, healthFactor) = _aaveAccount();
        for (uint256 i; i < tokens.length; ++i) {
            if (
                amounts[i] != s.amounts[i] && tokens[i].twapPool != address(0)
                    && (s.twapChecked >> i) & 1 == 0
            ) {
                _checkTwap(tokens[i], s.tokenPricesE8[i], s.assetPriceE8, s.risk);
            }
        }
    }

    /// @dev Aave's own view of the account: total debt (base currency 1e8) and health factor.
    function _aaveAccount() internal view returns (uint256 debtBase, uint256 healthFactor) {
        // Collateral, borrowing power, LT and LTV are not needed.
        // slither-disable-next-line unused-return
        (, debtBase,,,, healthFactor) = aavePool.getUserAccountData(vault);
    }

    /// @dev The batches' reading of `_optionsValueE8` for an expression (navAfter's): any failure reverts.
    function _strictOptionsValueE8(address[] memory adapters) internal view returns (int256 valueE8) {
        (valueE8,) = _optionsValueE8(adapters, true);
    }

    /// @dev Σ of the OPTIONS adapters' valueE8, each read by a STATICCALL with all the gas at hand (a large option
    ///      book needs millions: no fixed bound) that must return exactly one word. One that fails reverts with its
    ///      revert data if `strict` (batches: risk moves need a true NAV), else counts as 0 and clears `valued`
    ///      (exits: 0 is the floor of the vault's venue claim, as a venue account cannot take more than the
    ///      collateral the vault posted in it). A failure that used all the gas forwarded (under 1/63 of it left)
    ///      reverts `OptionsValuationOutOfGas` either way: a short-gassed caller (a relayer or keeper fulfilling a
    ///      request) cannot drop the venue from an exit's NAV, and a venue that burns gas blocks exits until
    ///      governance delists its adapter.
    function _optionsValueE8(address[] memory adapters, bool strict)
        internal
        view
        returns (int256 valueE8, bool valued)
    {
        valued = true;
        address v = vault;
        bytes4 selector = IOptionsValuation.valueE8.selector;
        bytes4 outOfGas = OptionsValuationOutOfGas.selector;
        for (uint256 i; i < adapters.length; ++i) {
            address adapter = adapters[i];
            bool ok;
            int256 value;
            // Scratch memory past the free pointer, and at most one word of return data copied (no return bomb).
            assembly ("memory-safe") {
                let p := mload(0x40)
                mstore(p, selector)
                mstore(add(p, 4), v)
                let g := gas()
                ok := staticcall(g, adapter, p, 0x24, p, 0x20)
                ok := and(ok, eq(returndatasize(), 0x20)) // after the call (Yul evaluates arguments right to left)
                value := mload(p)
                if iszero(ok) {
                    if lt(gas(), div(g, 63)) {
                        mstore(p, outOfGas)
                        mstore(add(p, 4), adapter)
                        revert(p, 0x24)
                    }
                    if strict {
                        returndatacopy(p, 0, returndatasize())
                        revert(p, returndatasize())
                    }
                }
            }
            if (ok) valueE8 += value;
            else valued = false;
        }
    }

    /// @dev The reserve tokens Aave lists for `token` (both 0 when it has no reserve).
    function _reserveOf(address token) internal view returns (AaveTokens memory r) {
        IAavePool.ReserveData memory d = aavePool.getReserveData(token);
        (r.aToken, r.id, r.debtToken) = (d.aTokenAddress, d.id, d.variableDebtTokenAddress);
    }

    /// @dev The vault's Aave supply and variable debt of `token` (a reserve not known yet is looked up again), read
    ///      only where Aave's user configuration `config` (type(uint256).max: read both) has the reserve's bit: its
    ///      debt while it borrows it (Aave sets the bit on any borrow and clears it only at zero debt; debt tokens do
    ///      not transfer), its supply while it is collateral (Aave enables a first supply or transfer-in as
    ///      collateral unless the reserve is at LTV 0 or isolated; such a supply is not counted: it left NAV as a
    ///      loss, charged to the batch's max-loss and loss budget, and only conservatively under-values NAV).
    function _aaveBalances(address token, AaveTokens memory r, uint256 config)
        internal
        view
        returns (uint256 supplied, uint256 owed)
    {
        if (r.aToken == address(0)) r = _reserveOf(token);
        if (r.aToken == address(0)) return (0, 0);
        uint256 bits = config >> (uint256(r.id) << 1);
        if (bits & 2 != 0) supplied = IERC20(r.aToken).balanceOf(vault);
        if (bits & 1 != 0) owed = IERC20(r.debtToken).balanceOf(vault);
    }

    /// @dev Gross NAV in asset units (rounding down): idle asset + the asset's Aave supply − its Aave debt, + each
    ///      tracked token's amount (wallet + Aave supply − Aave debt, written into `amounts`) at its price, + the
    ///      venue marks — every Aave reserve at the VAULT's prices (issue 19 item 6a: Aave's oracle, as
    ///      getUserAccountData values the account, diverging from the vault's feeds was a NAV error of divergence ×
    ///      the Aave position). A reserve the vault does not price (neither the asset nor a tracked token) is not
    ///      counted: the Aave adapter can only borrow it into the wallet, where it is not counted either, and the
    ///      health factor guard (Aave's numbers) still sees its debt.
    function _nav(
        Config memory c,
        uint256 assetPriceE8,
        uint256[] memory tokenPricesE8,
        int256 optionsValueE8,
        int256[] memory amounts
    ) internal view returns (uint256 gross) {
        int256 valueE8 = optionsValueE8;
        int256 walletE8 = optionsValueE8; // venue + wallet tokens: the no-price rule below
        uint256 supplied;
        uint256 owed;
        uint256 config = aavePool.getUserConfiguration(vault); // only the reserves the vault uses are read
        for (uint256 i; i < c.tokens.length; ++i) {
            (int256 wallet, int256 value) =
                _tokenValueE8(c.tokens[i], c.reserves[i], tokenPricesE8[i], config, amounts, i);
            walletE8 += wallet;
            valueE8 += value;
        }
        uint256 idle = IERC20(asset).balanceOf(vault);
        (supplied, owed) =
            _aaveBalances(asset, AaveTokens(_assetAToken, _assetReserveId, _assetDebtToken), config);
        // A missing price (0), not a balance comparison.
        // slither-disable-next-line incorrect-equality
        if (assetPriceE8 == 0) {
            // No asset price at all (exits only: batches and entries require a fresh one): nothing converts to
            // asset units. Positions count as nothing while they are net positive on Aave's own numbers, and wipe
            // NAV out otherwise (an exit is paid from idle at the lower NAV).
            // Borrowing power, LT, LTV and the health factor are not needed here.
            // slither-disable-next-line unused-return
            (uint256 collateralBase, uint256 debtBase,,,,) = aavePool.getUserAccountData(vault);
            walletE8 += SafeCast.toInt256(collateralBase) - SafeCast.toInt256(debtBase);
            return walletE8 < 0 ? 0 : idle;
        }
        uint256 plus = idle + supplied;
        // Safe casts: the sign is tested first, and |valueE8| < 2^255 (sums of SafeCast.toInt256 values).
        if (valueE8 > 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            plus += uint256(valueE8).mulDiv(10 ** assetDecimals, assetPriceE8);
        } else if (valueE8 < 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            owed += uint256(-valueE8).mulDiv(10 ** assetDecimals, assetPriceE8, Math.Rounding.Ceil);
        }
        gross = plus > owed ? plus - owed : 0;
    }

    /// @dev Token `i`'s wallet value and wallet + Aave supply − Aave debt value (USD 1e8, the debt rounded up); its
    ///      amount into `amounts[i]`.
    function _tokenValueE8(
        IHedgedVault.TrackedToken memory t,
        AaveTokens memory r,
        uint256 tokenPriceE8,
        uint256 config,
        int256[] memory amounts,
        uint256 i
    ) internal view returns (int256 wallet, int256 value) {
        (uint256 supplied, uint256 owed) = _aaveBalances(t.token, r, config);
        uint256 balance = IERC20(t.token).balanceOf(vault);
        amounts[i] = SafeCast.toInt256(balance + supplied) - SafeCast.toInt256(owed);
        uint256 unit = 10 ** t.decimals;
        wallet = SafeCast.toInt256(balance.mulDiv(tokenPriceE8, unit));
        value = wallet + SafeCast.toInt256(supplied.mulDiv(tokenPriceE8, unit))
            - SafeCast.toInt256(owed.mulDiv(tokenPriceE8, unit, Math.Rounding.Ceil));
    }

    function _fresh(address feed, uint256 heartbeatSeconds) internal view returns (uint256 price) {
        uint256 updatedAt;
        (price, updatedAt) = PriceLib.priceE8(feed);
        if (price == 0 || block.timestamp > updatedAt + heartbeatSeconds) {
            revert IHedgedVault.StalePrice(feed, updatedAt, heartbeatSeconds);
        }
    }

    /// @dev Compare in tick space: oracle price → tick = ln(raw price)/ln(1.0001), against the TWAP tick.
    function _checkTwap(
        IHedgedVault.TrackedToken memory t,
        uint256 priceE8,
        uint256 assetPriceE8,
        IHedgedVault.RiskParams memory r
    ) internal view {
        uint32[] memory ago = new uint32[](2);
        ago[0] = r.twapWindowSeconds;
        // Only tick cumulatives matter here.
        // slither-disable-next-line unused-return
        (int56[] memory cumulatives,) = IUniswapV3Pool(t.twapPool).observe(ago);
        int56 delta = cumulatives[1] - cumulatives[0];
        int256 twapTick = int256(delta) / int256(uint256(r.twapWindowSeconds));
        if (delta < 0 && int256(delta) % int256(uint256(r.twapWindowSeconds)) != 0) twapTick--;
        // Raw price of token1 per token0 in WAD, from the oracles (asset units per token unit, or the inverse).
        bool tokenIsToken0 = IUniswapV3Pool(t.twapPool).token0() == t.token;
        uint256 rawWad = tokenIsToken0
            ? FixedPointMathLib.fullMulDiv(
                priceE8 * 1e18, 10 ** assetDecimals, assetPriceE8 * 10 ** t.decimals
            )
            : FixedPointMathLib.fullMulDiv(
                assetPriceE8 * 1e18, 10 ** t.decimals, priceE8 * 10 ** assetDecimals
            );
        // Safe cast: rawWad < 2^255 for any price pair with < 60 decimals of spread.
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 oracleTick = FixedPointMathLib.lnWad(int256(rawWad)) / _LN_TICK_WAD;
        uint256 diff = uint256(oracleTick > twapTick ? oracleTick - twapTick : twapTick - oracleTick);
        if (diff > r.maxOracleDeviationBps) {
            revert IHedgedVault.OracleDeviation(
                t.token,
                priceE8,
                paramChecks.twapPriceE8(t, assetPriceE8, assetDecimals, r.twapWindowSeconds),
                r.maxOracleDeviationBps
            );
        }
    }
}
