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
import {HedgedVault} from "../../vault/HedgedVault.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";
import {repostSurfaces} from "../utils/VenueSurfaces.sol";
import {PoolStressHandler} from "./handlers/PoolStressHandler.sol";

/// @notice Issue 19: the vault's NAV equals an independent valuation at every step, under a hostile keeper that
///         opens venue accounts (past the cap too), churns option premiums, moves margin, supplies and borrows on
///         Aave, under spot moves and under a divergence of Aave's oracle from the vault's feeds.
/// @dev The independent valuation reads raw balances, never the vault's valuation code: idle USDC, tracked tokens
///      at the vault's feeds, each Aave reserve's aToken minus variable-debt balance at the VAULT's feeds (not Aave's
///      oracle), and each venue account's collateral plus size × the venue's mark of each series. Tolerance: 1e-6 of
///      NAV + 10 asset units (roundings). Until issue 19 item 6a the vault valued Aave at Aave's oracle and the
///      tolerance also needed |divergence| × the Aave position's gross value (303 USDC of error against 3 without
///      it); the vault now values each reserve at its own feeds, so no divergence term remains. A second handler
///      drives the venue's pool insolvent (an outside trader buys calls, the LP withdraws to the IM floor, WETH
///      rallies past the margin grid, the first expiry settles); the independent valuation then takes each vault
///      long net of the pool's haircut, computed by that handler from raw venue balances (issue 19, item 6b).
contract VaultNavInvariantTest is StdInvariant, VaultFixture {
    VenueNavHandler internal handler;
    PoolStressHandler internal stress;
    uint256 internal firstExpiry;
    IOptionMarket internal market;
    OptionMarketAdapter internal options;

    function setUp() public {
        _loadDevnet();
        string memory json = _readDevnet();
        market = IOptionMarket(vm.parseJsonAddress(json, ".venue.OptionMarket"));
        uint256[] memory expiries = vm.parseJsonUintArray(json, ".venue.expiries");
        firstExpiry = expiries[0];
        _deployVault();
        options = new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), 1.5e18, 4);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), true)));
        _deposit(alice, 3_000_000 * USDC);
        handler =
            new VenueNavHandler(vault, market, options, expiries, address(aaveAdapter), address(uniAdapter));
        handler.init(
            [usdc, weth, wbtc, address(usdcFeed), address(wethFeed), address(wbtcFeed), feeder, keeper]
        );
        repostSurfaces(market, expiries, feeder);
        stress = new PoolStressHandler(
            market,
            usdc,
            vm.parseJsonAddress(json, ".venue.lp"),
            feeder,
            [address(usdcFeed), address(wethFeed), address(wbtcFeed)],
            expiries
        );
        handler.setStress(stress);
        stress.setOnPriceMove(address(handler));
        bytes4[] memory p = new bytes4[](4);
        (p[0], p[1], p[2], p[3]) =
        (
            stress.traderBuy.selector,
            stress.lpWithdraw.selector,
            stress.rally.selector,
            stress.settleFirstExpiry.selector
        );
        targetContract(address(stress));
        targetSelector(FuzzSelector(address(stress), p));
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

    /// @notice The stress handler's path, in order, under the same NAV check: the vault long calls, an outside
    ///         trader long more, the LP out to the IM floor, WETH +50 % (the pool insolvent: both haircuts > 0 and
    ///         equal to 1e-9), then the first expiry settled while insolvent (the trader's calls of it paid net).
    function testPoolStressPathReachesInsolvencyUnderTheNavCheck() public {
        handler.openAccount();
        handler.margin(0, type(uint256).max);
        handler.churn(0, 0, 50e18); // long 25 WETH-2700 calls of the second expiry
        stress.traderBuy(0, 2000); // 2,000 WETH-3000 calls of the first expiry
        stress.traderBuy(1, 1000); // 1,000 of the second
        assertEq(stress.traderBuys(), 2, "trader bought");
        stress.lpWithdraw(100);
        assertEq(stress.lpWithdrawals(), 1, "LP withdrew");
        invariant_navEqualsIndependentValuation();
        stress.rally(5000);
        uint256 h = stress.haircutWad();
        emit log_named_decimal_uint("pool haircut after +50 % (independent)", h, 18);
        emit log_named_decimal_uint("pool haircut after +50 % (venue)", market.poolHaircutWad(), 18);
        assertGt(h, 0, "pool insolvent");
        assertApproxEqRel(market.poolHaircutWad(), h, 1e9, "venue haircut vs independent");
        (uint256 nav, uint256 independent, uint256 tolerance) = handler.navs();
        emit log_named_decimal_uint("vault NAV", nav, 6);
        emit log_named_decimal_uint("independent valuation", independent, 6);
        emit log_named_decimal_uint("tolerance", tolerance, 6);
        invariant_navEqualsIndependentValuation();
        stress.settleFirstExpiry();
        assertEq(stress.insolventSettlements(), 1, "settled while insolvent");
        emit log_named_decimal_uint("pool haircut after the settlement (venue)", market.poolHaircutWad(), 18);
        // The others' haircut is what it was just before the settlement (the time to it moved the marks).
        uint256 before = stress.settledHaircutWad(firstExpiry);
        emit log_named_decimal_uint("pool haircut just before the settlement (independent)", before, 18);
        assertApproxEqRel(market.poolHaircutWad(), before, 1e9, "settlement moved the others' haircut");
        invariant_navEqualsIndependentValuation();
    }

    function invariant_venueAccountsWithinCap() public view {
        assertLe(market.accountsOf(address(vault)).length, options.maxAccounts());
    }

    /// @dev The campaign did exercise the vault: batches accepted and refused, accounts refused past the cap.
    function afterInvariant() external {
        (uint256 accepted, uint256 refused, uint256 accountRefusals) = handler.calls();
        console2.log(
            "batches accepted / refused / OPEN refused at the cap", accepted, refused, accountRefusals
        );
        // Pool stress over the whole campaign (state is reset between runs; the tallies live in the environment):
        // runs that ended with the pool insolvent, and the insolvent steps the NAV check saw.
        (uint256 buys, uint256 lpOut, uint256 rallies, uint256 settles, uint256 insolvent) = stress.calls();
        uint256 runs = _tally("HV_NAV_RUNS", 1);
        uint256 insolventRuns = _tally("HV_NAV_INSOLVENT_RUNS", stress.haircutWad() > 0 ? 1 : 0);
        uint256 insolventSteps = _tally("HV_NAV_INSOLVENT_STEPS", stress.insolventSteps());
        console2.log("pool stress, this run: trader buys / LP withdrawals / rallies", buys, lpOut, rallies);
        console2.log("pool stress, this run: settlements / of them while insolvent", settles, insolvent);
        console2.log(
            "pool stress, campaign: runs / ending insolvent / insolvent steps",
            runs,
            insolventRuns,
            insolventSteps
        );
    }

    function _tally(string memory key, uint256 add) internal returns (uint256 total) {
        total = vm.envOr(key, uint256(0)) + add;
        vm.setEnv(key, vm.toString(total));
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
    PoolStressHandler internal stress; // the independent haircut of the venue's pool
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

    function setStress(PoolStressHandler stress_) external {
        stress = stress_;
    }

    /// @dev After the stress handler moved WETH: Aave's oracle keeps its divergence from the new feed answer.
    function remock() external {
        _remock();
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
        repostSurfaces(market, expiries, feeder);
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

    /* THE INDEPENDENT VALUATION */

    function _priceE8(address feed) internal view returns (uint256) {
        return uint256(IAggregatorV3(feed).latestAnswer());
    }

    /// @return vaultNav gross NAV as the vault computes it (totalAssets + still-locked profit), asset units
    /// @return independent the same from raw balances and the vault's feeds
    /// @return tolerance rounding only (Aave's oracle diverging no longer moves the vault's NAV)
    function navs() external view returns (uint256 vaultNav, uint256 independent, uint256 tolerance) {
        vaultNav = vault.totalAssets() + vault.lockedProfitNow();
        (int256 valueE8,) = _tokensAndAaveE8();
        (int256 venueE6, uint256 n) = _venueE6();
        uint256 usdcE8 = _priceE8(usdcFeed);
        valueE8 += venueE6 * int256(usdcE8) / 1e6;
        int256 assets = int256(IERC20(usdc).balanceOf(address(vault))) + valueE8 * 1e6 / int256(usdcE8);
        independent = assets > 0 ? uint256(assets) : 0;
        tolerance = vaultNav / 1e6 + 10 + (n + 3) * 2;
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

    /// @dev Each venue account: collateral + size × the venue's mark of each series, each long net of the pool's
    ///      haircut (the stress handler's, from raw balances), USDC E6; n counts accounts and positions.
    function _venueE6() internal view returns (int256 venueE6, uint256 n) {
        uint256[] memory accounts = market.accountsOf(address(vault));
        n = accounts.length;
        for (uint256 a; a < accounts.length; ++a) {
            (int256 valueE6, uint256 positions) = stress.recoverableE6(accounts[a]);
            venueE6 += valueE6;
            n += positions;
        }
    }

    function calls() external view returns (uint256, uint256, uint256) {
        return (batches, rejected, accountRefusals);
    }
}

interface PriceFeedLike {
    function submit(int256 answer) external returns (uint80);
}
