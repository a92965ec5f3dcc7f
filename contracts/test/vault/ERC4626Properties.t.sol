// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice ERC-4626 properties (after a16z's suite), on a vault whose NAV has every component: idle USDC, Aave
///         collateral and WETH debt, WETH held at the oracle, pending management fees and locked profit. Previews
///         equal results in the same transaction, round trips never pay out more than went in, max* are honest,
///         and the virtual-share offset defeats the donation (inflation) attack.
contract ERC4626PropertiesTest is VaultFixture {
    uint256 internal constant WETH = 1e18;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, 3_000_000 * USDC);
        _rebalance(_hedge(1_500_000 * USDC, 150 * WETH));
        _rebalance(_actions(_swap(usdc, weth, 150_000 * USDC))); // hold some WETH
        _advance(2 hours); // fees pending, some profit released
    }

    function usdcMeta() internal view returns (IERC20Metadata) {
        return IERC20Metadata(usdc);
    }

    function _fund(address who, uint256 assets) internal {
        _mint(usdc, who, assets);
        vm.prank(who);
        IERC20(usdc).approve(address(vault), type(uint256).max);
    }

    /* PREVIEWS = RESULTS */

    function testPreviewDepositEqualsDeposit(uint256 assets, uint32 elapsed) public {
        assets = bound(assets, 1, 10_000_000 * USDC);
        _advance(bound(elapsed, 1, 10 days));
        _fund(bob, assets);
        uint256 preview = vault.previewDeposit(assets);
        vm.prank(bob);
        assertEq(vault.deposit(assets, bob), preview);
    }

    function testPreviewMintEqualsMint(uint256 shares, uint32 elapsed) public {
        shares = bound(shares, 1, 10_000_000 * USDC * 1e6);
        _advance(bound(elapsed, 1, 10 days));
        uint256 preview = vault.previewMint(shares);
        _fund(bob, preview);
        vm.prank(bob);
        assertEq(vault.mint(shares, bob), preview);
        assertEq(IERC20(usdc).balanceOf(bob), 0);
    }

    function testPreviewWithdrawEqualsWithdraw(uint256 assets, uint32 elapsed) public {
        _advance(bound(elapsed, 1, 10 days));
        assets = bound(assets, 1, vault.maxWithdraw(alice));
        uint256 preview = vault.previewWithdraw(assets);
        vm.prank(alice);
        assertEq(vault.withdraw(assets, alice, alice), preview);
    }

    function testPreviewRedeemEqualsRedeem(uint256 shares, uint32 elapsed) public {
        _advance(bound(elapsed, 1, 10 days));
        shares = bound(shares, 1, vault.maxRedeem(alice));
        uint256 preview = vault.previewRedeem(shares);
        vm.prank(alice);
        assertEq(vault.redeem(shares, alice, alice), preview);
    }

    /* ROUNDING: always in the vault's favour */

    function testRoundingConvertVersusPreviews(uint256 amount) public view {
        uint256 assets = bound(amount, 0, 10_000_000 * USDC);
        uint256 shares = bound(amount, 0, 10_000_000 * USDC * 1e6);
        assertEq(vault.previewDeposit(assets), vault.convertToShares(assets), "deposit: shares down");
        assertGe(vault.previewWithdraw(assets), vault.convertToShares(assets), "withdraw: shares up");
        assertGe(vault.previewMint(shares), vault.convertToAssets(shares), "mint: assets up");
        assertEq(vault.previewRedeem(shares), vault.convertToAssets(shares), "redeem: assets down");
    }

    function testRoundTripDepositRedeemNeverProfits(uint256 assets) public {
        assets = bound(assets, 1, 1_000_000 * USDC);
        _fund(bob, assets);
        vm.startPrank(bob);
        uint256 shares = vault.deposit(assets, bob);
        assertLe(vault.redeem(shares, bob, bob), assets);
        vm.stopPrank();
    }

    function testRoundTripMintWithdrawNeverProfits(uint256 shares) public {
        shares = bound(shares, 1, 1_000_000 * USDC * 1e6);
        _fund(bob, vault.previewMint(shares));
        vm.startPrank(bob);
        uint256 assets = vault.mint(shares, bob);
        assertGe(
            vault.previewWithdraw(assets), shares, "withdrawing what mint cost needs at least the shares"
        );
        assertLe(vault.maxWithdraw(bob), assets);
        vm.stopPrank();
    }

    function testRoundTripRedeemDepositNeverProfits(uint256 shares) public {
        shares = bound(shares, 1, vault.maxRedeem(alice));
        vm.startPrank(alice);
        uint256 assets = vault.redeem(shares, alice, alice);
        assertLe(vault.previewDeposit(assets), shares, "re-depositing the proceeds buys at most the shares");
        vm.stopPrank();
    }

    function testRoundTripWithdrawMintNeverProfits(uint256 assets) public {
        assets = bound(assets, 1, vault.maxWithdraw(alice));
        vm.startPrank(alice);
        uint256 shares = vault.withdraw(assets, alice, alice);
        assertGe(vault.previewMint(shares), assets, "re-minting the burnt shares costs at least the assets");
        vm.stopPrank();
    }

    /* MAX* HONEST */

    function testMaxDepositIsExactlyWhatDepositAccepts() public {
        uint256 max = vault.maxDeposit(bob);
        _fund(bob, max + 1);
        vm.startPrank(bob);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, bob, max + 1, max));
        vault.deposit(max + 1, bob);
        vault.deposit(max, bob);
        vm.stopPrank();
        assertLe(vault.maxDeposit(bob), 1, "cap reached (to within NAV rounding)");
    }

    function testMaxMintIsAcceptedByMint() public {
        uint256 cap = vault.totalAssets() + 1_000_000 * USDC;
        vm.prank(address(timelock));
        vault.setDepositCap(cap);
        uint256 max = vault.maxMint(bob);
        _fund(bob, vault.previewMint(max));
        vm.prank(bob);
        vault.mint(max, bob);
        assertLe(vault.maxMint(bob), 1e6, "cap reached (to within one asset unit of shares)");
    }

    function testMaxWithdrawIsExactlyWhatWithdrawAccepts(uint32 elapsed) public {
        _advance(bound(elapsed, 1, 10 days));
        uint256 max = vault.maxWithdraw(alice);
        vm.startPrank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, alice, max + 1, max)
        );
        vault.withdraw(max + 1, alice, alice);
        vault.withdraw(max, alice, alice);
        vm.stopPrank();
    }

    function testMaxRedeemIsExactlyWhatRedeemAccepts(uint32 elapsed) public {
        _advance(bound(elapsed, 1, 10 days));
        uint256 max = vault.maxRedeem(alice);
        vm.startPrank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, alice, max + 1, max)
        );
        vault.redeem(max + 1, alice, alice);
        vault.redeem(max, alice, alice);
        vm.stopPrank();
    }

    function testMaxWithdrawAndRedeemIgnorePause() public {
        uint256 withdrawable = vault.maxWithdraw(alice);
        uint256 redeemable = vault.maxRedeem(alice);
        vm.prank(guardian);
        vault.pause();
        assertEq(vault.maxDeposit(bob), 0);
        assertEq(vault.maxMint(bob), 0);
        assertEq(vault.maxWithdraw(alice), withdrawable);
        assertEq(vault.maxRedeem(alice), redeemable);
    }

    /* INFLATION ATTACK */

    /// @dev First depositor deposits 1 unit, donates `donation` to the vault, victim deposits: the virtual shares
    ///      capture most of the donation, the attacker loses money and the victim loses at most dust.
    function testInflationAttackByDonationDefeated(uint256 donation, uint256 victimAssets) public {
        _deployVault(usdcMeta(), _defaultRisk(), _defaultFees(), type(uint256).max, true); // empty, uncapped
        donation = bound(donation, 1, 100_000_000 * USDC);
        victimAssets = bound(victimAssets, 1 * USDC, 1_000_000 * USDC);
        address attacker = makeAddr("attacker");
        _deposit(attacker, 1);
        _mint(usdc, attacker, donation);
        vm.prank(attacker);
        IERC20(usdc).transfer(address(vault), donation);
        // A deposit worth less than one share unit is refused (ZeroShares) rather than lost to rounding.
        if (vault.previewDeposit(victimAssets) == 0) {
            _mint(usdc, bob, victimAssets);
            vm.startPrank(bob);
            IERC20(usdc).approve(address(vault), victimAssets);
            vm.expectRevert(IHedgedVault.ZeroShares.selector);
            vault.deposit(victimAssets, bob);
            vm.stopPrank();
            return;
        }
        uint256 victimShares = _deposit(bob, victimAssets);
        uint256 victimValue = vault.previewRedeem(victimShares);
        // Victim's rounding loss is at most the price of one share unit (the donation spread over 1e6 virtual
        // shares), plus a unit of rounding.
        assertGe(victimValue + donation / 1e6 + 2, victimAssets, "victim loses at most dust");
        uint256 attackerValue = vault.previewRedeem(vault.balanceOf(attacker));
        assertLe(attackerValue, 1 + donation, "the attack never pays");
        assertLt(
            attackerValue,
            (1 + donation) / 2 + victimAssets / 1e6 + 2,
            "half the donation goes to virtual shares"
        );
    }
}

