"""Move the devnet's market: oracle prices, Uniswap pools (by real swaps), time and blocks.

``move_pool`` is a real arbitrage swap by the market-maker account through the SwapRouter, with the target
price as ``sqrtPriceLimitX96``: the pool stops exactly there and the router pulls only the input needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from web3 import Web3

from devnet.deploy import MAX_UINT, pair_sqrt_price_x96
from devnet.deployer import Deployer
from keeper.chain.anvil import rpc
from keeper.chain.connect import checksum
from keeper.chain.protocols import art
from keeper.chain.rpc import Call, RpcClient
from keeper.model.exceptions import HedgevaultError

Q96 = 2**96
_FEED_GAS = 200_000  # explicit limits: batched transactions are not estimated
_SWAP_GAS = 1_000_000


class DriverError(HedgevaultError):
    """Raised when the driver is asked for something the devnet cannot do (unknown asset, bad price)."""


class MarketDriver:
    def __init__(self, w3: Web3, url: str, record: dict[str, Any]) -> None:
        self.w3, self.url, self.record = w3, url, record
        admin = record["accounts"]["admin"]
        self.maker = checksum(record["accounts"]["market_maker"])
        self._admin = Deployer(w3, admin)
        self._maker = Deployer(w3, self.maker)
        self.router = w3.eth.contract(address=checksum(record["uniswap"]["SwapRouter"]), abi=art("SwapRouter").abi)
        self._approved: set[str] = set()
        self._contracts: dict[tuple[str, str], Any] = {}
        self._rpc: RpcClient | None = None
        self._uses: dict[str, int] = {}
        self.extra_senders: list[Deployer] = []  # other market actors batched by one_block (e.g. a vol feeder)

    def _contract(self, address: str, artifact: str) -> Any:
        """Contract objects are built once per (address, artifact): web3 spends milliseconds on each."""
        key = (address.lower(), artifact)
        if key not in self._contracts:
            self._contracts[key] = self.w3.eth.contract(address=checksum(address), abi=art(artifact).abi)
        return self._contracts[key]

    # --- oracle ---

    def feed(self, symbol: str) -> Any:
        if symbol not in self.record["feeds"]:
            raise DriverError(f"no feed for {symbol!r}; the devnet has {', '.join(self.record['feeds'])}")
        return self._contract(self.record["feeds"][symbol], "PriceFeed")

    def set_price(self, symbol: str, price_usd: float) -> None:
        """Write a new oracle round for ``symbol`` (8 decimals)."""
        if not price_usd > 0:
            raise DriverError(f"price_usd={price_usd} for {symbol} must be > 0")
        self._admin.send(
            self.feed(symbol).functions.submit(round(price_usd * 1e8)), f"set {symbol} price", gas=_FEED_GAS
        )

    def oracle_price(self, symbol: str) -> float:
        return float(self.feed(symbol).functions.latestAnswer().call()) / 1e8

    # --- Uniswap ---

    def pool_info(self, symbol: str) -> dict[str, Any]:
        key = f"{symbol}/USDC"
        if key not in self.record["uniswap"]["pools"]:
            raise DriverError(f"no Uniswap pool {key}; pools: {', '.join(self.record['uniswap']['pools'])}")
        return dict(self.record["uniswap"]["pools"][key])

    def pool_price(self, symbol: str) -> float:
        """USDC per unit of ``symbol`` from the pool's slot0."""
        info = self.pool_info(symbol)
        pool = self._contract(info["address"], "UniswapV3Pool")
        sqrt_p = pool.functions.slot0().call()[0]
        raw = (sqrt_p / Q96) ** 2  # token1 raw per token0 raw
        decimals = self.record["tokens"][symbol]["decimals"]
        if info["usdc_is_token0"]:
            return 10 ** (decimals - 6) / raw
        return raw * 10 ** (decimals - 6)

    def tier_pools(self, pair: str) -> list[dict[str, Any]]:
        """Every pool of ``pair`` (``"WETH/USDC"``, ``"WBTC/WETH"``): the primary first, then the other tiers."""
        tiers = self.record["uniswap"].get("tiers", {})
        if pair not in tiers:
            raise DriverError(f"no Uniswap pools for {pair}; pairs: {', '.join(tiers)}")
        return [dict(p) for p in tiers[pair]]

    def move_pool(self, symbol: str, price_usd: float) -> dict[str, Any]:
        """Swap every ``symbol``/USDC pool (all fee tiers) to ``price_usd`` exactly, as arbitrage would; returns
        the primary pool's receipt."""
        self.pool_info(symbol)  # a named error for an unknown symbol
        receipts = [self._move_to(info, price_usd) for info in self.tier_pools(f"{symbol}/USDC")]
        return receipts[0]

    def move_cross(self, prices_usd: dict[str, float]) -> None:
        """Align the pools of pairs with no USDC side (WBTC/WETH) to the ratio of ``prices_usd``."""
        for pair, pools in self.record["uniswap"].get("tiers", {}).items():
            base, quote = pair.split("/")
            if quote != "USDC" and base in prices_usd and quote in prices_usd:
                for info in pools:
                    self._move_to(info, prices_usd[base] / prices_usd[quote])

    def _move_to(self, info: dict[str, Any], price: float) -> dict[str, Any]:
        decimals = {s: t["decimals"] for s, t in self.record["tokens"].items()}
        target = pair_sqrt_price_x96(price, info["base_is_token0"], decimals[info["base"]], decimals[info["quote"]])
        pool = self._contract(info["address"], "UniswapV3Pool")
        current = pool.functions.slot0().call()[0]
        if current == target:
            return {}
        zero_for_one = target < current  # selling token0 lowers token1-per-token0
        token_in = info["token0"] if zero_for_one else info["token1"]
        token_out = info["token1"] if zero_for_one else info["token0"]
        self._ensure_funds(token_in)
        params = (token_in, token_out, info["fee"], self.maker, 2**40, 2**200, 0, target)
        label = f"move {info['base']}/{info['quote']} {info['fee']} pool"
        return self._maker.send(self.router.functions.exactInputSingle(params), label, gas=_SWAP_GAS)

    def prepare_pool_moves(self, symbols: Iterable[str]) -> None:
        """Make sure the market maker can move these pools either way (funds, approvals) before a batch."""
        for symbol in symbols:
            info = self.pool_info(symbol)
            self._ensure_funds(info["token0"])
            self._ensure_funds(info["token1"])

    @contextmanager
    def one_block(self, timestamp: int | None = None) -> Iterator[None]:
        """Collect the driver's transactions, then send them in one JSON-RPC batch and mine them in one block
        (at ``timestamp`` if given), checking every receipt: a market step costs two round trips and one
        block, not several of each per update."""
        senders = (self._admin, self._maker, *self.extra_senders)
        for sender in senders:
            sender.pending = []
        try:
            yield
            batch = [p for sender in senders for p in (sender.pending or [])]
        finally:
            for sender in senders:
                sender.pending = None
        client = self._client()
        rpc(self.url, "evm_setAutomine", [False])
        try:
            hashes = client.batch([Call("eth_sendTransaction", [tx]) for tx, _ in batch])
            if timestamp is not None:
                rpc(self.url, "evm_setNextBlockTimestamp", [timestamp])
            rpc(self.url, "evm_mine")
        finally:
            rpc(self.url, "evm_setAutomine", [True])
        receipts = client.batch([Call("eth_getTransactionReceipt", [h]) for h in hashes])
        for (_, what), tx_hash, receipt in zip(batch, hashes, receipts, strict=True):
            if receipt is None or int(receipt["status"], 16) != 1:
                raise DriverError(f"{what} failed in the market step's block (tx {tx_hash})")

    def _client(self) -> RpcClient:
        if self._rpc is None:
            self._rpc = RpcClient(self.url)
        return self._rpc

    def _ensure_funds(self, token: str) -> None:
        symbol = next(s for s, t in self.record["tokens"].items() if t["address"].lower() == token.lower())
        contract = self._contract(token, "MintableERC20" if symbol != "WETH" else "WETH9")
        if token not in self._approved:
            self._maker.send(contract.functions.approve(self.router.address, MAX_UINT), "approve router")
            self._approved.add(token)
        want = 10**30 if symbol != "WETH" else 10**27
        # One balance read per 50 uses: a market step moves far less than 1/100 of `want`.
        self._uses[token] = self._uses.get(token, 0) + 1
        if self._uses[token] % 50 != 1 or contract.functions.balanceOf(self.maker).call() >= want // 2:
            return
        if symbol == "WETH":
            rpc(self.url, "anvil_setBalance", [self.maker, hex(want * 2)])
            self._maker.send(contract.functions.deposit(), "wrap ETH", value=want)
        else:
            self._maker.send(contract.functions.mint(self.maker, want), f"mint {symbol}")

    def forget(self) -> None:
        """Drop what the driver remembers about chain state (token approvals): call after an ``evm_revert``."""
        self._approved.clear()
        self._uses.clear()

    def set_market_price(self, symbol: str, price_usd: float) -> None:
        """Oracle and pool together, as arbitrage would keep them."""
        self.set_price(symbol, price_usd)
        self.move_pool(symbol, price_usd)

    # --- time ---

    def latest_timestamp(self) -> int:
        return int(rpc(self.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def advance(self, seconds: int) -> int:
        """Mine one block ``seconds`` after the latest (interest accrues, expiries pass); returns its time."""
        if seconds <= 0:
            raise DriverError(f"seconds={seconds} must be > 0")
        ts = self.latest_timestamp() + seconds
        rpc(self.url, "evm_setNextBlockTimestamp", [ts])
        rpc(self.url, "evm_mine")
        return ts

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            rpc(self.url, "evm_mine")


def price_bps_error(a: float, b: float) -> float:
    return abs(math.log(a / b)) * 1e4
