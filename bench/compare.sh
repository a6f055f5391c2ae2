#!/usr/bin/env bash
# Side-by-side benchmark: bsc against PostGIS-backed peers on the same data
# and the same requests. Run by hand, not in CI.
#
#   bench/compare.sh [FEATURES ...]          default: 20000 1000000
#
#   peers    tipg (OGC API Features items) and Martin (vector tiles), both
#            over PostGIS tables loaded with ogr2ogr
#   bsc      on SQLite (bsc import), and on PostgreSQL when this bsc has
#            that backend (rows are skipped otherwise)
#   measures ingest time, database size, start-up until ready, resident
#            memory, bbox GeoJSON (0.01 and 0.05 degree boxes) and vector
#            tiles z10-16 (uncached, and warm cache) with wrk -t2 -c32
#
# Environment: DURATION (15s per wrk run), LAYERS (pura,jalan,subak),
# WRK_TIMEOUT (10s), TIPG_WORKERS (number of cores), PG_HOST/PG_PORT
# (127.0.0.1/5432), PG_CLUSTER ("15 main"), BASE_PORT (18280),
# READY_TIMEOUT (1800 s), SHARED (../shared).
#
# Installs what is missing: wrk, gdal-bin and postgresql-15-postgis-3 (apt),
# tipg in bench/out/venv-tipg (pip), martin in bench/out/martin (cargo
# install of its PostGIS source only; slow). Every server runs alone, one
# after the other, on 127.0.0.1. BSC names another bsc binary (default
# target/release/bsc, built here). Results: bench/out/compare-N.md, logs and
# request lists in bench/out/compare-N/.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
LAYERS=${LAYERS:-pura,jalan,subak}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
SHARED=${SHARED:-../shared}
OUT=bench/out
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_CLUSTER=${PG_CLUSTER:-15 main}
PG_USER=bsc PG_PASS=bsc
BASE_PORT=${BASE_PORT:-18280}
READY_TIMEOUT=${READY_TIMEOUT:-1800}
TIPG_WORKERS=${TIPG_WORKERS:-$(nproc)}
TIPG_VERSION=1.6.1
UVICORN_VERSION=0.54.0
MARTIN_VERSION=1.14.0 # the newest that builds with Rust 1.95
VENV=$OUT/venv-tipg
MARTIN=$OUT/martin/bin/martin
BSC=${BSC:-target/release/bsc} # another build of bsc, e.g. one with the PostgreSQL backend
mkdir -p "$OUT"

