// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Storage cleared through a delegatecall, as a facet-dispatching contract does it (the venue's
///         settleExpiry retiring series): the refunds make the gas a transaction needs exceed the gas it reports
///         as used (by up to a fifth, EIP-3529), the 63/64 rule adds to it, and an inner call starved of gas
///         surfaces as a revert without data, not as out of gas. The keeper's tx manager must not take that for
///         the call's own revert (tests/chain/test_txmanager.py).
contract RefundingProxy {
    uint256[200] internal _slots;
    address public immutable logic;

    constructor() {
        logic = address(new RefundingLogic());
    }

    function fill(uint256 n) external {
        for (uint256 i; i < n; ++i) {
            _slots[i] = i + 1;
        }
    }

    function clear(uint256 n) external {
        (bool ok,) = logic.delegatecall(abi.encodeCall(RefundingLogic.clear, (n)));
        if (!ok) {
            assembly {
                revert(0, 0)
            }
        }
    }

    function slot(uint256 i) external view returns (uint256) {
        return _slots[i];
    }
}

contract RefundingLogic {
    uint256[200] internal _slots;

    function clear(uint256 n) external {
        for (uint256 i; i < n; ++i) {
            _slots[i] = 0;
        }
    }
}
