"""Price-feed operations through ape: deploy a Chainlink-style PriceFeed, submit an answer, read it.

    ape run feed deploy --decimals 8 --description "ETH / USD" --answer 3000.5 --account TEST::0
    ape run feed submit 0xFeed… 3100 --account <alias>
    ape run feed show 0xFeed…

Answers are given in the pair's units (e.g. USD) and scaled by the feed's decimals on-chain; a value
that does not scale to a positive integer is rejected before anything is signed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click
from ape.cli import ConnectedProviderCommand, account_option

from scripts._ape_support import forge_contract


def scaled_answer(answer: str, decimals: int) -> int:
    """``answer`` (a decimal string in the pair's units) as an integer scaled by 10**decimals."""
    try:
        value = Decimal(answer)
    except InvalidOperation as err:
        raise click.BadParameter(f"answer={answer!r} is not a number; give e.g. 3000.25") from err
    scaled = value * (Decimal(10) ** decimals)
    if scaled <= 0 or scaled != scaled.to_integral_value():
        raise click.BadParameter(f"answer={answer} must be > 0 with at most {decimals} decimals (the feed's precision)")
    return int(scaled)


@click.group()
def cli() -> None:
    """Deploy and operate PriceFeed contracts."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--decimals", type=click.IntRange(0, 18), default=8, show_default=True)
@click.option("--description", required=True, help='pair name, e.g. "ETH / USD"')
@click.option("--answer", required=True, help="first answer in the pair's units, e.g. 3000.5")
def deploy(account: object, decimals: int, description: str, answer: str) -> None:
    """Deploy a PriceFeed; the signer becomes admin and feeder."""
    feed = account.deploy(forge_contract("PriceFeed"), decimals, description, scaled_answer(answer, decimals), account)  # type: ignore[attr-defined]
    click.echo(f"PriceFeed {description} deployed at {feed.address}")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("feed_address")
@click.argument("answer")
def submit(account: object, feed_address: str, answer: str) -> None:
    """Write ANSWER as a new round (the signer needs FEEDER_ROLE)."""
    feed = forge_contract("PriceFeed").at(feed_address)
    feed.submit(scaled_answer(answer, feed.decimals()), sender=account)
    click.echo(f"round {feed.latestRoundId()} = {answer}")


@cli.command(cls=ConnectedProviderCommand)
@click.argument("feed_address")
def show(feed_address: str) -> None:
    """Print the latest round."""
    feed = forge_contract("PriceFeed").at(feed_address)
    round_id, answer, _, updated_at, _ = feed.latestRoundData()
    click.echo(f"{feed.description()}: {Decimal(answer) / 10 ** feed.decimals()} (round {round_id}, {updated_at})")
