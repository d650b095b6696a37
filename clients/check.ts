// Client code written against the generated types, the way a frontend would
// use them. It is never run: `tsc --strict` (run.sh) only type-checks it, so
// a schema or example change that would break such a client fails CI here.
import type {
  MarketDetailQuery,
  MarketsFeedQuery,
  MarketsFeedQueryVariables,
  NodeLookupQuery,
  SearchMarketsQueryVariables,
  UserProfileQuery,
} from './generated/operations';
import type { MarketStatus } from './generated/schema';

type FeedMarket = MarketsFeedQuery['markets']['edges'][number]['node'];

/** The questions of the home-page feed, in feed order. */
export function feedQuestions(data: MarketsFeedQuery): string[] {
  return data.markets.edges.map((edge) => edge.node.question);
}

/** Variables for the next feed page, or null on the last page. */
export function nextFeedPage(data: MarketsFeedQuery, first = 20): MarketsFeedQueryVariables | null {
  const { hasNextPage, endCursor } = data.markets.pageInfo;
  return hasNextPage && endCursor !== null ? { first, after: endCursor } : null;
}

/** The favourite outcome of a market: the one with the highest probability. */
export function favourite(market: FeedMarket): { label: string; percent: number } | null {
  let best = market.outcomes[0]; // possibly undefined: noUncheckedIndexedAccess
  for (const outcome of market.outcomes) {
    if (best === undefined || outcome.probability > best.probability) best = outcome;
  }
  return best === undefined ? null : { label: best.label, percent: Math.round(best.probability * 100) };
}

/** A status badge. New server values fall to the default branch. */
export function statusLabel(status: MarketStatus): string {
  switch (status) {
    case 'OPEN':
      return 'Open';
    case 'CLOSED':
      return 'Closed';
    case 'RESOLVED':
      return 'Resolved';
    case 'CANCELLED':
      return 'Cancelled';
    default:
      return 'Unknown';
  }
}

/** Total credits paid out on a market's positions; unsettled ones count 0. */
export function paidOut(data: MarketDetailQuery): number {
  if (data.market === null) return 0; // unknown ID
  let total = 0;
  for (const outcome of data.market.outcomes) {
    for (const { node } of outcome.positions.edges) total += node.payout ?? 0;
  }
  return total;
}

/** A one-line summary per refetched node, narrowing on __typename. */
export function nodeSummaries(data: NodeLookupQuery): string[] {
  return data.nodes.map((node) => {
    if (node === null) return '(gone)';
    switch (node.__typename) {
      case 'Market':
        return `${node.question} [${statusLabel(node.status)}]`;
      case 'User':
        return `@${node.username}`;
      case 'Outcome':
        return `${node.label} ${node.probability}`;
      case 'Position':
        return `${node.amount} credits`;
      case 'Comment':
        return node.body;
      default:
        return `${node.__typename} ${node.id}`;
    }
  });
}

/** A profile headline; null when the user does not exist. */
export function profileHeadline(data: UserProfileQuery): string | null {
  const user = data.user;
  if (user === null) return null;
  return `${user.displayName} (@${user.username}) since ${new Date(user.createdAt).getFullYear()}: ${user.profit} credits profit`;
}

// Responses and variables that must (not) type-check.
export const emptyFeed = {
  markets: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] },
} satisfies MarketsFeedQuery;

export const search: SearchMarketsQueryVariables = { search: 'election', closesAfter: '2030-01-01T00:00:00Z' };

// @ts-expect-error `search` is a required variable
export const searchWithoutText: SearchMarketsQueryVariables = {};

export function mutateFeed(data: MarketsFeedQuery): void {
  // @ts-expect-error results are readonly (immutableTypes)
  data.markets.totalCount = 0;
}

export function unguardedProfile(data: UserProfileQuery): string {
  // @ts-expect-error `user` is null for an unknown username
  return data.user.username;
}
