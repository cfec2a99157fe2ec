// Node's PGlite doing shadcache's L2 point reads in-process: the stack shadcache replaces.
// Same table shape, same row count and value size as `shadcache-load bench`, on-disk like L2.
// Prints a `| label | ... |` row for bench/run.sh. Usage:
//   node pglite_reads.mjs [rows=1000] [reads=5000] [valueSize=2300]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

const [rows, reads, size] = [1000, 5000, 2300].map((d, i) => Number(process.argv[2 + i] ?? d));
const dir = mkdtempSync(join(tmpdir(), "pglite-bench-"));
const db = await PGlite.create(join(dir, "data"));
await db.exec(`CREATE TABLE entries (
  key TEXT PRIMARY KEY, value BYTEA NOT NULL, created_at BIGINT NOT NULL,
  expires_at BIGINT, last_access BIGINT NOT NULL, access_count BIGINT NOT NULL DEFAULT 0)`);
const value = new Uint8Array(size).fill(120);
const now = Date.now();
await db.transaction(async (tx) => {
  for (let i = 0; i < rows; i++) {
    await tx.query(
      "INSERT INTO entries (key, value, created_at, expires_at, last_access) VALUES ($1, $2, $3, $4, $3)",
      [`bench:key-${i}`, value, now, now + 86_400_000],
    );
  }
});
const select = "SELECT value, created_at, expires_at, last_access, access_count FROM entries WHERE key = $1";
let state = 0x9e3779b97f4a7c15n;
const next = () => {
  state ^= (state << 13n) & 0xffffffffffffffffn;
  state ^= state >> 7n;
  state ^= (state << 17n) & 0xffffffffffffffffn;
  return Number(state % BigInt(rows));
};
for (let i = 0; i < rows; i++) await db.query(select, [`bench:key-${i}`]);
const samples = [];
const started = process.hrtime.bigint();
for (let i = 0; i < reads; i++) {
  const t = process.hrtime.bigint();
  const result = await db.query(select, [`bench:key-${next()}`]);
  samples.push(Number(process.hrtime.bigint() - t) / 1e3);
  if (result.rows.length !== 1) throw new Error("a row is missing");
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
samples.sort((a, b) => a - b);
const pct = (p) => samples[Math.min(samples.length - 1, Math.ceil(samples.length * p) - 1)];
const rssMiB = process.resourceUsage().maxRSS / 1024;
console.log(`node pglite: ${reads} point reads of ${rows} rows of ${size} bytes, in-process`);
console.log(
  `| node-pglite point read | 1 | ${(reads / seconds).toFixed(0)} | ${pct(0.5).toFixed(0)} | ${pct(0.95).toFixed(0)} | ${pct(0.99).toFixed(0)} | ${pct(0.999).toFixed(0)} | - | ${rssMiB.toFixed(1)} |`,
);
await db.close();
rmSync(dir, { recursive: true, force: true });
