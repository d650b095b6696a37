"""Parimutuel payouts add up to the volume exactly, checked against an exact-fraction reference."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.money.payouts import parimutuel_payouts, settlement

BOUNDED = settings(max_examples=200, deadline=None)


@dataclass(frozen=True, slots=True)
class Stake:
    """A position as settling sees it."""

    id: int
    outcome_id: int
    amount: int


def reference_payouts(winning_amounts: list[int], volume: int) -> list[int]:
    """SPEC's rule, spelled out with exact fractions and no sorting.

    Each winner gets floor(amount x volume / pool); a winner gets one credit more exactly when
    fewer than `leftover` winners outrank it, where a larger fractional remainder outranks a
    smaller one and, on equal remainders, the earlier position outranks the later.
    """
    pool = sum(winning_amounts)
    exact = [Fraction(amount * volume, pool) for amount in winning_amounts]
    floors = [math.floor(share) for share in exact]
    remainders = [share - floor for share, floor in zip(exact, floors, strict=True)]
    leftover = volume - sum(floors)
    payouts = []
    for index, remainder in enumerate(remainders):
        outranked_by = sum(
            1
            for other, other_remainder in enumerate(remainders)
            if other_remainder > remainder or (other_remainder == remainder and other < index)
        )
        payouts.append(floors[index] + (1 if outranked_by < leftover else 0))
    return payouts


def reference_settlement(stakes: list[Stake], winner: int | None) -> tuple[dict[int, int], bool]:
    """Payout per position id, and whether they are refunds (cancelled, or nobody won)."""
    winners = [stake for stake in stakes if stake.outcome_id == winner]
    if not winners:
        return {stake.id: stake.amount for stake in stakes}, True
    volume = sum(stake.amount for stake in stakes)
    shares = iter(reference_payouts([stake.amount for stake in winners], volume))
    return {stake.id: next(shares) if stake.outcome_id == winner else 0 for stake in stakes}, False


amounts = st.integers(min_value=1, max_value=1_000_000)
# Small amounts make equal remainders (ties) common; large ones exercise big products.
stake_amounts = st.one_of(st.integers(min_value=1, max_value=5), amounts)


@st.composite
def winners_and_volume(draw: st.DrawFn) -> tuple[list[int], int]:
    """Winning stakes (earliest first) and a volume of at least their pool."""
    winning = draw(st.lists(stake_amounts, min_size=1, max_size=30))
    losing = draw(st.lists(stake_amounts, max_size=30))
    return winning, sum(winning) + sum(losing)


@st.composite
def markets(draw: st.DrawFn) -> tuple[list[Stake], int | None]:
    """Positions (earliest first) over up to four outcomes, and a winner that may be unbacked
    (outcome 5) or absent (cancellation)."""
    placed = draw(
        st.lists(
            st.tuples(st.integers(min_value=1, max_value=4), stake_amounts),
            min_size=1,
            max_size=40,
        )
    )
    # Ids need not follow time order: settling is given the stakes already earliest first.
    ids = draw(st.permutations(range(100, 100 + len(placed))))
    stakes = [
        Stake(id=pk, outcome_id=outcome, amount=amount)
        for pk, (outcome, amount) in zip(ids, placed, strict=True)
    ]
    winner = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=5)))
    return stakes, winner


@BOUNDED
@given(winners_and_volume())
def test_payouts_follow_the_largest_remainder_rule(case: tuple[list[int], int]) -> None:
    winning, volume = case

    payouts = parimutuel_payouts(winning, volume)

    assert payouts == reference_payouts(winning, volume)
    assert sum(payouts) == volume
    assert all(isinstance(payout, int) for payout in payouts)


@BOUNDED
@given(winners_and_volume())
def test_no_winner_gets_less_than_a_bigger_or_earlier_equal_stake_would(
    case: tuple[list[int], int],
) -> None:
    winning, volume = case

    payouts = parimutuel_payouts(winning, volume)

    for i, (amount_i, paid_i) in enumerate(zip(winning, payouts, strict=True)):
        assert amount_i * volume // sum(winning) <= paid_i <= amount_i * volume // sum(winning) + 1
        for j in range(i + 1, len(winning)):
            if winning[j] > amount_i:
                assert payouts[j] >= paid_i
            if winning[j] == amount_i:
                assert paid_i - 1 <= payouts[j] <= paid_i


@BOUNDED
@given(markets())
def test_settlement_pays_winners_refunds_otherwise_and_adds_up(
    case: tuple[list[Stake], int | None],
) -> None:
    stakes, winner = case

    payouts, refunds = settlement(stakes, winner)

    assert (payouts, refunds) == reference_settlement(stakes, winner)
    assert sum(payouts.values()) == sum(stake.amount for stake in stakes)
    if any(stake.outcome_id == winner for stake in stakes):
        assert not refunds
        assert all(payouts[stake.id] == 0 for stake in stakes if stake.outcome_id != winner)
    else:
        assert refunds
        assert payouts == {stake.id: stake.amount for stake in stakes}


@pytest.mark.parametrize(
    ("winning", "volume", "expected"),
    [
        # 100 x 7/31 = 22.58, x 11/31 = 35.48, x 13/31 = 41.93: floors 98, the 2 left over go
        # to the largest remainders (29/31 and 18/31).
        pytest.param([7, 11, 13], 100, [23, 35, 42], id="largest-remainders"),
        # Every share is 5/3: equal remainders, so the earliest two get the spare credits.
        pytest.param([1, 1, 1], 5, [2, 2, 1], id="ties-to-the-earliest"),
        pytest.param([10, 30], 80, [20, 60], id="exact-division"),
        pytest.param([42], 1_000, [1_000], id="a-lone-winner-takes-all"),
        pytest.param([5, 5], 10, [5, 5], id="only-winners-get-their-stakes-back"),
        # 8 x 2/5 = 3.2, 8 x 1/5 = 1.6: the spare credit goes to the smaller stake, whose
        # remainder is larger.
        pytest.param([2, 1, 2], 8, [3, 2, 3], id="remainder-over-size"),
        # 6 x 2/5 = 2.4 twice: equal remainders, the earlier position gets the spare.
        pytest.param([2, 1, 2], 6, [3, 1, 2], id="equal-stakes-earliest-first"),
    ],
)
def test_hand_computed_payouts(winning: list[int], volume: int, expected: list[int]) -> None:
    assert parimutuel_payouts(winning, volume) == expected


def test_settlement_by_hand() -> None:
    stakes = [
        Stake(1, 10, 7),
        Stake(2, 20, 40),
        Stake(3, 10, 11),
        Stake(4, 30, 29),
        Stake(5, 10, 13),
    ]

    assert settlement(stakes, 10) == ({1: 23, 2: 0, 3: 35, 4: 0, 5: 42}, False)
    assert settlement(stakes, 99) == ({1: 7, 2: 40, 3: 11, 4: 29, 5: 13}, True)
    assert settlement(stakes, None) == ({1: 7, 2: 40, 3: 11, 4: 29, 5: 13}, True)


@pytest.mark.parametrize(
    ("winning", "volume"),
    [pytest.param([], 10, id="nobody-backed-the-winner"), pytest.param([5, 6], 10, id="volume")],
)
def test_impossible_splits_are_refused(winning: list[int], volume: int) -> None:
    with pytest.raises(ValueError, match=r"refund|volume"):
        parimutuel_payouts(winning, volume)
