// duckdb_sql.mjs SQL... — run each statement on an in-memory DuckDB (or the
// database file $DUCKDB_DATABASE) and print the last one's rows as CSV (see
// tests/harness/duckdb.sh).
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH || '.', 'x.js'));
const { DuckDBInstance } = require('@duckdb/node-api');

function cell(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

const stmts = process.argv.slice(2);
if (!stmts.length) {
  process.stderr.write('usage: duckdb_sql.mjs SQL...\n');
  process.exit(2);
}
try {
  const db = await DuckDBInstance.create(process.env.DUCKDB_DATABASE || ':memory:');
  const con = await db.connect();
  let reader = null;
  for (const s of stmts) reader = await con.runAndReadAll(s);
  const out = [];
  for (const row of reader.getRows()) out.push(row.map(cell).join(','));
  process.stdout.write(out.length ? out.join('\n') + '\n' : '');
} catch (e) {
  process.stderr.write('duckdb: ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(1);
}
