// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test, console2} from "forge-std/Test.sol";

import {OptionMarketAdapter} from "../../adapters/OptionMarketAdapter.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IOptionMarket} from "../../interfaces/IOptionMarket.sol";
import {IAaveAddressesProvider, IAaveOracle} from "../../interfaces/aave/IAaveOracle.sol";
import {IAavePool} from "../../interfaces/aave/IAavePool.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {HedgedVault} from "../../vault/HedgedVault.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Issue 19: the vault's NAV equals an independent valuation at every step, under a hostile keeper that
///         opens venue accounts (past the cap too), churns option premiums, moves margin, supplies and borrows on
///         Aave, under spot moves and under a divergence of Aave's oracle from the vault's feeds.
/// @dev The independent valuation reads raw balances, never the vault's valuation code: idle USDC, tracked tokens
///      at the vault's feeds, each Aave reserve's aToken minus variable-debt balance at the VAULT's feeds (not Aave's
///      oracle), and each venue account's collateral plus size × the venue's mark of each series. Tolerance: 1e-6 of
///      NAV + 10 asset units (roundings), plus |divergence| × the Aave position's gross value — the vault values
///      Aave at Aave's oracle, so a divergence is a NAV error of exactly that size.
contract VaultNavInvariantTest is StdInvariant, VaultFixture {
    VenueNavHandler internal handler;
    IOptionMarket internal market;
    OptionMarketAdapter internal options;

    function setUp() public {
        _loadDevnet();
        string memory json = _readDevnet();
        market = IOptionMarket(vm.parseJsonAddress(json, ".venue.OptionMarket"));
        uint256[] memory expiries = vm.parseJsonUintArray(json, ".venue.expiries");
        _deployVault();
        options = new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), 1.5e18, 4);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), true)));
        _deposit(alice, 3_000_000 * USDC);
        handler =
            new VenueNavHandler(vault, market, options, expiries, address(aaveAdapter), address(uniAdapter));
        handler.init(
            [usdc, weth, wbtc, address(usdcFeed), address(wethFeed), address(wbtcFeed), feeder, keeper]
        );
        handler.postSurfaces();
        bytes4[] memory s = new bytes4[](6);
        (s[0], s[1], s[2], s[3], s[4], s[5]) =
        (
            handler.openAccount.selector,
            handler.margin.selector,
            handler.churn.selector,
            handler.aave.selector,
            handler.move.selector,
            handler.diverge.selector
        );
        targetContract(address(handler));
        targetSelector(FuzzSelector(address(handler), s));
    }

    function invariant_navEqualsIndependentValuation() public view {
        (uint256 vaultNav, uint256 independent, uint256 tolerance) = handler.navs();
        uint256 diff = vaultNav > independent ? vaultNav - independent : independent - vaultNav;
        assertLe(diff, tolerance, "vault NAV vs independent valuation");
    }

    function invariant_venueAccountsWithinCap() public view {
        assertLe(market.accountsOf(address(vault)).length, options.maxAccounts());
    }

    /// @dev The campaign did exercise the vault: batches accepted and refused, accounts refused past the cap.
    function afterInvariant() external view {
        (uint256 accepted, uint256 refused, uint256 accountRefusals) = handler.calls();
        console2.log(
            "batches accepted / refused / OPEN refused at the cap", accepted, refused, accountRefusals
        );
    }
}

