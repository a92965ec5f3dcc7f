"""A liquidation bot: anyone may liquidate an Aave account below HF 1, and the demo's liquidator does, on the
vault, exactly as a searcher on mainnet would (largest debt against largest collateral, up to the close factor).
It is what makes the unhedged counterfactual honest: an unmanaged book does get liquidated."""

from __future__ import annotations

from dataclasses import dataclass, field

from devnet.deployer import Deployer
from keeper.chain.anvil import rpc
from keeper.chain.connect import checksum, contract_at
from sim.demo.world import MAX_UINT, World


@dataclass
class Liquidations:
    count: int = 0
    debt_repaid_usd: float = 0.0
    gas_used: int = 0
    events: list[str] = field(default_factory=list)


class AaveLiquidator:
    def __init__(self, world: World) -> None:
        self.world = world
        self.who = world.accounts["liquidator"]
        self.pool = contract_at(world.w3, world.record["aave"]["Pool"], "Pool")
        self.done = Liquidations()
        self._sender = Deployer(world.w3, self.who)
        self._approved: set[str] = set()

    def check(self, hours: float) -> bool:
        """Liquidate the vault once if its health factor is below 1; True if it did."""
        vault = self.world.vault.address
        _, debt_base, _, _, _, hf = self.pool.functions.getUserAccountData(vault).call()
        if debt_base == 0 or hf >= 10**18:
            return False
        collateral, debt = self._largest(vault)
        if not collateral:
            # Nothing left to seize (bad debt): Aave refuses any collateral choice (error 46), and so would a
            # searcher's simulation; the debt stays, as it does on mainnet.
            if not self.done.events or not self.done.events[-1].endswith("no collateral left to seize"):
                self.done.events.append(f"{hours:.2f} h: HF {hf / 1e18:.3f}, bad debt: no collateral left to seize")
            return False
        self._fund(debt)
        receipt = self._sender.send(
            self.pool.functions.liquidationCall(checksum(collateral), checksum(debt), vault, MAX_UINT, False),
            "liquidate the vault on Aave",
        )
        self.done.count += 1
        self.done.gas_used += int(receipt["gasUsed"])
        self.done.debt_repaid_usd += debt_base / 1e8 / 2  # close factor 50 % while HF ≥ 0.95
        self.done.events.append(f"{hours:.2f} h: Aave liquidation at HF {hf / 1e18:.3f}")
        return True

    def _largest(self, vault: str) -> tuple[str, str]:
        """The largest seizable collateral ("" when none: no balance enabled as collateral) and largest debt."""
        data = contract_at(
            self.world.w3, self.world.record["aave"]["AaveProtocolDataProvider"], "AaveProtocolDataProvider"
        )
        best_c = best_d = (0.0, "")
        for symbol, token in self.world.record["tokens"].items():
            reserve = data.functions.getUserReserveData(checksum(token["address"]), vault).call()
            price = self.world.driver.oracle_price(symbol)
            scale = 10 ** token["decimals"]
            # (aToken balance, stable debt, variable debt, …, usageAsCollateralEnabled)
            seizable = reserve[0] if reserve[8] else 0
            collateral_usd, debt_usd = seizable / scale * price, reserve[2] / scale * price
            if collateral_usd > best_c[0]:
                best_c = (collateral_usd, token["address"])
            best_d = max(best_d, (debt_usd, token["address"]))
        return best_c[1], best_d[1]

    def _fund(self, debt_token: str) -> None:
        symbol = next(s for s, t in self.world.record["tokens"].items() if t["address"].lower() == debt_token.lower())
        token = self.world.token(symbol)
        if symbol == "WETH":
            rpc(self.world.url, "anvil_setBalance", [self.who, hex(10**30)])
            self._sender.send(token.functions.deposit(), "wrap ETH", value=10**27)
        else:
            self._sender.send(token.functions.mint(self.who, 10**30), f"mint {symbol}")
        if symbol not in self._approved:
            self._sender.send(token.functions.approve(self.pool.address, MAX_UINT), "approve the Aave pool")
            self._approved.add(symbol)


class VenueLiquidator:
    """Liquidates the vault's venue accounts below maintenance margin, as any third party may: the largest short
    first, the largest size the venue accepts (it refuses over-liquidation past IM), found by bisection on
    ``eth_call`` to within 1 %, then sent. Keeps going while an account stays under water."""

    def __init__(self, world: World, done: Liquidations) -> None:
        from devnet.venue_reads import market_at

        self.world = world
        self.who = world.accounts["liquidator"]
        self.market = market_at(world.w3, world.record["venue"]["OptionMarket"])
        self.done = done
        self._sender = Deployer(world.w3, self.who)

    def check(self, hours: float, max_rounds: int = 4) -> bool:
        acted = False
        f = self.market.functions
        for account in f.accountsOf(self.world.vault.address).call():
            for _ in range(max_rounds):
                try:
                    equity, _, mm = f.marginOf(account).call()
                except Exception:
                    break
                if mm == 0 or equity >= mm:
                    break
                state = f.accountState(account).call()
                shorts = sorted((p for p in state[7] if p[6] < 0), key=lambda p: p[6] * p[8])  # most negative value
                if not shorts:
                    break
                series, size = int(shorts[0][0]), -int(shorts[0][6])
                amount = self._largest(account, series, size)
                if amount == 0:
                    break
                receipt = self._sender.send(f.liquidate(account, series, amount), "liquidate a venue account")
                self.done.count += 1
                self.done.gas_used += int(receipt["gasUsed"])
                self.done.events.append(
                    f"{hours:.2f} h: venue liquidation of account {account} (equity {equity / 1e6:,.0f} < "
                    f"MM {mm / 1e6:,.0f} USDC), {amount / 1e18:.2f} of series {series} closed"
                )
                acted = True
        return acted

    def _largest(self, account: int, series: int, size: int) -> int:
        lo, hi = 0, size
        call = self.market.functions.liquidate
        try:
            call(account, series, size).call({"from": self.who})
            return size
        except Exception:
            pass
        while hi - lo > max(size // 100, 1):
            mid = (lo + hi) // 2
            try:
                call(account, series, mid).call({"from": self.who})
                lo = mid
            except Exception:
                hi = mid
        return lo
