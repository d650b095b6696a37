"""The benchmark's scenarios: GraphQL documents, their variables, and the floor's endpoints.

Scenarios (a)-(c) have a floor: `floor.py` answers POST /<key> with the variables as its body,
and must return exactly the bytes the GraphQL server returns for the same variables.
"""

from __future__ import annotations

from dataclasses import dataclass

SEARCH_WORDS = (
    "bridge",
    "marathon",
    "library",
    "festival",
    "tram",
    "harbour",
    "solar",
    "football",
    "chess",
    "ferry",
    "night",
    "bike",
)

NESTED_MARKETS = """
query NestedMarkets {
  markets(first: 100) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id
        question
        status
        closesAt
        volume
        creator { id username displayName }
        outcomes {
          id
          label
          pool
          probability
          positions(first: 10) {
            totalCount
            edges { node { id amount createdAt user { id username } } }
          }
        }
      }
    }
  }
}
"""

MARKET_BY_ID = """
query MarketById($id: ID!) {
  market(id: $id) {
    id
    question
    description
    status
    closesAt
    createdAt
    resolvedAt
    volume
    outcomes { id label pool probability }
  }
}
"""

FILTERED_MARKETS = """
query FilteredMarkets($search: String!) {
  markets(
    first: 20
    filter: { status: [OPEN], search: $search }
    orderBy: { field: CLOSES_AT, direction: ASC }
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id
        question
        status
        closesAt
        volume
        outcomes { label probability }
      }
    }
  }
}
"""

PLACE_STAKE = """
mutation PlaceStake($input: PlaceStakeInput!) {
  placeStake(input: $input) {
    position { id amount createdAt }
    market { id volume outcomes { id pool probability } }
    errors { code message }
  }
}
"""

NODES = """
query NodeLookup($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    id
    ... on Market { question status }
    ... on User { username }
    ... on Outcome { label probability }
    ... on Position { amount }
    ... on Comment { body }
  }
}
"""

# Queries that gather the ids the scenarios' variables are made from (not timed).
OPEN_OUTCOMES = """
query OpenOutcomes($after: String) {
  markets(first: 100, after: $after, filter: { status: [OPEN] }) {
    pageInfo { hasNextPage endCursor }
    edges { node { outcomes { id } } }
  }
}
"""

SAMPLE_IDS = """
query SampleIds($after: String) {
  markets(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        creator { id }
        outcomes { id positions(first: 2) { edges { node { id } } } }
        comments(first: 2) { edges { node { id } } }
      }
    }
  }
}
"""

LOGIN = """
mutation Login($login: String!, $password: String!) {
  login(input: { login: $login, password: $password }) {
    accessToken
    user { id }
    errors { code message }
  }
}
"""

GRANT = """
mutation Grant($user: ID!, $amount: Int!) {
  grantCredits(input: { user: $user, amount: $amount }) { errors { code message } }
}
"""

VIEWER = "query Viewer { viewer { id balance } }"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One timed workload."""

    key: str
    title: str
    document: str
    has_floor: bool


SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario(
            "a",
            "markets(first:100) > creator, outcomes > positions(first:10) > user",
            NESTED_MARKETS,
            True,
        ),
        Scenario("b", "market(id) with its outcomes", MARKET_BY_ID, True),
        Scenario("c", "markets(first:20, filter: OPEN + search)", FILTERED_MARKETS, True),
        Scenario("d", "placeStake(1 credit), many users", PLACE_STAKE, False),
        Scenario("e", "nodes(ids: 100 mixed ids)", NODES, False),
    )
}
