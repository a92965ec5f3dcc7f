// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PriceFeed} from "../../feeds/PriceFeed.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "forge-std/Test.sol";

contract PriceFeedTest is Test {
    PriceFeed internal feed;
    address internal admin = makeAddr("admin");
    address internal stranger = makeAddr("stranger");

    function setUp() public {
        vm.warp(1_700_000_000);
        feed = new PriceFeed(8, "ETH / USD", 3000e8, admin);
    }

    function testConstructorWritesRoundOne() public view {
        (uint80 id, int256 answer,, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(id, 1);
        assertEq(answer, 3000e8);
        assertEq(updatedAt, 1_700_000_000);
        assertEq(answeredIn, 1);
        assertEq(feed.decimals(), 8);
        assertEq(feed.latestAnswer(), 3000e8);
    }

    function testSubmitOpensNewRoundWithBlockTime(int256 answer, uint32 dt) public {
        answer = bound(answer, 1, type(int192).max);
        vm.warp(block.timestamp + dt);
        vm.prank(admin);
        uint80 id = feed.submit(answer);
        assertEq(id, 2);
        (, int256 got,, uint256 updatedAt,) = feed.latestRoundData();
        assertEq(got, answer);
        assertEq(updatedAt, block.timestamp);
        assertEq(feed.latestTimestamp(), block.timestamp);
        // History is kept.
        (, int256 first,,,) = feed.getRoundData(1);
        assertEq(first, 3000e8);
    }

    function testSubmitRevertsForStranger() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, feed.FEEDER_ROLE()
            )
        );
        vm.prank(stranger);
        feed.submit(1);
    }

    function testSubmitRevertsWhenAnswerNotPositive(int256 answer) public {
        answer = bound(answer, type(int256).min, 0);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NonPositiveAnswer.selector, answer));
        vm.prank(admin);
        feed.submit(answer);
    }

    function testGetRoundDataRevertsForUnknownRound() public {
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.RoundNotFound.selector, uint80(7)));
        feed.getRoundData(7);
    }
}
