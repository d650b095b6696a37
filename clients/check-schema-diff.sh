#!/usr/bin/env bash
# Classifies the change to schema.graphql with graphql-inspector and fails on
# breaking changes that the commit does not declare.
#
#   bash clients/check-schema-diff.sh          (from any directory)
#   SCHEMA_DIFF_BASE=<commit> bash clients/check-schema-diff.sh
#
# Compares schema.graphql as it was at the base commit (HEAD~1 by default, or
# $SCHEMA_DIFF_BASE) with schema.graphql in the working tree, which in CI is
# the HEAD commit's. graphql-inspector sorts every change into one of:
#   breaking      existing clients can fail (a field, type, argument or enum
#                 value removed, a type changed, an argument made required...)
#   dangerous     existing clients keep working but may behave differently
#                 (an enum value or union member added, a default changed...)
#   non-breaking  safe (a field, type or optional argument added...)
# All are printed. Dangerous and non-breaking changes pass. Breaking changes
# fail, unless the HEAD commit's message has a line starting with
#
#   Breaking-Schema-Change: <what breaks, and why it is worth it>
#
# which declares that they are meant; then they are printed and pass.
#
# Passes, saying so, when there is nothing to compare with: no base commit
# (the repository's first commit) or no schema.graphql at the base. Fails when
# an explicitly given $SCHEMA_DIFF_BASE is not a commit, or when the clone is
# too shallow to hold HEAD~1 (CI uses a full clone, which always has it).
#
# Note: only base..working tree is compared, so with the default base a push
# of several commits is judged by its last commit alone; set SCHEMA_DIFF_BASE
# to the commit the push builds on to judge all of them.
#
# Needs clients/node_modules (npm ci in clients/; run.sh does it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
inspector="$here/node_modules/.bin/graphql-inspector"
marker='Breaking-Schema-Change:'

say() { printf 'schema diff: %s\n' "$*"; }
die() { printf 'schema diff: FAILED: %s\n' "$*" >&2; exit 1; }

if [ ! -x "$inspector" ]; then
    die "graphql-inspector is not installed; run 'npm ci' in $here (or bash $here/run.sh)"
fi

cd "$repo"

if [ -n "${SCHEMA_DIFF_BASE:-}" ]; then
    base="$SCHEMA_DIFF_BASE"
    base_sha="$(git rev-parse --verify --quiet "$base^{commit}")" ||
        die "SCHEMA_DIFF_BASE=$base is not a commit in $repo"
else
    base="HEAD~1"
    if ! base_sha="$(git rev-parse --verify --quiet "HEAD~1^{commit}")"; then
        if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
            die "HEAD~1 is missing because this clone is shallow; fetch more history (git fetch --deepen=1) or set SCHEMA_DIFF_BASE"
        fi
        say "no base commit (HEAD is the first commit): nothing to compare, passing"
        exit 0
    fi
fi

if ! git cat-file -e "$base_sha:schema.graphql" 2>/dev/null; then
    say "$base (${base_sha:0:12}) has no schema.graphql: nothing to compare, passing"
    exit 0
fi
if [ ! -f "$repo/schema.graphql" ]; then
    die "schema.graphql was deleted (it exists at $base, ${base_sha:0:12})"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git show "$base_sha:schema.graphql" >"$tmp/base.graphql"

# graphql-inspector's own completion handler exits 1 on breaking changes, and
# so does any error (a schema that does not parse...). This handler instead
# writes the classified changes to a file and lets the diff succeed, so that a
# non-zero exit below means "could not compare" and nothing else.
cat >"$tmp/on-complete.cjs" <<'JS'
const fs = require('fs');
const messages = (changes) => changes.map((change) => change.message);
module.exports = ({ breakingChanges, dangerousChanges, nonBreakingChanges }) => {
  fs.writeFileSync(process.env.SCHEMA_DIFF_RESULT, JSON.stringify({
    breaking: messages(breakingChanges),
    dangerous: messages(dangerousChanges),
    safe: messages(nonBreakingChanges),
  }));
};
JS

say "comparing schema.graphql at $base (${base_sha:0:12}) with the working tree"
if ! SCHEMA_DIFF_RESULT="$tmp/result.json" \
    "$inspector" diff "$tmp/base.graphql" "$repo/schema.graphql" --onComplete "$tmp/on-complete.cjs"; then
    die "graphql-inspector could not compare the schemas (see its error above)"
fi
if [ ! -f "$tmp/result.json" ]; then
    say "no changes to schema.graphql: passing"
    exit 0
fi

counts="$(node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(r.breaking.length, r.dangerous.length, r.safe.length);
' "$tmp/result.json")"
read -r n_breaking n_dangerous n_safe <<<"$counts"
say "$n_breaking breaking, $n_dangerous dangerous, $n_safe non-breaking"

if [ "$n_breaking" -eq 0 ]; then
    say "no breaking changes: passing"
    exit 0
fi

declaration="$(git log -1 --format=%B HEAD | grep -E "^$marker" || true)"
if [ -n "$declaration" ]; then
    say "breaking changes declared by the HEAD commit message, passing:"
    printf '  %s\n' "$declaration"
    exit 0
fi

{
    printf 'schema diff: FAILED: %s breaking change(s) to schema.graphql since %s (%s):\n' \
        "$n_breaking" "$base" "${base_sha:0:12}"
    node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
for (const message of r.breaking) console.log("  - " + message);
' "$tmp/result.json"
    printf '%s\n' \
        "Existing clients that use these may break. If that is intended, say so in the" \
        "HEAD commit message with a line like:" \
        "  $marker <what breaks, and why it is worth it>"
} >&2
exit 1
