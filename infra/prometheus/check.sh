#!/usr/bin/env bash
# Checks the operator's files with promtool: the scrape configuration, the alert rules and
# their unit tests, and every query of the Grafana dashboard (as recording rules, which
# promtool parses). Run by `make test`; needs Debian's `prometheus` package (promtool).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
promtool check config "$here/prometheus.yml"
promtool check rules "$here/alerts.yml"
(cd "$here" && promtool test rules alerts.test.yml)
queries=$(mktemp --suffix=.yml)
trap 'rm -f "$queries"' EXIT
python3 - "$here/../grafana/schakel.json" >"$queries" <<'PY'
import json, sys
dash = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
n = 0
for p in dash["panels"]:
    assert p.get("title"), "a panel without a title"
    for t in p.get("targets", []):
        n += 1
        print(f"      - record: schakel_dashboard_query_{n}")
        print(f"        expr: {json.dumps(t['expr'])}")
assert n > 0
PY
echo "dashboard queries:"; promtool check rules "$queries" | grep -E "SUCCESS|FAILED"