/// @notice ERC-4626 MUST-NOT-revert clauses (issue 19, from an outside fuzzed property run): the max*, convert*
///         and preview* views and the exits must not revert at any share price (they overflowed from ~1.16e53 assets
///         per share: VaultMath priced shares even with fees off, and `supply * performanceFeeBps` overflowed);
///         deposit(maxDeposit) must not revert (it did with ZeroShares when the cap's room bought no share);
///         an uncapped maxDeposit is 2^256 − 1; deposit(0) succeeds with 0 shares.
contract ERC4626MustNotRevertTest is VaultFixture {
    function setUp() public {
        _loadDevnet();
        _deployVault();
    }

    function _fund(address who, uint256 assets) internal {
        _mint(usdc, who, assets);
        vm.prank(who);
        IERC20(usdc).approve(address(vault), type(uint256).max);
    }

    /// @dev One asset unit deposited (1e6 shares), then `donation` given to the vault: assets per share ≈
    ///      donation / 2e6 (the virtual shares take half).
    function _hugeSharePrice(uint256 donation) internal {
        _deposit(alice, 1);
        _mint(usdc, address(vault), donation);
        _advance(1 hours); // management fee and a performance fee pending
    }

    function _exerciseViewsAndExits() internal {
        uint256 shares = vault.balanceOf(alice);
        vault.totalAssets();
        vault.maxDeposit(bob);
        vault.maxMint(bob);
        vault.convertToAssets(shares);
        vault.convertToShares(1e6);
        vault.previewRedeem(shares);
        vault.previewWithdraw(1e6);
        uint256 maxWithdraw = vault.maxWithdraw(alice);
        uint256 maxRedeem = vault.maxRedeem(alice);
        assertGt(maxWithdraw, 0);
        assertGt(maxRedeem, 0);
        vm.startPrank(alice);
        vault.withdraw(maxWithdraw / 2, alice, alice);
        vault.redeem(vault.maxRedeem(alice), alice, alice);
        vm.stopPrank();
    }

    function testViewsAndExitsDoNotRevertAtHugeSharePriceWithFees(uint256 donation) public {
        donation = bound(donation, 1e53 * 2e6, 1e70);
        _hugeSharePrice(donation);
        _exerciseViewsAndExits();
    }

    function testViewsAndExitsDoNotRevertAtHugeSharePriceWithoutFees(uint256 donation) public {
        donation = bound(donation, 1e53 * 2e6, 1e70);
        _timelocked(abi.encodeCall(vault.setFeeParams, (IHedgedVault.FeeParams(address(0), 0, 0, 6 hours))));
        _hugeSharePrice(donation);
        _exerciseViewsAndExits();
    }

    /// @notice Near a full cap at a high share price the room is less than one share's cost: maxDeposit is then 0
    ///         (deposit(0) succeeds), never an amount that reverts ZeroShares.
    function testDepositOfMaxDepositNeverReverts(uint256 room) public {
        _deposit(alice, 1);
        _mint(usdc, address(vault), 1_000_000 * USDC); // one share unit costs ~0.5 USDC
        room = bound(room, 1, 2 * USDC);
        uint256 cap = vault.totalAssets() + room;
        vm.prank(address(timelock));
        vault.setDepositCap(cap);
        uint256 max = vault.maxDeposit(bob);
        _fund(bob, max);
        vm.prank(bob);
        uint256 shares = vault.deposit(max, bob);
        assertEq(shares == 0, max == 0);
        uint256 maxMint = vault.maxMint(bob);
        _fund(bob, vault.previewMint(maxMint));
        vm.prank(bob);
        vault.mint(maxMint, bob);
    }

    function testUncappedMaxDepositAndMaxMintAreUintMax() public {
        _deposit(alice, 1000 * USDC);
        vm.prank(address(timelock));
        vault.setDepositCap(type(uint256).max);
        assertEq(vault.maxDeposit(bob), type(uint256).max);
        assertEq(vault.maxMint(bob), type(uint256).max);
    }

    function testDepositAndMintOfZeroSucceed() public {
        _deposit(alice, 1);
        _mint(usdc, address(vault), 10 * USDC); // a share unit costs ~5 asset units
        vm.startPrank(bob);
        assertEq(vault.deposit(0, bob), 0);
        assertEq(vault.mint(0, bob), 0);
        vm.stopPrank();
        assertEq(vault.balanceOf(bob), 0);
        // Dust that buys no share is still refused (it would be a gift to the holders).
        _fund(bob, 1);
        vm.prank(bob);
        vm.expectRevert(IHedgedVault.ZeroShares.selector);
        vault.deposit(1, bob);
    }
}
