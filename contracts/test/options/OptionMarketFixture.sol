// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PriceFeed} from "../../feeds/PriceFeed.sol";
import {IOptionMarket} from "../../interfaces/IOptionMarket.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {OptionMarket} from "../../options/OptionMarket.sol";
import {OptionMarketGovernance} from "../../options/OptionMarketGovernance.sol";
import {OptionMarketViews} from "../../options/OptionMarketViews.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

/// @notice A 6-decimal test stablecoin (OpenZeppelin ERC20 with an open mint: a token, not a protocol).
contract TestUSDC is ERC20 {
    constructor() ERC20("USD Coin", "USDC") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice The venue as deployed: real PriceFeeds (ETH 3,000, BTC 60,000), the three facets, roles, a WETH
///         book of 5 expiries × 5 strikes × call/put (50 series), vol surfaces, and an LP pool of 10M USDC.
abstract contract OptionMarketFixture is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant T0 = 1_767_225_600; // 2026-01-01
    uint256 internal constant ETH = 0;
    uint256 internal constant BTC = 1;

    TestUSDC internal usdc;
    PriceFeed internal ethFeed;
    PriceFeed internal btcFeed;
    IOptionMarket internal market;

    address internal admin = makeAddr("admin");
    address internal lister = makeAddr("lister");
    address internal feeder = makeAddr("feeder");
    address internal guardian = makeAddr("guardian");
    address internal lp = makeAddr("lp");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal liquidator = makeAddr("liquidator");

    uint64[] internal expiries;
    uint128[] internal ethStrikes;

    function _riskParams() internal pure virtual returns (IOptionMarketTypes.RiskParams memory) {
        return IOptionMarketTypes.RiskParams({
            spotShockWad: 0.2e18,
            spotSteps: 4,
            volShockUpWad: 0.4e18,
            volShockDownWad: 0.3e18,
            volShockFloorSeconds: 7 days,
            imFactorWad: 1.25e18,
            minShortMarginWad: 0.01e18,
            liquidationPenaltyWad: 0.002e18
        });
    }

    function _marketParams() internal pure virtual returns (IOptionMarketTypes.MarketParams memory) {
        return IOptionMarketTypes.MarketParams({
            rateWad: 0.04e18,
            spotFeeWad: 0.0003e18,
            priceFeeWad: 0.01e18,
            volMaxAgeSeconds: 1 days,
            tradingCutoffSeconds: 1 hours
        });
    }

    function setUp() public virtual {
        vm.warp(T0);
        usdc = new TestUSDC();
        ethFeed = new PriceFeed(8, "ETH / USD", 3000e8, admin);
        btcFeed = new PriceFeed(8, "BTC / USD", 60_000e8, admin);
        OptionMarketGovernance gov = new OptionMarketGovernance(IERC20(address(usdc)));
        OptionMarketViews views = new OptionMarketViews(IERC20(address(usdc)), gov);
        market = IOptionMarket(
            address(new OptionMarket(IERC20(address(usdc)), views, admin, _riskParams(), _marketParams()))
        );
        OptionMarket core = OptionMarket(payable(address(market)));
        vm.startPrank(admin);
        core.grantRole(market.LISTER_ROLE(), lister);
        core.grantRole(market.VOL_FEEDER_ROLE(), feeder);
        core.grantRole(market.GUARDIAN_ROLE(), guardian);
        market.addUnderlying(makeAddr("WETH"), address(ethFeed), 1 hours);
        market.addUnderlying(makeAddr("WBTC"), address(btcFeed), 1 hours);
        vm.stopPrank();

        uint64[5] memory days_ = [uint64(7), 14, 30, 60, 90];
        uint128[5] memory strikes = [uint128(2400e18), 2700e18, 3000e18, 3300e18, 3600e18];
        for (uint256 i; i < 5; ++i) {
            expiries.push(uint64(T0 + days_[i] * 1 days + 8 hours));
            ethStrikes.push(strikes[i]);
        }
        vm.startPrank(lister);
        for (uint256 e; e < 5; ++e) {
            for (uint256 k; k < 5; ++k) {
                market.listSeries(ETH, expiries[e], ethStrikes[k], true);
                market.listSeries(ETH, expiries[e], ethStrikes[k], false);
            }
        }
        vm.stopPrank();
        _postVols();
        _provide(lp, 10_000_000e6);
    }

    /* HELPERS */

    /// @dev Series id of (ETH, expiry index, strike index, call?).
    function _sid(uint256 e, uint256 k, bool isCall) internal view returns (uint256) {
        return market.seriesIdOf(ETH, expiries[e], ethStrikes[k], isCall);
    }

    function _postVols() internal {
        vm.startPrank(feeder);
        for (uint256 e; e < expiries.length; ++e) {
            if (expiries[e] > block.timestamp) {
                market.postVolSurface(ETH, expiries[e], 0.6e18, -0.1e18, 0.3e18);
            }
        }
        vm.stopPrank();
    }

    function _setEth(uint256 priceE8) internal {
        vm.prank(admin);
        ethFeed.submit(int256(priceE8));
    }

    /// @dev Moves time, then refreshes the spot (same price) and the vol surfaces so nothing is stale.
    function _warp(uint256 dt) internal {
        vm.warp(block.timestamp + dt);
        (, int256 answer,,,) = ethFeed.latestRoundData();
        _setEth(uint256(answer));
        vm.prank(admin);
        btcFeed.submit(60_000e8);
        _postVols();
    }

    function _provide(address who, uint256 amountE6) internal {
        usdc.mint(who, amountE6);
        vm.startPrank(who);
        usdc.approve(address(market), amountE6);
        market.provideLiquidity(amountE6);
        vm.stopPrank();
    }

    function _open(address who, uint256 collateralE6) internal returns (uint256 accountId) {
        vm.startPrank(who);
        accountId = market.openAccount();
        if (collateralE6 != 0) {
            usdc.mint(who, collateralE6);
            usdc.approve(address(market), collateralE6);
            market.deposit(accountId, collateralE6);
        }
        vm.stopPrank();
    }

    function _buy(address who, uint256 accountId, uint256 seriesId, uint256 sizeWad)
        internal
        returns (uint256)
    {
        vm.prank(who);
        return market.buy(accountId, seriesId, sizeWad, type(uint256).max);
    }

    function _sell(address who, uint256 accountId, uint256 seriesId, uint256 sizeWad)
        internal
        returns (uint256)
    {
        vm.prank(who);
        return market.sell(accountId, seriesId, sizeWad, 0);
    }

    function _equity(uint256 accountId) internal view returns (int256 equityE6) {
        (equityE6,,) = market.marginOf(accountId);
    }
}
