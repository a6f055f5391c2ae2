# Shared by the benchmark scripts (sourced, not run).

# import_data BSC DATA DATABASE_URL: imports every layer of a gen_badung.py
# data set (DATA/manifest.json) with `bsc import`, as the manifest names it.
import_data() {
  local bsc=$1 data=$2 db=$3
  python3 - "$data/manifest.json" <<'PY' |
import json, sys
m = json.load(open(sys.argv[1]))
for l in m["layers"]:
    print("\t".join([l["file"], l["layer"], l["category"], l["agency"], l["visibility"], l["title_id"], l["title_en"]]))
PY
  while IFS=$'\t' read -r file layer category agency visibility tid ten; do
    "$bsc" import "$data/$file" --layer "$layer" --category "$category" --agency "$agency" \
      --visibility "$visibility" --title-id "$tid" --title-en "$ten" --database "$db" >&2
  done
}
