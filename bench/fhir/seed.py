#!/usr/bin/env python3
"""Seeds a running hl7gw FHIR server for bench/run_fhir.sh through its own REST API.

    seed.py BASE_URL OUT_DIR [--slots 5000] [--appointments 1000] [--patients 200]
            [--bundle 250] [--max-seconds 120]

Writes, through transaction Bundles (POST BASE_URL with type "transaction"):
  1 Schedule, PATIENTS Patients, SLOTS Slots of that Schedule spread over the week
  2026-12-02..08 (+08:00; every 5th one busy, the rest free), APPOINTMENTS Appointments built
  from ../shared/peers/fixtures/appointment.json (one per slot, each with its own identifier,
  patient and times).
Then in OUT_DIR: appointment_ids.txt (one id a line), schedule_id.txt, create_body.json (the
fixture, minified, without id/meta, for POST /Appointment) and read_body_bytes.txt.
Progress goes to stderr; every request has a timeout and the whole run stops after
--max-seconds. stdlib only; talks to 127.0.0.1 only.
"""
import argparse
import copy
import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "..", "shared", "peers", "fixtures", "appointment.json")
TZ = dt.timezone(dt.timedelta(hours=8))
WEEK_START = dt.datetime(2026, 12, 2, 0, 0, tzinfo=TZ)


def minified(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class Client:
    def __init__(self, base, deadline):
        host = urllib.parse.urlsplit(base).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("seed.py: refusing a non-loopback server: %s" % base)
        self.base = base.rstrip("/")
        self.deadline = deadline
        # No proxies, whatever the environment says.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method, path, body=None):
        if time.monotonic() > self.deadline:
            sys.exit("seed.py: ran out of time (--max-seconds)")
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers={"Content-Type": "application/fhir+json",
                                              "Accept": "application/fhir+json"})
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def transaction(self, resources, what):
        bundle = {"resourceType": "Bundle", "type": "transaction",
                  "entry": [{"resource": r, "request": {"method": "POST",
                                                         "url": r["resourceType"]}}
                            for r in resources]}
        status, body = self.call("POST", "", minified(bundle))
        if status != 200:
            sys.exit("seed.py: %s: transaction answered %d: %s" % (what, status, body[:400]))
        ids = []
        for entry in json.loads(body)["entry"]:
            loc = entry["response"]["location"]  # Type/id/_history/n (maybe absolute)
            parts = loc.split("/_history/")[0].split("/")
            ids.append(parts[-1])
        if len(ids) != len(resources):
            sys.exit("seed.py: %s: %d answers for %d entries" % (what, len(ids), len(resources)))
        return ids


def fixture_without_text_token(fixture):
    """The fixture with reasonCode.text moved to patientInstruction (same bytes, no text-only
    token row); used only when the server refuses the fixture as it is."""
    a = copy.deepcopy(fixture)
    for rc in a.get("reasonCode", []):
        if "text" in rc:
            a["patientInstruction"] = rc.pop("text")
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("out")
    ap.add_argument("--slots", type=int, default=5000)
    ap.add_argument("--appointments", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--bundle", type=int, default=250)
    ap.add_argument("--max-seconds", type=float, default=120)
    args = ap.parse_args()
    args.appointments = min(args.appointments, args.slots)
    t0 = time.monotonic()
    c = Client(args.base, t0 + args.max_seconds)
    os.makedirs(args.out, exist_ok=True)

    fixture = json.load(open(FIXTURE, encoding="utf-8"))
    template = copy.deepcopy(fixture)
    template.pop("id", None)
    template.pop("meta", None)
    # Does the server take the fixture as it is? (One create; it stays in the data set.)
    status, body = c.call("POST", "/Appointment", minified(template))
    fixture_note = "fixture as is"
    if status != 201:
        print("seed.py: POST /Appointment of the fixture answered %d: %s" % (status, body[:300]),
              file=sys.stderr)
        template = fixture_without_text_token(template)
        status, body = c.call("POST", "/Appointment", minified(template))
        if status != 201:
            sys.exit("seed.py: POST /Appointment answered %d: %s" % (status, body[:300]))
        fixture_note = "fixture with reasonCode.text moved to patientInstruction"
        print("seed.py: using the " + fixture_note, file=sys.stderr)
    with open(os.path.join(args.out, "create_body.json"), "wb") as f:
        f.write(minified(template))
    with open(os.path.join(args.out, "fixture_note.txt"), "w") as f:
        f.write(fixture_note + "\n")

    schedule = {"resourceType": "Schedule", "active": True,
                "serviceType": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/service-type",
                                             "code": "394", "display": "Nephrology"}]}],
                "actor": [{"reference": "Practitioner/D1003", "display": "Dr SUN JIAN"}],
                "planningHorizon": {"start": "2026-12-02T00:00:00+08:00",
                                    "end": "2026-12-09T00:00:00+08:00"}}
    schedule_id = c.transaction([schedule], "Schedule")[0]
    with open(os.path.join(args.out, "schedule_id.txt"), "w") as f:
        f.write(schedule_id + "\n")

    def batches(n, make, what):
        ids = []
        for lo in range(0, n, args.bundle):
            hi = min(n, lo + args.bundle)
            ids += c.transaction([make(i) for i in range(lo, hi)], what)
            print("seed.py: %s %d/%d (%.1f s)" % (what, hi, n, time.monotonic() - t0),
                  file=sys.stderr, flush=True)
        return ids

    family = ["LIU", "WANG", "ZHANG", "LI", "CHEN", "YANG", "ZHAO", "HUANG"]
    patient_ids = batches(args.patients, lambda i: {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.72.5.30.2", "value": "MRN%06d" % i}],
        "name": [{"family": family[i % len(family)], "given": ["P%04d" % i]}],
        "gender": "male" if i % 2 else "female",
        "birthDate": "%04d-%02d-%02d" % (1940 + i % 60, 1 + i % 12, 1 + i % 28)}, "Patient")

    step = dt.timedelta(days=7) / max(args.slots, 1)
    step = dt.timedelta(seconds=int(step.total_seconds()))

    def slot_times(i):
        start = WEEK_START + step * i
        return start.isoformat(), (start + step).isoformat()

    def slot(i):
        start, end = slot_times(i)
        return {"resourceType": "Slot", "schedule": {"reference": "Schedule/" + schedule_id},
                "status": "busy" if i % 5 == 4 else "free", "start": start, "end": end}
    slot_ids = batches(args.slots, slot, "Slot")

    def appointment(i):
        a = copy.deepcopy(template)
        a["identifier"][0]["value"] = "APT-SEED-%06d" % i
        a["start"], a["end"] = slot_times(i)
        a["slot"] = [{"reference": "Slot/" + slot_ids[i]}]
        a["participant"][0]["actor"]["reference"] = "Patient/" + patient_ids[i % len(patient_ids)]
        return a
    appointment_ids = batches(args.appointments, appointment, "Appointment")
    with open(os.path.join(args.out, "appointment_ids.txt"), "w") as f:
        f.write("\n".join(appointment_ids) + "\n")

    status, body = c.call("GET", "/Appointment/" + appointment_ids[0])
    if status != 200:
        sys.exit("seed.py: read back answered %d" % status)
    with open(os.path.join(args.out, "read_body_bytes.txt"), "w") as f:
        f.write("%d\n" % len(body))
    print("seed.py: seeded 1 Schedule, %d Patients, %d Slots, %d Appointments in %.1f s"
          % (len(patient_ids), len(slot_ids), len(appointment_ids), time.monotonic() - t0),
          file=sys.stderr)


if __name__ == "__main__":
    main()
