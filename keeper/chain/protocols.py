"""The npm artifacts the devnet deploys, by role (paths under node_modules)."""

from __future__ import annotations

from keeper.chain.artifacts import Artifact, forge_artifact, npm_artifact

_AAVE = "@aave/core-v3/artifacts/contracts"
_UNI_CORE = "@uniswap/v3-core/artifacts/contracts"
_UNI_PERIPHERY = "@uniswap/v3-periphery/artifacts/contracts"

PATHS = {
    "PoolAddressesProvider": f"{_AAVE}/protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
    "ACLManager": f"{_AAVE}/protocol/configuration/ACLManager.sol/ACLManager.json",
    "SupplyLogic": f"{_AAVE}/protocol/libraries/logic/SupplyLogic.sol/SupplyLogic.json",
    "BorrowLogic": f"{_AAVE}/protocol/libraries/logic/BorrowLogic.sol/BorrowLogic.json",
    "LiquidationLogic": f"{_AAVE}/protocol/libraries/logic/LiquidationLogic.sol/LiquidationLogic.json",
    "EModeLogic": f"{_AAVE}/protocol/libraries/logic/EModeLogic.sol/EModeLogic.json",
    "BridgeLogic": f"{_AAVE}/protocol/libraries/logic/BridgeLogic.sol/BridgeLogic.json",
    "PoolLogic": f"{_AAVE}/protocol/libraries/logic/PoolLogic.sol/PoolLogic.json",
    "ConfiguratorLogic": f"{_AAVE}/protocol/libraries/logic/ConfiguratorLogic.sol/ConfiguratorLogic.json",
    "FlashLoanLogic": f"{_AAVE}/protocol/libraries/logic/FlashLoanLogic.sol/FlashLoanLogic.json",
    "Pool": f"{_AAVE}/protocol/pool/Pool.sol/Pool.json",
    "PoolConfigurator": f"{_AAVE}/protocol/pool/PoolConfigurator.sol/PoolConfigurator.json",
    "AaveOracle": f"{_AAVE}/misc/AaveOracle.sol/AaveOracle.json",
    "AaveProtocolDataProvider": f"{_AAVE}/misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json",
    "AToken": f"{_AAVE}/protocol/tokenization/AToken.sol/AToken.json",
    "StableDebtToken": f"{_AAVE}/protocol/tokenization/StableDebtToken.sol/StableDebtToken.json",
    "VariableDebtToken": f"{_AAVE}/protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json",
    "DefaultReserveInterestRateStrategy": (
        f"{_AAVE}/protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json"
    ),
    # An ERC-20 with decimals and open mint shipped by Aave (a token, not a protocol stand-in).
    "MintableERC20": f"{_AAVE}/mocks/tokens/MintableERC20.sol/MintableERC20.json",
    "WETH9": f"{_AAVE}/dependencies/weth/WETH9.sol/WETH9.json",
    "UniswapV3Factory": f"{_UNI_CORE}/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": f"{_UNI_CORE}/UniswapV3Pool.sol/UniswapV3Pool.json",
    "SwapRouter": f"{_UNI_PERIPHERY}/SwapRouter.sol/SwapRouter.json",
    "NonfungiblePositionManager": f"{_UNI_PERIPHERY}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    "QuoterV2": f"{_UNI_PERIPHERY}/lens/QuoterV2.sol/QuoterV2.json",
}


def art(name: str) -> Artifact:
    """A protocol artifact by name, or the project's own (forge) when not an npm one."""
    return npm_artifact(PATHS[name]) if name in PATHS else forge_artifact(name)
