"""Parimutuel payout arithmetic, in integer credits (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


def parimutuel_payouts(winning_amounts: Sequence[int], volume: int) -> list[int]:
    """Split `volume` over the winning stakes, given earliest first, so it adds up exactly.

    Each stake gets floor(amount * volume / pool); the credits left over go one each to the
    stakes with the largest fractional remainders, ties to the earliest.
    """
    pool = sum(winning_amounts)
    if pool <= 0:
        raise ValueError("nobody backed the winning outcome: refund instead")
    if volume < pool:
        raise ValueError("the volume includes the winning pool")
    shares = [divmod(amount * volume, pool) for amount in winning_amounts]
    payouts = [whole for whole, _ in shares]
    leftover = volume - sum(payouts)
    by_remainder = sorted(range(len(shares)), key=lambda index: (-shares[index][1], index))
    for index in by_remainder[:leftover]:
        payouts[index] += 1
    return payouts


class Stake(Protocol):
    """What settling needs to know of a position."""

    @property
    def id(self) -> int: ...
    @property
    def outcome_id(self) -> int: ...
    @property
    def amount(self) -> int: ...


def settlement(
    stakes: Sequence[Stake], winning_outcome_id: int | None
) -> tuple[dict[int, int], bool]:
    """Each position's payout, and whether they are refunds rather than winnings.

    `stakes` come earliest first. With a winner that somebody backed, the volume is split
    parimutuel over the winners and losers get 0; otherwise (cancelled, or nobody backed the
    winner) every stake is refunded.
    """
    winners = [stake for stake in stakes if stake.outcome_id == winning_outcome_id]
    if not winners:
        return {stake.id: stake.amount for stake in stakes}, True
    volume = sum(stake.amount for stake in stakes)
    shares = parimutuel_payouts([stake.amount for stake in winners], volume)
    payouts = dict.fromkeys((stake.id for stake in stakes), 0)
    payouts.update(zip((stake.id for stake in winners), shares, strict=True))
    return payouts, False
