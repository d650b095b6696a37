"""Parimutuel payout arithmetic, in integer credits (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence


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
