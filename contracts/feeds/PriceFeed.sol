// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title PriceFeed
/// @notice A Chainlink-style price feed for the devnet and tests. Every `submit` opens a new round with the
///         block timestamp, so consumers see real round ids and `updatedAt` values and their staleness checks
///         behave as against a live aggregator. Only accounts holding FEEDER_ROLE may write.
/// @dev The answer of the latest round is also readable through the legacy `latestAnswer()` that Aave v3's
///      AaveOracle uses. Rounds are never rewritten; history stays queryable through `getRoundData`.
contract PriceFeed is IAggregatorV3, AccessControl {
    /* CONSTANTS */

    /// @notice Role allowed to write new answers.
    bytes32 public constant FEEDER_ROLE = keccak256("FEEDER_ROLE");

    /* ERRORS */

    /// @notice Thrown when an answer is not strictly positive.
    error NonPositiveAnswer(int256 answer);
    /// @notice Thrown when a round that was never written is asked for.
    error RoundNotFound(uint80 roundId);

    /* EVENTS (Chainlink's AggregatorInterface names) */

    /// @notice Emitted when a round's answer is written.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Emitted when a round opens.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    /* IMMUTABLES */

    uint8 public immutable override decimals;

    /* STORAGE */

    struct Round {
        int192 answer; // price scaled by `decimals`
        uint64 updatedAt; // seconds
    }

    string public override description;
    uint80 public latestRoundId;
    mapping(uint80 roundId => Round) internal _rounds;

    /* CONSTRUCTOR */

    /// @param decimals_ Scale of answers (8 for USD pairs).
    /// @param description_ Pair name, e.g. "ETH / USD".
    /// @param initialAnswer First answer, written as round 1.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE and the first FEEDER_ROLE.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer, address admin) {
        decimals = decimals_;
        description = description_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(FEEDER_ROLE, admin);
        _submit(initialAnswer);
    }

    /* FEEDER */

    /// @notice Writes `answer` as a new round stamped with the current block time.
    /// @param answer Price scaled by `decimals()`; must be > 0.
    /// @return roundId The new round id.
    function submit(int256 answer) external onlyRole(FEEDER_ROLE) returns (uint80 roundId) {
        return _submit(answer);
    }

    /* VIEWS */

    /// @inheritdoc IAggregatorV3
    function version() external pure override returns (uint256) {
        return 4;
    }

    /// @inheritdoc IAggregatorV3
    function getRoundData(uint80 roundId)
        public
        view
        override
        returns (uint80, int256, uint256, uint256, uint80)
    {
        Round memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert RoundNotFound(roundId);
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc IAggregatorV3
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(latestRoundId);
    }

    /// @inheritdoc IAggregatorV3
    function latestAnswer() external view override returns (int256) {
        return _rounds[latestRoundId].answer;
    }

    /// @inheritdoc IAggregatorV3
    function latestTimestamp() external view override returns (uint256) {
        return _rounds[latestRoundId].updatedAt;
    }

    /// @inheritdoc IAggregatorV3
    function latestRound() external view override returns (uint256) {
        return latestRoundId;
    }

    /* INTERNAL */

    function _submit(int256 answer) internal returns (uint80 roundId) {
        if (answer <= 0 || answer > type(int192).max) revert NonPositiveAnswer(answer);
        roundId = latestRoundId + 1;
        latestRoundId = roundId;
        // Safe cast: answer is in (0, type(int192).max], checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _rounds[roundId] = Round({answer: int192(answer), updatedAt: uint64(block.timestamp)});
        emit NewRound(roundId, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }
}
