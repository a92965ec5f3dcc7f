// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @title PriceLib
/// @notice Chainlink-style feed reads normalised to USD with 8 decimals.
library PriceLib {
    /// @notice The feed's latest answer at 8 decimals (0 when not positive) and its `updatedAt`; no staleness
    ///         check here: callers compare `updatedAt` with their heartbeat.
    function priceE8(address feed) internal view returns (uint256 price, uint256 updatedAt) {
        // Round ids and startedAt are not used: freshness is judged on updatedAt (answeredInRound is deprecated).
        // slither-disable-next-line unused-return
        (, int256 answer,, uint256 at,) = IAggregatorV3(feed).latestRoundData();
        uint8 d = IAggregatorV3(feed).decimals();
        // Safe cast: answer > 0 checked on the same line.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 a = answer > 0 ? uint256(answer) : 0;
        price = d >= 8 ? a / 10 ** (d - 8) : a * 10 ** (8 - d);
        updatedAt = at;
    }
}
