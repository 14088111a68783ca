#!/usr/bin/env bash
# Posts a jeugdhulp assignment for a youth who turns 17y6m in a week and ticks through the
# dates, so the R3a/R3b signals flow to the demo directory's webhooks (start a receiver on
# 127.0.0.1:8090 to see them, e.g. `python3 -m http.server` will answer 501 and show retries).
set -euo pipefail
BIN="${1:-target/debug}"
today="$(date +%F)"
birth="$(date -d "$today + 7 days - 17 years - 6 months" +%F)"
curl -sS -X POST http://127.0.0.1:8080/v1/events \
  -H 'authorization: Bearer demo-jeugdhulp-token' \
  -H 'content-type: application/cloudevents+json' \
  -d "{\"specversion\":\"1.0\",\"id\":\"demo-$(date +%s)\",\"source\":\"urn:nld:gemeente:0392:systeem:jeugdhulp\",
       \"type\":\"nl.schakel.jeugdhulp.assignment-issued.v1\",\"time\":\"$(date -u +%FT%TZ)\",
       \"data\":{\"child\":{\"bsn\":\"111222333\",\"birthDate\":\"$birth\",\"residenceMunicipality\":\"0392\"},
       \"toewijzingNummer\":\"DEMO1\",\"product\":{\"categorie\":\"45\"},\"ingangsdatum\":\"$today\",
       \"toewijzingTijdstip\":\"$(date -u +%FT%TZ)\",\"gemeente\":\"0392\"}}"
echo
for i in $(seq 0 8); do "$BIN/schakel" clock tick --date "$(date -d "$today + $i days" +%F)"; done
echo "signals fired; see .run/schakel-notify.log for deliveries"
