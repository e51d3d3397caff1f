#!/usr/bin/env node
// Reference job peer: DuckDB (npm @duckdb/node-api), pure SQL.
// usage: node bench/peers/duckdb_job.mjs INPUT.csv OUTPUT.jsonl
// Semantics: bench/README.md ("The reference job").
import { DuckDBInstance } from '@duckdb/node-api';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: duckdb_job.mjs INPUT.csv OUTPUT.jsonl');
  process.exit(2);
}

// SQL string literal (single quotes doubled).
const lit = (s) => `'${String(s).replaceAll("'", "''")}'`;

// Trim set: space, \t, \n, \v, \f, \r (RE2 understands these escapes; SQL
// literals keep backslashes as-is).
const WS = '[ \\t\\n\\v\\f\\r]';
const trim = (col) => `regexp_replace(coalesce(${col}, ''), '^${WS}+|${WS}+$', '', 'g')`;

const COLS = ['id', 'first_name', 'last_name', 'email', 'phone', 'city', 'signup_date'];

const instance = await DuckDBInstance.create(':memory:', {
  threads: process.env.DUCKDB_THREADS || String(2),
  preserve_insertion_order: 'true',
});
const con = await instance.connect();

// 1. Load every column as VARCHAR; rowid of the table = input line order.
await con.run(`
  CREATE TEMP TABLE src AS
  SELECT * FROM read_csv(${lit(input)},
    header = true, delim = ',', quote = '"', escape = '"',
    auto_detect = false,
    columns = {${COLS.map((c) => `'${c}': 'VARCHAR'`).join(', ')}})`);

// 2. Trim / normalise, 3. validate, 4. keep first per email, 5. write JSONL.
const EMAIL_RE =
  '[\\x21-\\x3f\\x41-\\x7e]+@([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}';
await con.run(`
  CREATE TEMP TABLE job AS
  WITH t AS (
    SELECT rowid AS rn,
           ${COLS.map((c) => `${trim(c)} AS ${c}`).join(',\n           ')}
    FROM src
  ), n AS (
    SELECT rn, id, first_name, last_name,
           lower(email) AS email,
           -- only printable ASCII is ever valid, so lower() == ASCII lower-casing
           regexp_full_match(email, '[\\x21-\\x7e]+') AS email_ascii,
           CASE
             WHEN starts_with(phone, '+') THEN '+' || regexp_replace(phone, '[^0-9]', '', 'g')
             WHEN length(regexp_replace(phone, '[^0-9]', '', 'g')) = 11
                  AND left(regexp_replace(phone, '[^0-9]', '', 'g'), 1) IN ('7', '8')
               THEN '+7' || right(regexp_replace(phone, '[^0-9]', '', 'g'), 10)
             WHEN length(regexp_replace(phone, '[^0-9]', '', 'g')) = 10
                  AND left(regexp_replace(phone, '[^0-9]', '', 'g'), 1) = '9'
               THEN '+7' || regexp_replace(phone, '[^0-9]', '', 'g')
             ELSE NULL
           END AS phone_cand,
           city, signup_date
    FROM t
  )
  SELECT rn, id, first_name, last_name, email,
         CASE WHEN regexp_full_match(phone_cand, '\\+[1-9][0-9]{9,14}') THEN phone_cand END AS phone,
         city, signup_date
  FROM n
  WHERE email_ascii AND regexp_full_match(email, '${EMAIL_RE}')
  QUALIFY row_number() OVER (PARTITION BY email ORDER BY rn) = 1`);

await con.run(`
  COPY (SELECT ${COLS.join(', ')} FROM job ORDER BY rn)
  TO ${lit(output)} (FORMAT JSON)`);

con.closeSync?.();
instance.closeSync?.();
