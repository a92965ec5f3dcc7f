// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Hostile ERC-20s for the vault's SafeERC20 paths (Solmate's weird-token set, trimmed to what a vault
///         asset or tracked token could plausibly do). One base with the bookkeeping, one override per behaviour.
abstract contract HostileERC20Base {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory name_, uint8 decimals_) {
        (name, symbol, decimals) = (name_, name_, decimals_);
    }

    function mint(address to, uint256 amount) external returns (bool) {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal virtual {
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    function _spend(address from, uint256 amount) internal {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
    }
}

/// @notice USDT-style: `transfer`, `transferFrom` and `approve` return nothing, and `approve` from a non-zero
///         allowance to another non-zero one reverts (the approval race guard that forceApprove works around).
contract MissingReturnERC20 is HostileERC20Base {
    error ApproveFromNonZero(uint256 current);

    constructor() HostileERC20Base("MISSING", 6) {}

    function approve(address spender, uint256 amount) external {
        uint256 current = allowance[msg.sender][spender];
        if (amount != 0 && current != 0) revert ApproveFromNonZero(current);
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
    }

    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) external {
        _spend(from, amount);
        _move(from, to, amount);
    }
}

/// @notice Returns `false` instead of reverting on a failed transfer (insufficient balance, allowance, or a
///         blocked address), as some legacy tokens do; `block` plays the issuer's blacklist.
contract ReturnsFalseERC20 is HostileERC20Base {
    mapping(address => bool) public blocked;

    constructor() HostileERC20Base("FALSE", 6) {}

    function setBlocked(address who, bool isBlocked) external {
        blocked[who] = isBlocked;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        if (blocked[msg.sender] || blocked[to] || balanceOf[msg.sender] < amount) return false;
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (blocked[from] || blocked[to] || balanceOf[from] < amount || allowance[from][msg.sender] < amount)
        {
            return false;
        }
        _spend(from, amount);
        _move(from, to, amount);
        return true;
    }
}

/// @notice The standard ERC-20 surface (bool returns) over the base bookkeeping; behaviours override `_move`.
abstract contract StandardHostileERC20 is HostileERC20Base {
    constructor(string memory name_, uint8 decimals_) HostileERC20Base(name_, decimals_) {}

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _move(from, to, amount);
        return true;
    }
}

/// @notice Reverts any transfer touching a blocked address (USDC's blacklist); otherwise a standard token.
contract BlocklistERC20 is StandardHostileERC20 {
    mapping(address => bool) public blocked;

    error Blocked(address who);

    constructor() StandardHostileERC20("BLOCK", 6) {}

    function setBlocked(address who, bool isBlocked) external {
        blocked[who] = isBlocked;
    }

    function _move(address from, address to, uint256 amount) internal override {
        if (blocked[from]) revert Blocked(from);
        if (blocked[to]) revert Blocked(to);
        super._move(from, to, amount);
    }
}

/// @notice Takes `feeBps` of every transfer (burnt), so the receiver gets less than `amount`.
contract FeeOnTransferERC20 is StandardHostileERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) StandardHostileERC20("FOT", 6) {
        feeBps = feeBps_;
    }

    function _move(address from, address to, uint256 amount) internal override {
        uint256 fee = amount * feeBps / 10_000;
        balanceOf[from] -= amount;
        balanceOf[to] += amount - fee;
        totalSupply -= fee;
        emit Transfer(from, to, amount - fee);
    }
}