contract VenueNavHandler is Test {
    uint8 internal constant OPEN = 0;
    uint8 internal constant DEPOSIT = 1;
    uint8 internal constant BUY = 3;
    uint8 internal constant SELL = 4;

    HedgedVault internal vault;
    IOptionMarket internal market;
    OptionMarketAdapter internal options;
    address internal aaveAdapter;
    address internal uniAdapter;
    uint256[] internal expiries;
    address internal usdc;
    address internal weth;
    address internal wbtc;
    address internal wethFeed;
    address internal wbtcFeed;
    address internal usdcFeed;
    address internal feeder;
    address internal keeper;
    IAavePool internal aavePool;
    address internal aaveOracle;

    uint256 public divergenceBps; // current |Aave oracle − vault feed| on WETH
    uint256 public accountRefusals;
    uint256 public batches;
    uint256 public rejected;

    constructor(
        HedgedVault vault_,
        IOptionMarket market_,
        OptionMarketAdapter options_,
        uint256[] memory expiries_,
        address aaveAdapter_,
        address uniAdapter_
    ) {
        (vault, market, options, expiries) = (vault_, market_, options_, expiries_);
        (aaveAdapter, uniAdapter) = (aaveAdapter_, uniAdapter_);
    }

    /// @dev Addresses: USDC, WETH, WBTC, their feeds (same order), the feeder, the keeper.
    function init(address[8] calldata a) external {
        (usdc, weth, wbtc) = (a[0], a[1], a[2]);
        (usdcFeed, wethFeed, wbtcFeed) = (a[3], a[4], a[5]);
        (feeder, keeper) = (a[6], a[7]);
        aavePool = vault.aavePool();
        aaveOracle = IAaveAddressesProvider(aavePool.ADDRESSES_PROVIDER()).getPriceOracle();
    }

    /* ACTIONS */

    function _run(IHedgedVault.Action[] memory a) internal returns (bool ok, bytes memory ret) {
        vm.prank(keeper);
        try vault.rebalance(a, new uint256[](0)) {
            ++batches;
            ok = true;
        } catch (bytes memory r) {
            ++rejected;
            ret = r;
        }
    }

    function _op(uint8 op, uint256 account, uint256 series, uint256 amount, uint256 limit)
        internal
        view
        returns (IHedgedVault.Action memory)
    {
        return IHedgedVault.Action(address(options), abi.encode(op, account, series, amount, limit));
    }

    function _one(IHedgedVault.Action memory a) internal pure returns (IHedgedVault.Action[] memory l) {
        l = new IHedgedVault.Action[](1);
        l[0] = a;
    }

    function _account(uint256 seed) internal view returns (uint256) {
        uint256[] memory ids = market.accountsOf(address(vault));
        return ids.length == 0 ? 0 : ids[seed % ids.length];
    }

    /// @dev The hostile keeper opens accounts, also past the cap (refused, counted).
    function openAccount() external {
        (bool ok, bytes memory ret) = _run(_one(_op(OPEN, 0, 0, 0, 0)));
        if (!ok && ret.length >= 4 && bytes4(ret) == IHedgedVault.AdapterCallFailed.selector) {
            ++accountRefusals;
        }
    }

    function margin(uint256 seed, uint256 amount) external {
        uint256 account = _account(seed);
        if (account == 0) return;
        amount = bound(amount, 1, IERC20(usdc).balanceOf(address(vault)) / 4 + 1);
        _run(_one(_op(DEPOSIT, account, 0, amount, 0)));
    }

    /// @dev Premium churn: buy then sell the same size of a live series in one batch (or one side only).
    function churn(uint256 seed, uint256 seriesSeed, uint256 size) external {
        uint256 account = _account(seed);
        if (account == 0) return;
        uint256 expiry = expiries[1 + seriesSeed % (expiries.length - 1)];
        uint128 strike = [uint128(2700e18), 3000e18, 3300e18][seriesSeed % 3];
        uint256 series = market.seriesIdOf(0, uint64(expiry), strike, (seriesSeed >> 8) % 2 == 0);
        if (series == 0) return;
        size = bound(size, 1e17, 50e18);
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](2);
        a[0] = _op(BUY, account, series, size, type(uint256).max);
        a[1] = _op(SELL, account, series, (seriesSeed >> 16) % 3 == 0 ? size / 2 : size, 0);
        _run(a);
    }

    function aave(uint256 seed, uint256 amount) external {
        amount = bound(amount, 1e6, IERC20(usdc).balanceOf(address(vault)) / 4 + 1e6);
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](1);
        a[0] = seed % 2 == 0
            ? IHedgedVault.Action(aaveAdapter, abi.encode(uint8(0), usdc, amount))
            : IHedgedVault.Action(aaveAdapter, abi.encode(uint8(2), weth, amount * 1e12 / 3000 / 4));
        _run(a);
    }

    /// @dev Spot move of WETH on the feed (the venue's and the vault's) with time past the TWAP window.
    function move(uint256 bps, bool up) external {
        bps = bound(bps, 0, 300);
        (, int256 p,,,) = IAggregatorV3(wethFeed).latestRoundData();
        uint256 price = uint256(p) * (up ? 10_000 + bps : 10_000 - bps) / 10_000;
        vm.warp(block.timestamp + 60);
        vm.startPrank(feeder);
        PriceFeedLike(wethFeed).submit(int256(price));
        PriceFeedLike(wbtcFeed).submit(IAggregatorV3(wbtcFeed).latestAnswer());
        PriceFeedLike(usdcFeed).submit(IAggregatorV3(usdcFeed).latestAnswer());
        vm.stopPrank();
        _remock();
        postSurfaces();
    }

    /// @dev Aave's oracle answers WETH `bps` away from the vault's feed (the review's unchecked area).
    function diverge(uint256 bps, bool up) external {
        divergenceBps = bound(bps, 0, 300);
        divergenceUp = up;
        _remock();
    }

    bool internal divergenceUp;

    function _remock() internal {
        vm.clearMockedCalls();
        if (divergenceBps == 0) return;
        uint256 feed = uint256(IAggregatorV3(wethFeed).latestAnswer());
        uint256 aavePrice = feed * (divergenceUp ? 10_000 + divergenceBps : 10_000 - divergenceBps) / 10_000;
        vm.mockCall(aaveOracle, abi.encodeCall(IAaveOracle.getAssetPrice, (weth)), abi.encode(aavePrice));
    }

    function postSurfaces() public {
        for (uint256 u; u < 2; ++u) {
            for (uint256 i; i < expiries.length; ++i) {
                if (expiries[i] <= block.timestamp) continue;
                IOptionMarketTypes.VolSurface memory s = market.volSurface(u, uint64(expiries[i]));
                vm.prank(feeder);
                market.postVolSurface(u, uint64(expiries[i]), s.atmVolWad, s.skewWad, s.smileWad);
            }
        }
    }

    /* THE INDEPENDENT VALUATION */

    function _priceE8(address feed) internal view returns (uint256) {
        return uint256(IAggregatorV3(feed).latestAnswer());
    }

    /// @return vaultNav gross NAV as the vault computes it (totalAssets + still-locked profit), asset units
    /// @return independent the same from raw balances and the vault's feeds
    /// @return tolerance rounding + |divergence| × the Aave position's gross value
    function navs() external view returns (uint256 vaultNav, uint256 independent, uint256 tolerance) {
        vaultNav = vault.totalAssets() + vault.lockedProfitNow();
        (int256 valueE8, uint256 aaveGrossE8) = _tokensAndAaveE8();
        (int256 venueE6, uint256 n) = _venueE6();
        uint256 usdcE8 = _priceE8(usdcFeed);
        valueE8 += venueE6 * int256(usdcE8) / 1e6;
        int256 assets = int256(IERC20(usdc).balanceOf(address(vault))) + valueE8 * 1e6 / int256(usdcE8);
        independent = assets > 0 ? uint256(assets) : 0;
        tolerance = vaultNav / 1e6 + 10 + aaveGrossE8 * divergenceBps / 10_000 * 1e6 / usdcE8 + (n + 3) * 2;
    }

    /// @dev Tracked tokens at the vault's feeds and each Aave reserve (aToken − variable debt) at the same feeds.
    function _tokensAndAaveE8() internal view returns (int256 valueE8, uint256 aaveGrossE8) {
        address[3] memory tokens = [usdc, weth, wbtc];
        address[3] memory feeds = [usdcFeed, wethFeed, wbtcFeed];
        uint256[3] memory units = [uint256(1e6), 1e18, 1e8];
        for (uint256 i; i < 3; ++i) {
            uint256 p = _priceE8(feeds[i]);
            if (i > 0) valueE8 += int256(IERC20(tokens[i]).balanceOf(address(vault)) * p / units[i]);
            IAavePool.ReserveData memory r = aavePool.getReserveData(tokens[i]);
            uint256 supplied = IERC20(r.aTokenAddress).balanceOf(address(vault)) * p / units[i];
            uint256 owed = IERC20(r.variableDebtTokenAddress).balanceOf(address(vault)) * p / units[i];
            valueE8 += int256(supplied) - int256(owed);
            if (i == 1) aaveGrossE8 += supplied + owed; // the diverging reserve
        }
    }

    /// @dev Each venue account: collateral + size × the venue's mark of each series (USDC E6).
    function _venueE6() internal view returns (int256 venueE6, uint256 n) {
        uint256[] memory accounts = market.accountsOf(address(vault));
        n = accounts.length;
        for (uint256 a; a < n; ++a) {
            (int256 collateralE6, uint256[] memory ids, int256[] memory sizes,) =
                market.holdingsOf(accounts[a]);
            venueE6 += collateralE6;
            for (uint256 j; j < ids.length; ++j) {
                venueE6 += sizes[j] * int256(market.markPrice(ids[j])) / 1e30;
            }
        }
    }

    function calls() external view returns (uint256, uint256, uint256) {
        return (batches, rejected, accountRefusals);
    }
}

interface PriceFeedLike {
    function submit(int256 answer) external returns (uint80);
}
