#!/usr/bin/env python3
"""A small synthetic region for the demo dashboard: children of the municipalities of
Zuid-Kennemerland with enrolments at fictional schools, LRV meldingen (some closed), thuiszitter
registrations (some with a passend aanbod), vrijstellingen and unenrolments, dated relative to
today so the last peildata show figures. Posted to ingest with the demo's Leerplein token.
Every BSN is made up (it passes the 11-proef) and every name is a placeholder.

    python3 infra/demo/region.py [--children 240] [--url http://127.0.0.1:8080]
"""

import argparse
import datetime as dt
import json
import random
import urllib.request

MUNICIPALITIES = ["0392", "0392", "0392", "0377", "0394", "0397", "0453", "0473"]
SCHOOLS = ["11AA", "12BB", "13CC", "14DD", "15EE", "16FF", "17GG", "18HH"]


def bsn(seed):
    n = 800_000_000 + seed * 7
    while True:
        digits = [int(c) for c in f"{n:09d}"]
        total = sum(d * w for d, w in zip(digits, [9, 8, 7, 6, 5, 4, 3, 2, -1]))
        if total > 0 and total % 11 == 0:
            return f"{n:09d}"
        n += 1


def event(eid, kind, source, child, data):
    data = dict(data, child=child)
    return {"specversion": "1.0", "id": eid, "source": source, "type": f"nl.schakel.{kind}.v1",
            "time": dt.datetime.now(dt.timezone.utc).isoformat(), "datacontenttype": "application/json",
            "data": data}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--children", type=int, default=240)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--token", default="demo-leerplein-token")
    args = ap.parse_args()
    rnd = random.Random(2026)
    today = dt.date.today()
    events = []
    for i in range(args.children):
        m = MUNICIPALITIES[i % len(MUNICIPALITIES)]
        school = {"brin": SCHOOLS[i % len(SCHOOLS)], "vestiging": "00"}
        birth = today - dt.timedelta(days=365 * (6 + rnd.randrange(11)) + rnd.randrange(365))
        child = {"bsn": bsn(i), "birthDate": birth.isoformat(), "residenceMunicipality": m,
                 "name": {"given": "Demo", "family": f"Kind {i}"}}
        las = f"urn:nld:brin:{school['brin']}:systeem:las"
        lp = f"urn:nld:gemeente:{m}:systeem:leerplicht"
        start = today - dt.timedelta(days=400 + rnd.randrange(600))
        events.append(event(f"demo-e-{i}", "school.enrolment-registered", las, child,
                            {"school": school, "sector": "po" if i % 2 else "vo", "grade": 1 + i % 6,
                             "startDate": start.isoformat()}))
        r = rnd.random()
        if r < 0.35:
            first = today - dt.timedelta(days=10 + rnd.randrange(330))
            events.append(event(f"demo-v-{i}", "leerplicht.verzuim-reported", lp, child,
                                {"school": school, "meldingsnummer": f"DEMO-{i}", "kind": "lrv",
                                 "firstAbsenceDate": first.isoformat()}))
            if rnd.random() < 0.4:
                events.append(event(f"demo-s-{i}", "leerplicht.verzuim-status-changed", lp, child,
                                    {"meldingsnummer": f"DEMO-{i}", "status": "afgesloten"}))
        elif r < 0.6:
            since = today - dt.timedelta(days=10 + rnd.randrange(330))
            events.append(event(f"demo-t-{i}", "leerplicht.thuiszitter-registered", lp, child,
                                {"since": since.isoformat()}))
            if rnd.random() < 0.4:
                offer = min(today, since + dt.timedelta(days=30 + rnd.randrange(120)))
                events.append(event(f"demo-a-{i}", "leerplicht.thuiszitter-resolved", lp, child,
                                    {"date": offer.isoformat(),
                                     "offer": rnd.choice(["onderwijs", "zorg", "combinatie", "dagbesteding"])}))
        elif r < 0.72:
            frm = today - dt.timedelta(days=rnd.randrange(500))
            events.append(event(f"demo-x-{i}", "leerplicht.vrijstelling-granted", lp, child,
                                {"kind": rnd.choice(["5-onder-a", "5-onder-b", "5-onder-c", "art-15", "art-3a"]),
                                 "from": frm.isoformat()}))
        elif r < 0.8:
            end = today - dt.timedelta(days=35 + rnd.randrange(200))
            events.append(event(f"demo-u-{i}", "school.enrolment-ended", las, child,
                                {"school": school, "endDate": end.isoformat(), "reason": "overig"}))
    for k in range(0, len(events), 200):
        body = json.dumps(events[k:k + 200]).encode()
        req = urllib.request.Request(f"{args.url}/v1/events", data=body, method="POST", headers={
            "authorization": f"Bearer {args.token}",
            "content-type": "application/cloudevents-batch+json"})
        with urllib.request.urlopen(req) as resp:
            answer = json.load(resp)
        print(f"region: {min(k + 200, len(events))} of {len(events)} events accepted ({answer})")


if __name__ == "__main__":
    main()
