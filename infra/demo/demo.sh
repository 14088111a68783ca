#!/usr/bin/env bash
# Posts a jeugdhulp assignment for a youth who turns 17y6m in a week and ticks through the
# dates: the R3a/R3b signals reach the demo directory's contacts by e-mail (the demo's mail
# sink keeps them in .run/mail) and by webhook (start a receiver on 127.0.0.1:8090 to see
# those). Then it prints the links of the R3b mail to the Wmo desk: open them in a browser.
# With TRACEPARENT set (00-<32 hex>-<16 hex>-01) the fact is posted in that trace.
set -euo pipefail
BIN="${1:-target/debug}"
RUN="${RUN:-.run}"
today="$(date +%F)"
birth="$(date -d "$today + 7 days - 17 years - 6 months" +%F)"
curl -sS -X POST http://127.0.0.1:8080/v1/events \
  -H 'authorization: Bearer demo-jeugdhulp-token' \
  -H 'content-type: application/cloudevents+json' \
  ${TRACEPARENT:+-H "traceparent: $TRACEPARENT"} \
  -d "{\"specversion\":\"1.0\",\"id\":\"demo-$(date +%s)\",\"source\":\"urn:nld:gemeente:0392:systeem:jeugdhulp\",
       \"type\":\"nl.schakel.jeugdhulp.assignment-issued.v1\",\"time\":\"$(date -u +%FT%TZ)\",
       \"data\":{\"child\":{\"bsn\":\"111222333\",\"birthDate\":\"$birth\",\"residenceMunicipality\":\"0392\",
                        \"name\":{\"given\":\"Demi\",\"family\":\"Voorbeeld\"}},
       \"toewijzingNummer\":\"DEMO1\",\"product\":{\"categorie\":\"45\"},\"ingangsdatum\":\"$today\",
       \"toewijzingTijdstip\":\"$(date -u +%FT%TZ)\",\"gemeente\":\"0392\"}}"
echo
for i in $(seq 0 8); do "$BIN/schakel" clock tick --date "$(date -d "$today + $i days" +%F)"; done
# a small synthetic region for the dashboard (once: its ids make a second run a repeat)
python3 "$(dirname "$0")/region.py"
echo "the dashboard: http://127.0.0.1:8083/dashboard (haarlem-leerplicht or haarlem-beleid, password demo-wachtwoord)"
echo "signals fired; waiting for the e-mail to the Wmo desk (mailbox: $RUN/mail)"
# the plain-text part of the R3b mail to the Wmo desk holds the links on lines of their own
python3 - "$RUN/mail" <<'PY'
import email, glob, sys, time
from email import policy
for _ in range(90):
    for f in sorted(glob.glob(sys.argv[1] + "/new/*")):
        m = email.message_from_binary_file(open(f, "rb"), policy=policy.default)
        if "wmo@haarlem.example" not in str(m["to"]):
            continue
        text = m.get_body(preferencelist=("plain",)).get_content()
        if "acknowledge?t=" not in text:
            continue
        links = [w for w in text.split() if w.startswith("http://127.0.0.1:8083/")]
        print(f"\nmail to {m['to']}: {m['subject']}\n  (file {f})")
        for l in dict.fromkeys(links):
            print("  " + l)
        print("\nOpen the acknowledge link and confirm. Then open the signal page (the first link) and log")
        print("in as haarlem-volwassenen, password demo-wachtwoord: you see the youth, and the visit is in")
        print("`schakel audit list`. The jeugdteam's mail has its own links; haarlem-jeugdteam can also log")
        print("in and complete the handoff with the button on the signal page or in its inbox.")
        sys.exit(0)
    time.sleep(1)
sys.exit("no mail to the Wmo desk yet; see .run/schakel-notify.log")
PY
