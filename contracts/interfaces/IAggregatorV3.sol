// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAggregatorV3
/// @notice The Chainlink aggregator surface the project reads and serves: the V3 round API plus the legacy
///         `latestAnswer`/`latestTimestamp` that Aave v3's AaveOracle calls.
interface IAggregatorV3 {
    /// @notice Number of decimals of `answer` (8 for USD feeds).
    function decimals() external view returns (uint8);

    /// @notice Human-readable pair, e.g. "ETH / USD".
    function description() external view returns (string memory);

    /// @notice Aggregator interface version.
    function version() external view returns (uint256);

    /// @notice One historical round.
    /// @return roundId The round asked for.
    /// @return answer The price, scaled by `decimals()`.
    /// @return startedAt When the round started (seconds).
    /// @return updatedAt When the answer was written (seconds).
    /// @return answeredInRound The round in which the answer was computed (= roundId here).
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice The newest round, same fields as `getRoundData`.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice Legacy API: the newest answer.
    function latestAnswer() external view returns (int256);

    /// @notice Legacy API: when the newest answer was written.
    function latestTimestamp() external view returns (uint256);

    /// @notice Legacy API: the newest round id.
    function latestRound() external view returns (uint256);
}
