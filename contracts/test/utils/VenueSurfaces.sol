// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";

import {IOptionMarket} from "../../interfaces/IOptionMarket.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";

Vm constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

/// @dev The venue's vol feeder re-posts every live surface of both underlyings unchanged (they are fresh again).
function repostSurfaces(IOptionMarket market, uint256[] memory expiries, address feeder) {
    for (uint256 u; u < 2; ++u) {
        for (uint256 i; i < expiries.length; ++i) {
            if (expiries[i] <= block.timestamp) continue;
            IOptionMarketTypes.VolSurface memory s = market.volSurface(u, uint64(expiries[i]));
            VM.prank(feeder);
            market.postVolSurface(u, uint64(expiries[i]), s.atmVolWad, s.skewWad, s.smileWad);
        }
    }
}
