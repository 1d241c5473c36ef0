// ajv + ajv-formats validating the same events with the same schemas as `contracts validate`:
// one compiled validator per (event_type, MAJOR), the envelope for unknown types, formats on,
// the persistence-metadata walk too (the Rust path does it). Measures JSON.parse + validate per
// event on one thread: median of 7 passes after a warm-up pass (the JIT needs one).
// Usage: node ajv.mjs SPECS_DIR CORPUS.jsonl   (run by run.sh, which installs ajv)
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.env.PEERS_DIR, "package.json"));
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const [specs, corpusFile] = process.argv.slice(2);
const BASE = "file:///specs/";
const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
addFormats(ajv);

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith(".schema.json")) out.push(p);
  }
  return out;
}
const files = walk(path.join(specs, "events"), []).sort();
for (const f of files) {
  const rel = path.relative(specs, f).split(path.sep).join("/");
  const schema = JSON.parse(fs.readFileSync(f, "utf8"));
  schema.$id = BASE + rel;
  ajv.addSchema(schema);
}
const envelope = ajv.getSchema(BASE + "events/oneprotect.event.schema.json");
const byKey = new Map();
for (const f of files) {
  const name = path.basename(f);
  const m = /^(.*)\.v(\d+)\.schema\.json$/.exec(name);
  if (m && f.includes(`${path.sep}types${path.sep}`)) {
    const rel = path.relative(specs, f).split(path.sep).join("/");
    byKey.set(`${m[1]}@${m[2]}`, ajv.getSchema(BASE + rel));
  }
}
const PERSISTENCE = new Set(["received_at", "stored_at", "ingested_at", "persisted_at", "indexed_at",
  "inserted_at", "loaded_at", "_id", "_rev", "_ts", "_etag", "row_version", "partition", "offset",
  "kafka_offset", "sequence_number", "redelivery_count", "delivery_tag", "ack_id", "lease_id",
  "dead_lettered_at", "ttl"]);
function persistence(v) {
  if (Array.isArray(v)) return v.some(persistence);
  if (v !== null && typeof v === "object") {
    for (const k in v) if (PERSISTENCE.has(k) || persistence(v[k])) return true;
  }
  return false;
}
function judge(line) {
  let ev;
  try { ev = JSON.parse(line); } catch { return false; }
  const major = typeof ev.schema_version === "string" ? ev.schema_version.split(".")[0] : "";
  const validate = byKey.get(`${ev.event_type}@${major}`) ?? envelope;
  const ok = validate(ev);
  return ok && !persistence(ev) && !(ev.causation_id !== undefined && ev.causation_id === ev.event_id);
}

const lines = fs.readFileSync(corpusFile, "utf8").split("\n").filter((l) => l.length > 0);
function pass() {
  const t0 = process.hrtime.bigint();
  let valid = 0;
  for (const l of lines) if (judge(l)) valid++;
  return [Number(process.hrtime.bigint() - t0), valid];
}
pass();
const runs = Array.from({ length: 7 }, pass).sort((a, b) => a[0] - b[0]);
const [median, valid] = runs[3];
console.log(JSON.stringify({ impl: "ajv", events: lines.length, valid, ns_per_event: Math.round(median / lines.length) }));
