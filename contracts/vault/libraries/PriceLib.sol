// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @title PriceLib
/// @notice Chainlink-style feed reads normalised to USD with 8 decimals. A feed that reverts, has no code, returns
///         malformed data or answers ≤ 0 reads as price 0: callers that need a price (entries, keeper batches)
///         turn 0 into StalePrice, and exits value it through their fallback, so no feed can make an exit revert.
library PriceLib {
    /// @notice The feed's latest answer at 8 decimals (0 when not positive or unreadable) and its `updatedAt`; no
    ///         staleness check here: callers compare `updatedAt` with their heartbeat.
    function priceE8(address feed) internal view returns (uint256 price, uint256 updatedAt) {
        // Low-level reads: a try/catch would still revert on short return data, which is exactly what must not.
        // slither-disable-next-line low-level-calls
        (bool ok, bytes memory ret) = feed.staticcall(abi.encodeCall(IAggregatorV3.latestRoundData, ()));
        if (!ok || ret.length < 160) return (0, 0);
        // Round ids and startedAt are not used: freshness is judged on updatedAt (answeredInRound is deprecated).
        (, int256 answer,, uint256 at,) = abi.decode(ret, (uint256, int256, uint256, uint256, uint256));
        // (Decoded as full words: a uint80 with dirty high bits would make abi.decode revert.)
        if (answer <= 0) return (0, at);
        // slither-disable-next-line low-level-calls
        (ok, ret) = feed.staticcall(abi.encodeCall(IAggregatorV3.decimals, ()));
        if (!ok || ret.length < 32) return (0, at);
        uint256 d = abi.decode(ret, (uint256));
        if (d > 38) return (0, at);
        // Safe cast: answer > 0 checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 a = uint256(answer);
        if (d >= 8) return (a / 10 ** (d - 8), at);
        uint256 m = 10 ** (8 - d);
        // An answer that would overflow at 8 decimals is nonsense: no price, never a revert.
        return (a > type(uint256).max / m ? 0 : a * m, at);
    }
}
