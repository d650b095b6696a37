#!/usr/bin/env bash
# The schema-consumer check, the single entry point CI calls (from any cwd):
#   1. npm ci             install the pinned tools (package-lock.json)
#   2. graphql-codegen    TypeScript types for ../examples/*.graphql against
#                         ../schema.graphql (fails on an invalid operation)
#   3. tsc --strict       type-check the generated types and check.ts
#   4. check-schema-diff.sh   graphql-inspector diff against HEAD~1's schema
# Exits non-zero at the first failing step, naming it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

step=""
start=$SECONDS
trap 'rc=$?; if [ "$rc" -ne 0 ]; then echo "clients: FAILED at: $step (exit $rc)" >&2; fi' EXIT

begin() {
    step="$1"
    echo "==> clients: $step"
}

begin "npm ci (pinned tools)"
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
    echo "clients: needs Node 20 or later (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi
# --loglevel=error keeps the log to real problems. Tools are called from
# node_modules/.bin below, never through npx, so nothing is ever fetched
# outside the lock file.
npm ci --no-audit --no-fund --loglevel=error >/dev/null

begin "graphql-codegen (examples/*.graphql against schema.graphql)"
rm -rf generated
# Its progress log is long; show it only when generation fails.
log="$(mktemp)"
if ! ./node_modules/.bin/graphql-codegen --config codegen.ts >"$log" 2>&1; then
    grep -v -E '^(❯|✔) ' "$log" >&2 || cat "$log" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
echo "generated/schema.ts, generated/operations.ts: $(grep -c -E '^export type \w+(Query|Mutation|Subscription) = ' generated/operations.ts) operation(s)"

begin "tsc --strict (generated types + check.ts)"
./node_modules/.bin/tsc -p tsconfig.json

begin "graphql-inspector diff (schema.graphql against the previous commit)"
bash ./check-schema-diff.sh

step=""
echo "clients: all checks passed in $((SECONDS - start)) s"
