// Runs graphql-http's server audit against TIMEBANK_URL with TIMEBANK_TOKEN as bearer.
// Prints one line per audit; exits 1 on any error or warning.
import { auditServer } from 'graphql-http';

const url = process.env.TIMEBANK_URL;
const token = process.env.TIMEBANK_TOKEN;
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
let errors = 0;
let warnings = 0;
for (const r of results) {
  if (r.status === 'error') errors++;
  if (r.status === 'warn') warnings++;
  const reason = r.status === 'ok' ? '' : ` — ${r.reason}`;
  console.log(`${r.status.toUpperCase().padEnd(5)} ${r.id} ${r.name}${reason}`);
}
console.log(`audits: ${results.length}, errors: ${errors}, warnings: ${warnings}`);
process.exit(errors + warnings === 0 ? 0 : 1);
