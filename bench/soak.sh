#!/usr/bin/env bash
# Soak test: reads under write and login pressure, over a long run.
#
#   bench/soak.sh [FEATURES] [MINUTES]      defaults: 1000000 features, 10 minutes
#
# While wrk reads bbox GeoJSON and tiles over the whole run (in one-minute
# slices, so latency is seen over time), one loop uploads, publishes and
# rolls back a layer as OPD staff, and another hammers the login with wrong
# passwords. Reported: read errors (must be 0), p99 per minute, resident
# memory every 10 s (no growth after warm-up), the writes and logins done,
# and whether every published version was served right after its publish.
#
# Needs ../shared (gen_badung.py, urls.py, paths.lua), wrk, curl, python3.
# Writes under bench/out/soak-*; prints a Markdown summary.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FEATURES=${1:-1000000}
MINUTES=${2:-10}
SHARED=${SHARED:-../shared}
OUT=bench/out
DATA=$OUT/data-$FEATURES
DB=$OUT/soak-$FEATURES.db
PORT=${PORT:-18191}
BASE=http://127.0.0.1:$PORT
LAYERS=${LAYERS:-pura,jalan,subak}
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet -p server --bin bsc
BSC=target/release/bsc

if [ ! -f "$DATA/manifest.json" ]; then
  echo "generating $FEATURES features into $DATA" >&2
  python3 "$SHARED/tools/gen_badung.py" "$DATA" --features "$FEATURES" --seed 1 >&2
fi
if [ ! -f "$DB" ]; then
  import_data "$BSC" "$DATA" "sqlite://$DB"
fi
# The writer: staff of an agency of their own, and its API token.
"$BSC" user add soak_staff --role opd_staff --agency "Dinas Uji Soak" --create-agency \
  --database "sqlite://$DB" <<<"Soak-uji-kata-sandi-2026" >/dev/null 2>&1 || true
TOKEN=$("$BSC" token create soak_staff --name "soak $(date +%s)" --database "sqlite://$DB")

"$BSC" serve --database "sqlite://$DB" --bind "127.0.0.1:$PORT" --log warn > "$OUT/soak-serve.log" 2>&1 &
PID=$!
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; kill $PID 2>/dev/null || true; }
trap cleanup EXIT
until curl -fs "$BASE/readyz" >/dev/null 2>&1; do
  kill -0 $PID 2>/dev/null || { cat "$OUT/soak-serve.log" >&2; exit 1; }
  sleep 0.1
done

READS=$OUT/soak-reads.txt
{
  python3 "$SHARED/bench/urls.py" bbox 2000 0.01 "/api/layers/{layer}/features?bbox={bbox}&limit=10000" --layers "$LAYERS"
  python3 "$SHARED/bench/urls.py" tiles 10 16 "/tiles/{layer}/{z}/{x}/{y}.mvt" --layers "$LAYERS"
} | shuf --random-source=<(yes) > "$READS"

END=$(( $(date +%s) + MINUTES * 60 ))
WRITES=$OUT/soak-writes.log
LOGINS=$OUT/soak-logins.log
RSS=$OUT/soak-rss.tsv
: > "$WRITES"; : > "$LOGINS"; : > "$RSS"

# Writer: a new version of a 500-point layer, publish, check it is served,
# and every third round roll back to version 1 and check that too.
(
  n=0
  while [ "$(date +%s)" -lt "$END" ]; do
    n=$((n + 1))
    python3 - "$n" > "$OUT/soak-upload.geojson" <<'PY'
import json, sys, random
n = int(sys.argv[1]); r = random.Random(n)
fs = [{"type": "Feature", "id": i + 1, "properties": {"nama": f"Titik {n}-{i + 1}", "putaran": n},
       "geometry": {"type": "Point", "coordinates": [115.1 + r.random() * 0.15, -8.8 + r.random() * 0.5]}}
      for i in range(500)]
print(json.dumps({"type": "FeatureCollection", "features": fs}))
PY
    if [ $n -eq 1 ]; then
      path="/api/layers?id=soak-uji&category=general&filename=soak.geojson"
    else
      path="/api/layers/soak-uji/versions?filename=soak.geojson"
    fi
    up=$(curl -s -H "Authorization: Bearer $TOKEN" --data-binary "@$OUT/soak-upload.geojson" "$BASE$path")
    v=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("version",""))' "$up" 2>/dev/null || true)
    if [ -z "$v" ]; then echo "upload-failed $n $up" >> "$WRITES"; sleep 1; continue; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/layers/soak-uji/publish?version=$v")
    served=$(curl -s "$BASE/api/layers/soak-uji" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("version",""))' 2>/dev/null || true)
    echo "publish $v $code served=$served" >> "$WRITES"
    if [ $((n % 3)) -eq 0 ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/layers/soak-uji/rollback?to=1")
      served=$(curl -s "$BASE/api/layers/soak-uji" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("version",""))' 2>/dev/null || true)
      echo "rollback 1 $code served=$served" >> "$WRITES"
    fi
  done
) &
pids+=($!)

