// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {IOptionsValuation} from "../interfaces/IOptionsValuation.sol";
import {IVaultAdapter} from "../interfaces/IVaultAdapter.sol";
import {VaultBounds} from "../vault/libraries/VaultBounds.sol";

/// @title OptionMarketAdapter
/// @notice The vault's hands on the option venue: open sub-accounts, move USDC margin in and out, buy and sell
///         series against the venue's pool, cash settled positions. Run by DELEGATECALL from the vault (so the
///         vault owns the accounts); stateless, the venue and the USDC feed are immutables.
/// @dev data = abi.encode(Op op, uint256 accountId, uint256 seriesId, uint256 amount, uint256 limit):
///      OPEN_ACCOUNT: (none; at most `maxAccounts` per vault); DEPOSIT / WITHDRAW: amount = USDC E6; BUY: amount = size WAD, limit = max cost E6;
///      SELL: amount = size WAD, limit = min proceeds E6; SETTLE: accountId. The vault's post-checks judge every
///      action from measured state (NAV, venue margin floor); nothing here trusts a return value.
///      The same contract serves the vault's views by plain STATICCALL at its own address: `valueE8` (venue
///      equity of every account the vault owns, in USD 1e8) and `marginState` (the tightest account).
contract OptionMarketAdapter is IVaultAdapter, IOptionsValuation {
    using SafeERC20 for IERC20;

    enum Op {
        OPEN_ACCOUNT,
        DEPOSIT,
        WITHDRAW,
        BUY,
        SELL,
        SETTLE
    }

    /// @notice Thrown when the adapter is called directly instead of by DELEGATECALL from a vault.
    error DelegateCallOnly();
    /// @notice Thrown when an action names a venue account the vault does not own.
    error NotVaultAccount(uint256 accountId, address owner);
    /// @notice Thrown (through the vault's rebalance) when an account's equity is below floor × maintenance margin.
    error VenueMarginBelowFloor(
        uint256 accountId, int256 equityE6, uint256 maintenanceMarginE6, uint256 floorWad
    );
    /// @notice Thrown at construction for a floor below 1 (at or under maintenance) or above 10.
    error MarginFloorOutOfBounds(uint256 floorWad);
    /// @notice Thrown at construction when `maxAccounts` is 0 or above VaultBounds.MAX_VENUE_ACCOUNTS.
    error MaxAccountsOutOfBounds(uint256 maxAccounts, uint256 bound);
    /// @notice Thrown by OPEN_ACCOUNT when the vault already owns `maxAccounts` venue accounts (through any adapter):
    ///         reuse one of them (every NAV read values each account, so their number bounds every exit's gas).
    error VenueAccountLimit(uint256 accounts, uint256 maxAccounts);

    uint256 public constant MIN_MARGIN_FLOOR_WAD = 1e18;
    uint256 public constant MAX_MARGIN_FLOOR_WAD = 10e18;

    IOptionMarket public immutable market;
    IERC20 public immutable usdc;
    /// @notice USD feed of the venue's collateral (USDC): venue equity is converted to USD 1e8 with it.
    IAggregatorV3 public immutable usdcFeed;
    /// @notice After every rebalance each venue account must hold equity ≥ this × its maintenance margin. Fixed
    ///         per adapter: governance changes it by whitelisting a new adapter through the timelock.
    uint256 public immutable marginFloorWad;
    /// @notice Most venue accounts the vault may own (counted over the venue's `accountsOf(vault)`, so accounts
    ///         opened through any adapter count); in [1, VaultBounds.MAX_VENUE_ACCOUNTS]. Fixed per adapter, as the
    ///         floor: governance changes it by whitelisting a new adapter through the timelock.
    uint256 public immutable maxAccounts;
    address private immutable _self;

    constructor(
        IOptionMarket market_,
        IAggregatorV3 usdcFeed_,
        uint256 marginFloorWad_,
        uint256 maxAccounts_
    ) {
        if (marginFloorWad_ < MIN_MARGIN_FLOOR_WAD || marginFloorWad_ > MAX_MARGIN_FLOOR_WAD) {
            revert MarginFloorOutOfBounds(marginFloorWad_);
        }
        if (maxAccounts_ == 0 || maxAccounts_ > VaultBounds.MAX_VENUE_ACCOUNTS) {
            revert MaxAccountsOutOfBounds(maxAccounts_, VaultBounds.MAX_VENUE_ACCOUNTS);
        }
        maxAccounts = maxAccounts_;
        market = market_;
        usdc = IERC20(market_.usdc());
        usdcFeed = usdcFeed_;
        marginFloorWad = marginFloorWad_;
        _self = address(this);
    }

    /// @inheritdoc IVaultAdapter
    function kind() external pure returns (Kind) {
        return Kind.OPTIONS;
    }

    /// @inheritdoc IVaultAdapter
    function execute(bytes calldata data) external returns (uint256 premiumE8) {
        if (address(this) == _self) revert DelegateCallOnly();
        (Op op, uint256 accountId, uint256 seriesId, uint256 amount, uint256 limit) =
            abi.decode(data, (Op, uint256, uint256, uint256, uint256));
        if (op == Op.OPEN_ACCOUNT) {
            uint256 n = market.accountsOf(address(this)).length;
            if (n >= maxAccounts) revert VenueAccountLimit(n, maxAccounts);
            // The vault judges by measured state; the new id is read back through accountsOf.
            // slither-disable-next-line unused-return
            market.openAccount();
            return 0;
        }
        address owner = market.ownerOf(accountId);
        if (owner != address(this)) revert NotVaultAccount(accountId, owner);
        if (op == Op.DEPOSIT) {
            usdc.forceApprove(address(market), amount);
            market.deposit(accountId, amount);
            usdc.forceApprove(address(market), 0);
        } else if (op == Op.WITHDRAW) {
            market.withdraw(accountId, amount, address(this));
        } else if (op == Op.BUY) {
            premiumE8 = _usdE8(market.buy(accountId, seriesId, amount, limit));
        } else if (op == Op.SELL) {
            premiumE8 = _usdE8(market.sell(accountId, seriesId, amount, limit));
        } else {
            // slither-disable-next-line unused-return
            market.settleAccount(accountId);
        }
    }

    /* VIEWS (STATICCALL at the adapter's address) */

    /// @notice Venue equity (collateral + marks at mid, longs net of the pool's haircut: `equitiesOf`) of every
    ///         account `vault` owns, in USD with 8 decimals.
    /// @dev Never reverts for stale venue inputs (the vault's own oracle checks gate rebalancing); rounds down.
    function valueE8(address vault) external view returns (int256 value) {
        uint256[] memory accounts = market.accountsOf(vault);
        if (accounts.length == 0) return 0;
        // What the accounts can recover (longs net of the pool's haircut while it is insolvent), the pool's book
        // valued once. Freshness is the vault's own oracle gate; NAV takes the marks at hand.
        // slither-disable-next-line unused-return
        (int256 equityE6,) = market.equitiesOf(accounts);
        if (equityE6 == 0) return 0;
        // The price is all NAV needs; the vault checks the same feed's freshness before it rebalances.
        // slither-disable-next-line unused-return
        (, int256 answer,,,) = usdcFeed.latestRoundData();
        uint8 decimals = usdcFeed.decimals();
        uint256 priceE8 = answer <= 0 ? 0 : _toE8(uint256(answer), decimals);
        uint256 magnitude = Math.mulDiv(_abs(equityE6), priceE8, 1e6);
        value = equityE6 > 0
            ? int256(magnitude)
            : -int256(Math.mulDiv(_abs(equityE6), priceE8, 1e6, Math.Rounding.Ceil));
    }

    /// @notice The vault's tightest venue account, with fresh inputs (reverts like a venue trade on stale spot or
    ///         vol, so a vault post-check built on it fails closed).
    /// @return worstRatioWad min over accounts with a requirement of equity / maintenance margin (1e18 = at MM);
    ///         type(uint256).max when no account has one.
    /// @return accountId the account achieving it (0 when none).
    /// @return equityE6 its equity. @return maintenanceMarginE6 its maintenance margin.
    function marginState(address vault)
        external
        view
        returns (uint256 worstRatioWad, uint256 accountId, int256 equityE6, uint256 maintenanceMarginE6)
    {
        worstRatioWad = type(uint256).max;
        uint256[] memory accounts = market.accountsOf(vault);
        for (uint256 i; i < accounts.length; ++i) {
            // slither-disable-next-line unused-return
            (int256 equity,, uint256 mm) = market.marginOf(accounts[i]);
            if (mm == 0) continue;
            uint256 ratio = equity <= 0 ? 0 : Math.mulDiv(uint256(equity), 1e18, mm);
            if (ratio < worstRatioWad) {
                (worstRatioWad, accountId, equityE6, maintenanceMarginE6) = (ratio, accounts[i], equity, mm);
            }
        }
    }

    /// @notice The vault's rebalance post-check (see IOptionsValuation.checkMargin).
    function checkMargin(address vault) external view {
        uint256[] memory accounts = market.accountsOf(vault);
        for (uint256 i; i < accounts.length; ++i) {
            // IM is the venue's own gate on trades and withdrawals; the vault's floor is on MM.
            // slither-disable-next-line unused-return
            (int256 equity,, uint256 mm) = market.marginOf(accounts[i]);
            if (mm == 0) continue;
            if (equity <= 0 || Math.mulDiv(uint256(equity), 1e18, mm) < marginFloorWad) {
                revert VenueMarginBelowFloor(accounts[i], equity, mm, marginFloorWad);
            }
        }
    }

    /// @dev A premium (USDC E6, as the venue charged or paid it) in USD 1e8 at the USDC feed, rounded up (it is a
    ///      charge to the turnover budget); at $1 when the feed has no positive answer (the vault's own batch
    ///      checks refuse a batch on a dead asset feed anyway).
    function _usdE8(uint256 premiumE6) private view returns (uint256) {
        // Only the answer is needed: the vault checked the feed's freshness before the batch.
        // slither-disable-next-line unused-return
        (, int256 answer,,,) = usdcFeed.latestRoundData();
        uint256 priceE8 = answer <= 0 ? 1e8 : _toE8(uint256(answer), usdcFeed.decimals());
        return Math.mulDiv(premiumE6, priceE8, 1e6, Math.Rounding.Ceil);
    }

    function _toE8(uint256 answer, uint8 decimals) private pure returns (uint256) {
        return decimals >= 8 ? answer / 10 ** (decimals - 8) : answer * 10 ** (8 - decimals);
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }
}
