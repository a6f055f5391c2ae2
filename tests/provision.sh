#!/usr/bin/env bash
# Provides what the end-to-end tests need beyond the Rust toolchain, each
# part only when it is missing, and exports the variables the tests read.
# Run it (installs and starts things) or source it from a script (also
# exports the variables); tests/run.sh sources it, .ci/run runs it first.
#
#   part                  needs                              tests
#   browser               chromium, node + npm, npm ci       tests/browser.rs, styles
#   GDAL                  ogrinfo/ogr2ogr (gdal-bin)         tests/ogc.rs, tests/ogc_clients.rs
#   Python tools          python3 -m venv, pip from PyPI     tests/ogc.rs, tests/schemathesis.rs,
#                         (openapi-spec-validator,           tests/ogc_clients.rs
#                         schemathesis, rdflib, pyogrio: its
#                         wheel carries GDAL 3.12)
#   PostgreSQL + PostGIS  postgresql-15-postgis-3, a cluster tests/replicas.rs, the PostgreSQL pass
#   QGIS                  python3-qgis for /usr/bin/python3  tests/qgis.rs, tests/ogc_clients.rs
#                         (195 MB download, 890 MB installed, 168 packages; 70 s)
#
# Debian packages are installed only as root (apt-get), and only those whose
# command is missing; BSC_PROVISION=no installs and starts nothing. A part
# that cannot be provided is left out: the tests that need it say SKIPPED,
# unless it is required (BSC_BROWSER_TESTS, BSC_GDAL_TESTS,
# BSC_OPENAPI_VALIDATOR, BSC_POSTGRES_TESTS, BSC_QGIS_TESTS set to
# `required`, as .ci/run sets them all), when this script fails.
#
# Exports BSC_PYTHON (the tests' virtual environment, unless already set),
# BSC_TEST_POSTGRES and BSC_POSTGRES_READY (`yes`, or why the PostgreSQL
# pass cannot run).

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
fi

_bsc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_bsc_log="$(mktemp)"
_bsc_default_pg=postgres://bsc:bsc@127.0.0.1:5432/postgres

_bsc_die() {
  echo "tests/provision.sh: $*" >&2
  rm -f "$_bsc_log"
  exit 1
}

_bsc_required() {
  local var="$1"
  [[ "${!var:-}" == required ]]
}

# Runs a command with its output in the log; on failure prints the log's
# tail and returns its status.
_bsc_quiet() {
  if "$@" >"$_bsc_log" 2>&1; then
    return 0
  else
    local rc=$?
    tail -n 20 "$_bsc_log" >&2
    return "$rc"
  fi
}