# Attacker: wrong passwords for real and made-up names, from one address.
(
  i=0
  while [ "$(date +%s)" -lt "$END" ]; do
    i=$((i + 1))
    name=$([ $((i % 2)) -eq 0 ] && echo soak_staff || echo "tebakan$i")
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "Origin: $BASE" \
      --data "{\"name\":\"$name\",\"password\":\"salah-$i\"}" "$BASE/api/session")
    echo "$code" >> "$LOGINS"
  done
) &
pids+=($!)

# Memory every 10 s.
(
  t0=$(date +%s)
  while [ "$(date +%s)" -lt "$END" ] && kill -0 $PID 2>/dev/null; do
    echo -e "$(( $(date +%s) - t0 ))\t$(awk '/VmRSS/ {print $2}' /proc/$PID/status)" >> "$RSS"
    sleep 10
  done
) &
pids+=($!)

SLICES=$OUT/soak-slices.txt
: > "$SLICES"
for m in $(seq 1 "$MINUTES"); do
  res=$(PATHS="$READS" wrk -t2 -c16 -d60s --timeout 10s -s "$SHARED/bench/paths.lua" "$BASE" | grep RESULT)
  echo "$m $res" >> "$SLICES"
done
wait "${pids[@]}" 2>/dev/null || true

python3 - "$SLICES" "$RSS" "$WRITES" "$LOGINS" "$FEATURES" "$MINUTES" <<'PY'
import re, sys, collections
slices, rss, writes, logins, features, minutes = sys.argv[1:]
print(f"bsc soak: {features} features requested, {minutes} min, wrk -t2 -c16 over bbox 0.01 deg + tiles z10-16, "
      "one writer (upload 500 points, publish, every third round roll back), one login attacker\n")
print("| minute | req/s | p50 ms | p99 ms | read errors |")
print("|---|---|---|---|---|")
errors = 0
for line in open(slices):
    m = line.split()[0]
    kv = dict(re.findall(r"(\w+)=([0-9.]+)", line))
    errors += int(kv["non2xx_or_err"])
    print(f"| {m} | {kv['req_per_s']} | {kv['p50_ms']} | {kv['p99_ms']} | {kv['non2xx_or_err']} |")
samples = [tuple(map(int, l.split())) for l in open(rss) if l.strip()]
if samples:
    warm = [kb for t, kb in samples if t >= 60] or [kb for _, kb in samples]
    print(f"\nresident memory: start {samples[0][1] // 1024} MiB, after warm-up (1 min) {warm[0] // 1024} MiB, "
          f"max {max(warm) // 1024} MiB, end {samples[-1][1] // 1024} MiB ({len(samples)} samples every 10 s)")
w = [l.split() for l in open(writes)]
pubs = [x for x in w if x[0] == "publish"]
rbs = [x for x in w if x[0] == "rollback"]
bad = [x for x in pubs + rbs if x[2] != "200" or x[3] != f"served={x[1]}"]
fails = [x for x in w if x[0] == "upload-failed"]
print(f"writes: {len(pubs)} publishes, {len(rbs)} rollbacks, {len(fails)} failed uploads; "
      f"{len(pubs) + len(rbs) - len(bad)} of {len(pubs) + len(rbs)} served the version just made current")
codes = collections.Counter(l.strip() for l in open(logins))
print(f"logins with wrong passwords: {sum(codes.values())}, answers {dict(codes)}")
print(f"read errors in all: {errors}")
sys.exit(1 if errors or bad or fails else 0)
PY
