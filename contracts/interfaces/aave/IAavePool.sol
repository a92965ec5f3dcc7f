// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAavePool
/// @notice The subset of the Aave v3.0 Pool the vault and its adapter use (written here; no Aave sources imported).
interface IAavePool {
    /// @notice Aave v3.0 ReserveData (field order as deployed by @aave/core-v3 1.19.x).
    struct ReserveData {
        uint256 configuration;
        uint128 liquidityIndex;
        uint128 currentLiquidityRate;
        uint128 variableBorrowIndex;
        uint128 currentVariableBorrowRate;
        uint128 currentStableBorrowRate;
        uint40 lastUpdateTimestamp;
        uint16 id;
        address aTokenAddress;
        address stableDebtTokenAddress;
        address variableDebtTokenAddress;
        address interestRateStrategyAddress;
        uint128 accruedToTreasury;
        uint128 unbacked;
        uint128 isolationModeTotalDebt;
    }

    function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external;
    function withdraw(address asset, uint256 amount, address to) external returns (uint256);
    function borrow(
        address asset,
        uint256 amount,
        uint256 interestRateMode,
        uint16 referralCode,
        address onBehalfOf
    ) external;
    function repay(address asset, uint256 amount, uint256 interestRateMode, address onBehalfOf)
        external
        returns (uint256);

    /// @return totalCollateralBase USD 1e8; totalDebtBase USD 1e8; availableBorrowsBase USD 1e8;
    ///         currentLiquidationThreshold bps; ltv bps; healthFactor 1e18 (max uint when no debt).
    function getUserAccountData(address user)
        external
        view
        returns (
            uint256 totalCollateralBase,
            uint256 totalDebtBase,
            uint256 availableBorrowsBase,
            uint256 currentLiquidationThreshold,
            uint256 ltv,
            uint256 healthFactor
        );

    function getReserveData(address asset) external view returns (ReserveData memory);

    /// @return data Aave's UserConfigurationMap: bit 2·id set while the user borrows reserve `id`, bit 2·id + 1
    ///         while it uses reserve `id` as collateral.
    function getUserConfiguration(address user) external view returns (uint256 data);

    /// @notice The market's PoolAddressesProvider (where its price oracle is).
    function ADDRESSES_PROVIDER() external view returns (address);
}