_bsc_can_install() {
  [[ "${BSC_PROVISION:-yes}" != no && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1
}

# PyQGIS for Debian's python3 (tests/qgis.rs runs /usr/bin/python3).
_bsc_have_qgis() {
  QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1
}

_bsc_have_postgres_server() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null &&
    compgen -G '/usr/share/postgresql/*/extension/postgis.control' >/dev/null
}

# --- Debian packages, only those whose command is missing -----------------
_bsc_apt() {
  local need=()
  [[ -x "${BSC_CHROMIUM:-/usr/bin/chromium}" ]] || need+=(chromium)
  # A Node.js from elsewhere (nodesource brings its own npm) conflicts with
  # Debian's npm package: a working `node` and `npm` are what count.
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
  command -v ogr2ogr >/dev/null 2>&1 || need+=(gdal-bin)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
  _bsc_have_postgres_server || need+=(postgresql-15-postgis-3)
  command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
  # QGIS without its recommends (no desktop application): 195 MB to download.
  local qgis=()
  _bsc_have_qgis || qgis+=(python3-qgis)
  [[ ${#need[@]} -gt 0 || ${#qgis[@]} -gt 0 ]] || return 0
  if ! _bsc_can_install; then
    return 0 # the parts below see what is missing and say so
  fi
  _bsc_quiet apt-get update -qq || _bsc_die "apt-get update failed"
  if [[ ${#need[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive _bsc_quiet apt-get install -y -qq "${need[@]}" ||
      _bsc_die "apt-get install ${need[*]} failed"
  fi
  if [[ ${#qgis[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive _bsc_quiet apt-get install -y -qq --no-install-recommends "${qgis[@]}" ||
      _bsc_die "apt-get install ${qgis[*]} failed"
  fi
}

# --- Browser: playwright-core and the MapLibre style validator, as package-lock.json pins them
_bsc_browser() {
  local dir="$_bsc_root/tests/browser"
  local stamp="$dir/node_modules/.bsc-installed-lock"
  if ! command -v npm >/dev/null 2>&1 || [[ "${BSC_PROVISION:-yes}" == no ]]; then
    return 0 # tests/browser.rs says what is missing
  fi
  if ! cmp -s "$dir/package-lock.json" "$stamp"; then
    if _bsc_quiet npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error; then
      cp "$dir/package-lock.json" "$stamp"
    elif _bsc_required BSC_BROWSER_TESTS; then
      _bsc_die "npm ci --prefix tests/browser failed"
    fi
  fi
}

# --- Python: openapi-spec-validator, schemathesis and rdflib from PyPI ----
_bsc_python() {
  local venv="$_bsc_root/target/test-venv"
  if [[ "${BSC_PROVISION:-yes}" != no ]]; then
    if [[ ! -x "$venv/bin/python" ]] && python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
      mkdir -p "$_bsc_root/target"
      _bsc_quiet python3 -m venv "$venv" || rm -rf "$venv"
    fi
    if [[ -x "$venv/bin/python" ]]; then
      "$venv/bin/python" -c 'import openapi_spec_validator' >/dev/null 2>&1 ||
        _bsc_quiet "$venv/bin/pip" install -q openapi-spec-validator || true
      [[ -x "$venv/bin/schemathesis" ]] ||
        _bsc_quiet "$venv/bin/pip" install -q 'schemathesis==4.32.5' || true
      "$venv/bin/python" -c 'import rdflib' >/dev/null 2>&1 ||
        _bsc_quiet "$venv/bin/pip" install -q 'rdflib>=7' || true
      "$venv/bin/python" -c 'import pyogrio' >/dev/null 2>&1 ||
        _bsc_quiet "$venv/bin/python" -m pip install -q 'pyogrio>=0.11' || true
    fi
  fi
  if [[ -z "${BSC_PYTHON:-}" && -x "$venv/bin/python" ]]; then
    export BSC_PYTHON="$venv/bin/python"
  fi
  if _bsc_required BSC_GDAL_TESTS; then
    "${BSC_PYTHON:-python3}" -c 'import pyogrio' >/dev/null 2>&1 ||
      _bsc_die "pyogrio (GDAL 3.12 for tests/ogc_clients.rs) is not installed for ${BSC_PYTHON:-python3}"
  fi
  if _bsc_required BSC_OPENAPI_VALIDATOR; then
    "${BSC_PYTHON:-python3}" -c 'import openapi_spec_validator' >/dev/null 2>&1 ||
      _bsc_die "openapi-spec-validator is not installed for ${BSC_PYTHON:-python3}"
    "${BSC_PYTHON:-python3}" -c 'import rdflib' >/dev/null 2>&1 ||
      _bsc_die "rdflib is not installed for ${BSC_PYTHON:-python3}"
    [[ -x "$(dirname "${BSC_PYTHON:-/nonexistent/python}")/schemathesis" ]] ||
      _bsc_die "schemathesis is not installed next to ${BSC_PYTHON:-python3}"
  fi
}

# --- PostgreSQL with PostGIS for the PostgreSQL pass -----------------------
# Why the server at BSC_TEST_POSTGRES cannot be used, or nothing.
_bsc_postgres_problem() {
  # The URL as shown, without its password.
  local url
  url="$(sed -E 's#//([^:/@]*):[^@/]*@#//\1:***@#' <<<"$BSC_TEST_POSTGRES")"
  if ! command -v psql >/dev/null 2>&1; then
    echo "psql not found to check $url (apt-get install postgresql-client)"
    return
  fi
  local out
  if ! out="$(PGCONNECT_TIMEOUT=5 psql "$BSC_TEST_POSTGRES" -qtAX -c \
    "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'" 2>&1)"; then
    out="$(head -n 1 <<<"$out")"
    echo "cannot connect to PostgreSQL at $url: ${out#psql: error: }"
  elif [[ "$out" != 1 ]]; then
    echo "the PostgreSQL at $url has no PostGIS (apt-get install postgresql-15-postgis-3)"
  fi
}

_bsc_postgres() {
  export BSC_TEST_POSTGRES="${BSC_TEST_POSTGRES:-$_bsc_default_pg}"
  local problem
  problem="$(_bsc_postgres_problem)"
  # Start and set up the local cluster, when the tests use it and we may:
  # the role `bsc` may create databases, and PostGIS goes into template1 so
  # every database it creates has the extension the first migration needs.
  if [[ -n "$problem" && "$BSC_TEST_POSTGRES" == "$_bsc_default_pg" &&
    "${BSC_PROVISION:-yes}" != no && "$(id -u)" == 0 ]] &&
    command -v pg_lsclusters >/dev/null 2>&1; then
    local version name
    read -r version name _ < <(pg_lsclusters -h | awk '$3 == 5432') || true
    if [[ -n "${version:-}" ]]; then
      pg_ctlcluster "$version" "$name" start >/dev/null 2>&1 || true
      for _ in $(seq 1 30); do
        runuser -u postgres -- pg_isready -q -p 5432 && break
        sleep 1
      done
      _bsc_quiet runuser -u postgres -- psql -p 5432 -qX -v ON_ERROR_STOP=1 -d template1 <<'SQL' || true
SELECT 'CREATE ROLE bsc LOGIN CREATEDB PASSWORD ''bsc'''
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bsc') \gexec
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
      problem="$(_bsc_postgres_problem)"
    fi
  fi
  if [[ -z "$problem" ]]; then
    export BSC_POSTGRES_READY=yes
  else
    _bsc_required BSC_POSTGRES_TESTS && _bsc_die "$problem"
    export BSC_POSTGRES_READY="$problem"
  fi
  # tests/replicas.rs runs a PostgreSQL of its own from the server binaries.
  if _bsc_required BSC_POSTGRES_TESTS && ! _bsc_have_postgres_server; then
    _bsc_die "PostgreSQL server binaries or PostGIS are missing (apt-get install postgresql-15-postgis-3)"
  fi
}

_bsc_apt
_bsc_browser
_bsc_python
_bsc_postgres
if _bsc_required BSC_BROWSER_TESTS; then
  [[ -x "${BSC_CHROMIUM:-/usr/bin/chromium}" ]] || _bsc_die "${BSC_CHROMIUM:-/usr/bin/chromium} not found"
  command -v node >/dev/null 2>&1 || _bsc_die "node not found"
  [[ -f "$_bsc_root/tests/browser/node_modules/playwright-core/package.json" ]] ||
    _bsc_die "playwright-core is not installed in tests/browser"
fi
if _bsc_required BSC_QGIS_TESTS && ! _bsc_have_qgis; then
  _bsc_die "PyQGIS does not import in /usr/bin/python3 (apt-get install python3-qgis)"
fi
if _bsc_required BSC_GDAL_TESTS; then
  if ! command -v ogrinfo >/dev/null 2>&1 || ! command -v ogr2ogr >/dev/null 2>&1; then
    _bsc_die "GDAL's ogrinfo/ogr2ogr not found (apt-get install gdal-bin)"
  fi
fi
rm -f "$_bsc_log"
unset -f _bsc_die _bsc_required _bsc_quiet _bsc_can_install _bsc_have_postgres_server _bsc_have_qgis \
  _bsc_apt _bsc_browser _bsc_python _bsc_postgres_problem _bsc_postgres
unset _bsc_root _bsc_log _bsc_default_pg
