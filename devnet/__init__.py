"""The devnet: anvil with the real Aave v3 and Uniswap v3 bytecode from npm, the project's price feeds,
deployment records, state snapshots and a market driver. It stands in for mainnet; the same keeper code
accepts a real RPC URL and the mainnet profile's addresses."""
