// Runs every graphql-http server audit against the URL given as the first argument and
// prints one JSON array of {id, name, status: "ok" | "warn" | "error", reason}.
// "error" is a failed MUST, "warn" a failed SHOULD.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
