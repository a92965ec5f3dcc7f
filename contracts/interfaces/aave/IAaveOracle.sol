// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAaveAddressesProvider
/// @notice The one call of the Aave v3 PoolAddressesProvider the vault makes: where the price oracle is.
interface IAaveAddressesProvider {
    function getPriceOracle() external view returns (address);
}

/// @title IAaveOracle
/// @notice The Aave v3 AaveOracle price read (base currency units; USD × 1e8 on the devnet and mainnet markets).
interface IAaveOracle {
    function getAssetPrice(address asset) external view returns (uint256);
}
