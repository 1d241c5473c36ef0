#!/usr/bin/env bash
# ajv (Node.js) side by side with the Rust hot path on the same corpus, same schemas, one thread.
# Installs ajv + ajv-formats from npm into target/peers (ignored), never into the repository.
# Usage: bash benches/peers/run.sh   (or `make bench-peers`); needs node >= 18 and npm.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
peers="$root/target/peers"
mkdir -p "$peers"
if [ ! -d "$peers/node_modules/ajv-formats" ]; then
  (cd "$peers" && { [ -f package.json ] || echo '{"private": true}' > package.json; } \
    && npm install --no-audit --no-fund --silent ajv@8 ajv-formats@3)
fi
# The Rust side three times: fast path with the system allocator (what the `contracts` binary
# and most producers linking the library have), with mimalloc (for comparison), and the reference
# path.
cargo build --release --quiet -p contracts-bench --bin corpus
cp "$root/target/release/corpus" "$peers/corpus-glibc"
cargo build --release --quiet -p contracts-bench --bin corpus --features mimalloc
cp "$root/target/release/corpus" "$peers/corpus-mimalloc"
for kind in valid mix; do
  file="$peers/corpus.$kind.jsonl"
  "$peers/corpus-glibc" dump "$kind" "$file"
  ajv=$(PEERS_DIR="$peers" node "$root/benches/peers/ajv.mjs" "$root/specs" "$file")
  echo "$kind ajv:            $ajv"
  # The fast path is on by default; "reference" forces serde_json + jsonschema.
  for run in glibc mimalloc reference; do
    if [ "$run" = reference ]; then
      rust=$(CONTRACTS_FAST_PATH=0 "$peers/corpus-glibc" time "$file")
    else
      rust=$("$peers/corpus-$run" time "$file")
    fi
    echo "$kind rust ($run): $rust"
    node -e '
      const [r, a] = process.argv.slice(1, 3).map(JSON.parse);
      if (r.valid !== a.valid) console.log(`  note: verdicts differ (rust ${r.valid} valid, ajv ${a.valid} valid)`);
      console.log(`  ${process.argv[3]}: ajv / rust = ${(a.ns_per_event / r.ns_per_event).toFixed(2)}x`);
    ' "$rust" "$ajv" "$kind, $run"
  done
done