say() { echo "compare: $*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
as_postgres() { # command... run as the postgres OS user (peer authentication)
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"; fi
}
pg_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"; }
pg_user() { PGPASSWORD=$PG_PASS psql -X -q -At -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@"; }

# --- tools -------------------------------------------------------------------
APT_UPDATED=
apt_install() {
  say "installing $* (apt)"
  [ -n "$APT_UPDATED" ] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}
command -v curl >/dev/null || apt_install curl
command -v wrk >/dev/null || apt_install wrk
command -v ogr2ogr >/dev/null || apt_install gdal-bin
read -r PG_VER PG_NAME <<<"$PG_CLUSTER"
[ -f "/usr/share/postgresql/$PG_VER/extension/postgis.control" ] || apt_install "postgresql-$PG_VER-postgis-3"
command -v python3 >/dev/null || die "python3 is missing"

if ! "$VENV/bin/python" -c "import tipg, sys; sys.exit(tipg.__version__ != '$TIPG_VERSION')" 2>/dev/null; then
  say "installing tipg $TIPG_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "tipg==$TIPG_VERSION" "uvicorn[standard]==$UVICORN_VERSION" >&2
fi
if ! { [ -x "$MARTIN" ] && "$MARTIN" --version | grep -qF " $MARTIN_VERSION"; }; then
  say "building martin $MARTIN_VERSION into $OUT/martin (cargo install; this takes a while)"
  # Only the PostGIS source: the default features add map rendering, whose
  # build script clones maplibre-native from GitHub.
  nice -n 19 cargo install martin --locked --version "$MARTIN_VERSION" --no-default-features --features postgres \
    --root "$OUT/martin" >&2
fi
say "building bsc (cargo build --release -p server)"
nice -n 19 cargo build --release -p server --quiet
TIPG_SEEN=$("$VENV/bin/python" -c 'import tipg; print(tipg.__version__)')
MARTIN_SEEN=$("$MARTIN" --version | awk '{print $NF}')

# --- PostgreSQL ----------------------------------------------------------------
if ! pg_lsclusters -h | awk -v v="$PG_VER" -v n="$PG_NAME" '$1 == v && $2 == n && $4 == "online" { ok = 1 } END { exit !ok }'; then
  if pg_lsclusters -h | awk -v v="$PG_VER" -v n="$PG_NAME" '$1 == v && $2 == n { ok = 1 } END { exit !ok }'; then
    say "starting PostgreSQL cluster $PG_CLUSTER"
    $SUDO pg_ctlcluster "$PG_VER" "$PG_NAME" start
  else
    say "creating PostgreSQL cluster $PG_CLUSTER"
    $SUDO pg_createcluster "$PG_VER" "$PG_NAME" --port "$PG_PORT" --start
  fi
fi
pg_admin -d postgres -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASS';
  END IF; END \$\$"
fresh_db() { # name [extension]: drop and create, owned by the benchmark role
  pg_admin -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
    -c "CREATE DATABASE $1 OWNER $PG_USER"
  [ -z "${2:-}" ] || pg_admin -d "$1" -c "CREATE EXTENSION IF NOT EXISTS $2"
}
pg_user -d postgres -c 'SELECT 1' >/dev/null || die "cannot log in to PostgreSQL as $PG_USER at $PG_HOST:$PG_PORT"
PG_SEEN=$(pg_user -d postgres -c 'SHOW server_version' | awk '{print $1}')
PG_SHARED_BUFFERS=$(pg_user -d postgres -c 'SHOW shared_buffers')

# --- servers -----------------------------------------------------------------
PID=
stop_server() {
  [ -n "$PID" ] || return 0
  kill "$PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then # still there after 10 s: it and its workers
    # shellcheck disable=SC2046
    kill -9 $(pgrep -P "$PID") "$PID" 2>/dev/null || true
  fi
  wait "$PID" 2>/dev/null || true
  PID=
}
trap stop_server EXIT
trap 'exit 130' INT TERM
start_server() { # port ready-path log command...: starts it, waits until ready, sets PID and LOAD_S
  local port=$1 ready=$2 log=$3; shift 3
  ! curl -s -o /dev/null "http://127.0.0.1:$port/" || die "port $port is already in use"
  local t0; t0=$(now)
  "$@" </dev/null >"$log" 2>&1 &
  PID=$!
  until curl -fs --max-time 5 -o /dev/null "http://127.0.0.1:$port$ready"; do
    if ! kill -0 "$PID" 2>/dev/null; then tail -20 "$log" >&2; PID=; die "$1 exited before it was ready (log: $log)"; fi
    [ "$(since "$t0" | cut -d. -f1)" -lt "$READY_TIMEOUT" ] || { tail -20 "$log" >&2; die "$1 not ready after $READY_TIMEOUT s"; }
    sleep 0.1
  done
  LOAD_S=$(since "$t0")
}
rss_mib() { # resident memory of PID and its descendants (uvicorn workers), MiB
  local pids=$PID frontier=$PID kids total=0 p kb
  while [ -n "$frontier" ]; do
    kids=$(for p in $frontier; do pgrep -P "$p" || true; done)
    pids="$pids $kids"; frontier=$kids
  done
  for p in $pids; do
    kb=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  awk -v k="$total" 'BEGIN { printf "%.0f", k / 1024 }'
}

# --- results: one TSV row per measure, rendered at the end ---------------------
# group, server, bsc|peer, value, unit, p50, p99, errors
add() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }
measure() { # group server bsc|peer port paths-file
  local res
  res=$(PATHS="$5" wrk -t2 -c32 -d"$DURATION" --timeout "$WRK_TIMEOUT" -s "$SHARED/bench/paths.lua" \
    "http://127.0.0.1:$4" 2>&1 | grep RESULT || true)
  if [ -z "$res" ]; then add "$1" "$2" "$3" "wrk failed" "" "" "" ""; return; fi
  f() { sed -E "s/.*$1=([0-9.]+).*/\\1/" <<<"$res"; }
  add "$1" "$2" "$3" "$(f req_per_s)" "req/s" "$(f p50_ms)" "$(f p99_ms)" "$(f non2xx_or_err)"
  say "$1, $2: $(f req_per_s) req/s, p99 $(f p99_ms) ms, errors $(f non2xx_or_err)"
}
warm() { # port paths-file: request every path once
  sort -u "$2" | xargs -P4 -I{} curl -s -o /dev/null "http://127.0.0.1:$1{}"
}
probe() { # bbox|tiles port paths-file out: a sample of responses, one line each
  python3 - "$@" <<'PY'
import gzip, json, sys, urllib.request, urllib.error
kind, port, paths, out = sys.argv[1:]
lines = open(paths).read().split()
sample = lines[:40] if kind == "bbox" else lines[:: max(1, len(lines) // 90)][:90]

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7F) << s; s += 7
        if c < 0x80: return v, i

def fields(b):  # (field number, wire type, value or bytes) of a protobuf message
    i = 0
    while i < len(b):
        k, i = varint(b, i)
        n, w = k >> 3, k & 7
        if w == 0: v, i = varint(b, i)
        elif w == 2:
            ln, i = varint(b, i); v = b[i:i + ln]; i += ln
        elif w == 1: v = b[i:i + 8]; i += 8
        elif w == 5: v = b[i:i + 4]; i += 4
        else: raise ValueError("bad wire type")
        yield n, w, v

with open(out, "w") as f:
    for p in sample:
        try:
            r = urllib.request.urlopen(f"http://127.0.0.1:{port}{p}", timeout=60)
            status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        if kind == "bbox":
            try:
                j = json.loads(body); n, m = len(j["features"]), j.get("numberMatched", "")
            except Exception:
                n = m = "?"
            f.write(f"{status}\t{len(body)}\t{n}\t{m}\n")
        else:
            if body[:2] == b"\x1f\x8b": body = gzip.decompress(body)
            feats = sum(sum(1 for n2, _, _ in fields(l) if n2 == 2) for n, _, l in fields(body) if n == 3)
            f.write(f"{status}\t{len(body)}\t{feats}\n")
PY
}

# --- one comparison ------------------------------------------------------------
run() {
  local N=$1
  local DATA=$OUT/data-$N W=$OUT/compare-$N
  ROWS=$W/rows.tsv
  rm -rf "$W"; mkdir -p "$W"
  local TABLE=$OUT/compare-$N.md
  local P_PORT=$((BASE_PORT + 1)) B_PORT=$((BASE_PORT + 2)) T_PORT=$((BASE_PORT + 3)) M_PORT=$((BASE_PORT + 4))
  local PEERS_DB=cmp_peers_$N BSC_PG_DB=cmp_bsc_$N
  local PEERS_URL=postgresql://$PG_USER:$PG_PASS@$PG_HOST:$PG_PORT/$PEERS_DB
  local BSC_PG_URL=postgres://$PG_USER:$PG_PASS@$PG_HOST:$PG_PORT/$BSC_PG_DB
  local DB=$W/bsc.db
  say "=== $N features ==="

  if [ ! -f "$DATA/manifest.json" ]; then
    say "generating $N features into $DATA"
    python3 "$SHARED/tools/gen_badung.py" "$DATA" --features "$N" --seed 1 >&2
  fi
  python3 - "$DATA/manifest.json" >"$W/layers.tsv" <<'PY'
import json, sys
for l in json.load(open(sys.argv[1]))["layers"]:
    print("\t".join([l["file"], l["layer"], l["category"], l["agency"], l["visibility"], l["title_id"], l["title_en"]]))
PY
  local NLAYERS; NLAYERS=$(wc -l <"$W/layers.tsv")
  local TABLES=${LAYERS//-/_}

  # --- ingest: bsc import (SQLite), bsc import (PostgreSQL), ogr2ogr --------
  say "bsc import of $NLAYERS layers into SQLite"
  local t0; t0=$(now)
  while IFS=$'\t' read -r file layer category agency visibility tid ten; do
    "$BSC" import "$DATA/$file" --layer "$layer" --category "$category" --agency "$agency" --visibility "$visibility" \
      --title-id "$tid" --title-en "$ten" --database "sqlite://$DB" --log warn >>"$W/import-sqlite.log" 2>&1 ||
      { tail "$W/import-sqlite.log" >&2; die "bsc import of $file failed"; }
  done <"$W/layers.tsv"
  add "ingest, $NLAYERS layers" "bsc import (SQLite)" bsc "$(since "$t0")" s "" "" ""
  add "database size" "bsc (SQLite file)" bsc "$(du -cbL "$DB"* | tail -1 | awk '{printf "%.0f", $1 / 1048576}')" MiB "" "" ""

  say "bsc import of $NLAYERS layers into PostgreSQL ($BSC_PG_DB)"
  local BSC_PG=1 PG_SKIP=""
  fresh_db "$BSC_PG_DB"
  t0=$(now)
  local first=1
  while IFS=$'\t' read -r file layer category agency visibility tid ten; do
    if ! "$BSC" import "$DATA/$file" --layer "$layer" --category "$category" --agency "$agency" --visibility "$visibility" \
      --title-id "$tid" --title-en "$ten" --database "$BSC_PG_URL" --log warn >>"$W/import-pg.log" 2>&1; then
      BSC_PG=
      if [ -n "$first" ]; then PG_SKIP="skipped: this bsc has no PostgreSQL backend"
      else PG_SKIP="skipped: bsc import into PostgreSQL failed at $file"; fi
      say "$PG_SKIP ($(tail -1 "$W/import-pg.log"))"
      break
    fi
    first=
  done <"$W/layers.tsv"
  if [ -n "$BSC_PG" ]; then
    add "ingest, $NLAYERS layers" "bsc import (PostgreSQL)" bsc "$(since "$t0")" s "" "" ""
    add "database size" "bsc (PostgreSQL database)" bsc "$(pg_user -d "$BSC_PG_DB" -c "SELECT round(pg_database_size(current_database()) / 1048576.0)")" MiB "" "" ""
  else
    add "ingest, $NLAYERS layers" "bsc import (PostgreSQL)" bsc "$PG_SKIP" "" "" "" ""
  fi

  say "ogr2ogr of $NLAYERS layers into PostGIS ($PEERS_DB)"
  fresh_db "$PEERS_DB" postgis
  t0=$(now)
  while IFS=$'\t' read -r file layer _; do
    ogr2ogr -f PostgreSQL "PG:host=$PG_HOST port=$PG_PORT dbname=$PEERS_DB user=$PG_USER password=$PG_PASS" \
      "$DATA/$file" -nln "${layer//-/_}" -lco GEOMETRY_NAME=geom -lco FID=id -lco SPATIAL_INDEX=GIST \
      -preserve_fid -gt 100000 --config PG_USE_COPY YES >>"$W/ogr2ogr.log" 2>&1 ||
      { tail "$W/ogr2ogr.log" >&2; die "ogr2ogr of $file failed"; }
  done <"$W/layers.tsv"
  add "ingest, $NLAYERS layers" "ogr2ogr → PostGIS (COPY + GiST)" peer "$(since "$t0")" s "" "" ""
  t0=$(now)
  pg_user -d "$PEERS_DB" -c "VACUUM ANALYZE" >/dev/null
  local ANALYZE_S; ANALYZE_S=$(since "$t0")
  add "database size" "PostGIS (peers' database)" peer "$(pg_user -d "$PEERS_DB" -c "SELECT round(pg_database_size(current_database()) / 1048576.0)")" MiB "" "" ""

  # --- request lists: the same boxes, layers and limit; the same tiles -------
  for size in 0.01 0.05; do
    python3 "$SHARED/bench/urls.py" bbox 2000 "$size" "/api/layers/{layer}/features?bbox={bbox}&limit=10000" --layers "$LAYERS" >"$W/bsc-bbox-$size.txt"
    python3 "$SHARED/bench/urls.py" bbox 2000 "$size" "/collections/public.{layer}/items?bbox={bbox}&limit=10000" --layers "$TABLES" >"$W/tipg-bbox-$size.txt"
  done
  python3 "$SHARED/bench/urls.py" tiles 10 16 "/tiles/{layer}/{z}/{x}/{y}.mvt" --layers "$LAYERS" >"$W/bsc-tiles.txt"
  python3 "$SHARED/bench/urls.py" tiles 10 16 "/{layer}/{z}/{x}/{y}" --layers "$TABLES" >"$W/martin-tiles.txt"

  local UP="start-up until ready" MEM="resident memory after load" MEM2="resident memory after the runs"
  local B01="bbox 0.01° GeoJSON" B05="bbox 0.05° GeoJSON" TNC="tiles z10-16, no cache" TW="tiles z10-16, warm cache"

  # --- bsc on SQLite, default tile cache: load, memory, bbox, warm tiles -----
  say "bsc on SQLite"
  start_server "$P_PORT" /readyz "$W/bsc-sqlite.log" "$BSC" serve --database "sqlite://$DB" --bind "127.0.0.1:$P_PORT" --log warn
  add "$UP" "bsc (SQLite)" bsc "$LOAD_S" s "" "" ""
  sleep 5; add "$MEM" "bsc (SQLite)" bsc "$(rss_mib)" MiB "" "" ""
  probe bbox "$P_PORT" "$W/bsc-bbox-0.01.txt" "$W/probe-bsc-0.01.txt"
  probe bbox "$P_PORT" "$W/bsc-bbox-0.05.txt" "$W/probe-bsc-0.05.txt"
  probe tiles "$P_PORT" "$W/bsc-tiles.txt" "$W/probe-bsc-tiles.txt"
  measure "$B01" "bsc (SQLite)" bsc "$P_PORT" "$W/bsc-bbox-0.01.txt"
  measure "$B05" "bsc (SQLite)" bsc "$P_PORT" "$W/bsc-bbox-0.05.txt"
  warm "$P_PORT" "$W/bsc-tiles.txt"
  measure "$TW" "bsc (SQLite), 256 MiB tile cache" bsc "$P_PORT" "$W/bsc-tiles.txt"
  add "$MEM2" "bsc (SQLite), tile cache warm" bsc "$(rss_mib)" MiB "" "" ""
  stop_server
  start_server "$P_PORT" /readyz "$W/bsc-sqlite-nocache.log" "$BSC" serve --database "sqlite://$DB" --bind "127.0.0.1:$P_PORT" --tile-cache-mb 0 --log warn
  measure "$TNC" "bsc (SQLite), --tile-cache-mb 0" bsc "$P_PORT" "$W/bsc-tiles.txt"
  stop_server

  # --- bsc on PostgreSQL, no tile cache -------------------------------------
  if [ -n "$BSC_PG" ]; then
    say "bsc on PostgreSQL"
    start_server "$B_PORT" /readyz "$W/bsc-pg.log" "$BSC" serve --database "$BSC_PG_URL" --bind "127.0.0.1:$B_PORT" --tile-cache-mb 0 --log warn
    add "$UP" "bsc (PostgreSQL)" bsc "$LOAD_S" s "" "" ""
    sleep 5; add "$MEM" "bsc (PostgreSQL)" bsc "$(rss_mib)" MiB "" "" ""
    probe bbox "$B_PORT" "$W/bsc-bbox-0.01.txt" "$W/probe-bscpg-0.01.txt"
    probe bbox "$B_PORT" "$W/bsc-bbox-0.05.txt" "$W/probe-bscpg-0.05.txt"
    measure "$B01" "bsc (PostgreSQL)" bsc "$B_PORT" "$W/bsc-bbox-0.01.txt"
    measure "$B05" "bsc (PostgreSQL)" bsc "$B_PORT" "$W/bsc-bbox-0.05.txt"
    measure "$TNC" "bsc (PostgreSQL), --tile-cache-mb 0" bsc "$B_PORT" "$W/bsc-tiles.txt"
    stop_server
  else
    for g in "$UP" "$MEM" "$B01" "$B05" "$TNC"; do add "$g" "bsc (PostgreSQL)" bsc "$PG_SKIP" "" "" "" ""; done
  fi

  # --- tipg ------------------------------------------------------------------
  say "tipg $TIPG_SEEN ($TIPG_WORKERS uvicorn workers)"
  mkdir -p "$W/tipg" # its own working directory: tipg reads settings from a .env there
  start_server "$T_PORT" /healthz "$W/tipg.log" env -C "$W/tipg" DATABASE_URL="$PEERS_URL" TIPG_DB_SCHEMAS='["public"]' \
    TIPG_MAX_FEATURES_PER_QUERY=10000 "$PWD/$VENV/bin/uvicorn" tipg.main:app --host 127.0.0.1 --port "$T_PORT" \
    --workers "$TIPG_WORKERS" --log-level warning --no-access-log
  for t in ${TABLES//,/ }; do
    curl -fs -o /dev/null "http://127.0.0.1:$T_PORT/collections/public.$t" || die "tipg does not serve collection public.$t"
  done
  add "$UP" "tipg $TIPG_SEEN" peer "$LOAD_S" s "" "" ""
  sleep 5; add "$MEM" "tipg $TIPG_SEEN ($TIPG_WORKERS workers)" peer "$(rss_mib)" MiB "" "" ""
  probe bbox "$T_PORT" "$W/tipg-bbox-0.01.txt" "$W/probe-tipg-0.01.txt"
  probe bbox "$T_PORT" "$W/tipg-bbox-0.05.txt" "$W/probe-tipg-0.05.txt"
  measure "$B01" "tipg $TIPG_SEEN" peer "$T_PORT" "$W/tipg-bbox-0.01.txt"
  measure "$B05" "tipg $TIPG_SEEN" peer "$T_PORT" "$W/tipg-bbox-0.05.txt"
  add "$MEM2" "tipg $TIPG_SEEN ($TIPG_WORKERS workers)" peer "$(rss_mib)" MiB "" "" ""
  stop_server

  # --- Martin: no cache, then its default cache warm -------------------------
  say "martin $MARTIN_SEEN"
  start_server "$M_PORT" /health "$W/martin-nocache.log" "$MARTIN" --listen-addresses "127.0.0.1:$M_PORT" \
    --cache-size 0 "$PEERS_URL"
  for t in ${TABLES//,/ }; do
    curl -fs -o /dev/null "http://127.0.0.1:$M_PORT/$t" || die "martin does not serve source $t (see /catalog)"
  done
  add "$UP" "martin $MARTIN_SEEN" peer "$LOAD_S" s "" "" ""
  sleep 5; add "$MEM" "martin $MARTIN_SEEN" peer "$(rss_mib)" MiB "" "" ""
  grep -q 'Tile caching is disabled' "$W/martin-nocache.log" || say "warning: martin's log does not say its tile cache is disabled"
  probe tiles "$M_PORT" "$W/martin-tiles.txt" "$W/probe-martin-tiles.txt"
  measure "$TNC" "martin $MARTIN_SEEN, --cache-size 0" peer "$M_PORT" "$W/martin-tiles.txt"
  stop_server
  start_server "$M_PORT" /health "$W/martin.log" "$MARTIN" --listen-addresses "127.0.0.1:$M_PORT" "$PEERS_URL"
  warm "$M_PORT" "$W/martin-tiles.txt"
  measure "$TW" "martin $MARTIN_SEEN, default cache (256 of its 512 MB for tiles)" peer "$M_PORT" "$W/martin-tiles.txt"
  add "$MEM2" "martin $MARTIN_SEEN, cache warm" peer "$(rss_mib)" MiB "" "" ""
  stop_server

  # --- the table ---------------------------------------------------------------
  {
    echo "bsc $(git rev-parse --short HEAD 2>/dev/null || echo '?') vs tipg $TIPG_SEEN and martin $MARTIN_SEEN on PostgreSQL $PG_SEEN / PostGIS $(pg_user -d "$PEERS_DB" -c 'SELECT postgis_lib_version()') (shared_buffers $PG_SHARED_BUFFERS), $(ogr2ogr --version | cut -d, -f1);"
    echo "$N features requested ($NLAYERS layers), $(nproc) cores, wrk -t2 -c32 -d$DURATION --timeout $WRK_TIMEOUT, layers $LAYERS, limit 10000"
    echo
    python3 - "$ROWS" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
order = ["ingest", "database size", "start-up", "resident memory after load", "bbox 0.01", "bbox 0.05",
         "tiles z10-16, no cache", "tiles z10-16, warm", "resident memory after the runs"]
rank = lambda g: next((i for i, o in enumerate(order) if g.startswith(o)), len(order))
groups = sorted(dict.fromkeys(r[0] for r in rows), key=rank)
def num(v):
    try: return float(v)
    except ValueError: return None
print("| row | server | req/s | p50 ms | p99 ms | errors | bsc/peer |")
print("|---|---|---|---|---|---|---|")
for g in groups:
    rs = [r for r in rows if r[0] == g]
    peer = next((num(r[3]) for r in rs if r[2] == "peer" and num(r[3])), None)
    for _, server, side, value, unit, p50, p99, err in sorted(rs, key=lambda r: r[2] != "bsc"):
        v = num(value)
        cell = value if v is None else (f"{v:.0f}" if unit == "req/s" else f"{v:g} {unit}")
        ratio = f"{v / peer:.2f}×" if side == "bsc" and v is not None and peer else "—"
        print(f"| {g} | {server} | {cell} | {p50 or '—'} | {p99 or '—'} | {err or '—'} | {ratio} |")
PY
    echo
    echo "bsc/peer: req/s of bsc over the peer's (above 1: bsc serves more); for seconds and MiB, bsc's value over the peer's (below 1: bsc needs less)."
    echo "errors: wrk socket errors and HTTP statuses >= 400 (204, an empty tile, is not an error)."
    echo "The peers' resident memory is their own process(es) only: their data lives in PostgreSQL (shared_buffers $PG_SHARED_BUFFERS, plus one backend per pooled connection). VACUUM ANALYZE after ogr2ogr: $ANALYZE_S s (not in the ingest row)."
    echo
    echo "Checks (a sample of the same requests):"
    python3 - "$W" <<'PY'
import os, sys
w = sys.argv[1]
def rows(name):
    p = os.path.join(w, name)
    return [l.split("\t") for l in open(p).read().split("\n") if l] if os.path.exists(p) else None
for size in ("0.01", "0.05"):
    b, t, pg = rows(f"probe-bsc-{size}.txt"), rows(f"probe-tipg-{size}.txt"), rows(f"probe-bscpg-{size}.txt")
    if not b or not t:
        print(f"- bbox {size}°: no sample to compare"); continue
    same = sum(1 for x, y in zip(b, t) if x[0] == y[0] == "200" and x[2] == y[2] and x[3] == y[3])
    nb = sum(int(x[2]) for x in b if x[2].isdigit()); nt = sum(int(y[2]) for y in t if y[2].isdigit())
    mb = sum(int(x[1]) for x in b) // len(b); mt = sum(int(y[1]) for y in t) // len(t)
    print(f"- bbox {size}°: {same} of {len(b)} sample boxes return the same feature count and numberMatched in bsc and tipg "
          f"({nb} vs {nt} features in all; mean body {mb} vs {mt} bytes)")
    if pg:
        samepg = sum(1 for x, y in zip(b, pg) if x[:1] + x[2:] == y[:1] + y[2:])
        print(f"- bbox {size}°: {samepg} of {len(b)} sample boxes give the same counts in bsc on PostgreSQL as on SQLite")
b, m = rows("probe-bsc-tiles.txt"), rows("probe-martin-tiles.txt")
if not b or not m:
    print("- tiles: no sample to compare"); sys.exit()
def stat(rs):
    full = [r for r in rs if r[0] == "200" and int(r[2]) > 0]
    return len(full), sum(int(r[2]) for r in rs), sum(int(r[1]) for r in full) // max(1, len(full)), sorted({r[0] for r in rs})
fb, nb, sb, cb = stat(b); fm, nm, sm, cm = stat(m)
both = sum(1 for x, y in zip(b, m) if int(x[2]) > 0 and int(y[2]) > 0)
print(f"- tiles: of {len(b)} sample tiles, bsc has {fb} non-empty ({nb} features, mean {sb} bytes, statuses {'/'.join(cb)}), "
      f"martin {fm} non-empty ({nm} features, mean {sm} bytes, statuses {'/'.join(cm)}); {both} non-empty in both")
if fm == 0:
    print("- WARNING: every sampled martin tile is empty")
PY
  } >"$TABLE"
  echo >&2
  cat "$TABLE"
}

[ $# -gt 0 ] || set -- 20000 1000000
for n in "$@"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "feature count expected, got '$n'"
done
for n in "$@"; do run "$n"; done
