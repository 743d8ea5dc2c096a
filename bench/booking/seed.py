#!/usr/bin/env python3
"""Seeds the booking benchmark through the gateway's own transaction Bundles: one doctor's
Schedule, PATIENTS Patients with hospital ids, and SLOTS free Slots of 15 minutes from
tomorrow 08:00 (+08:00) over six days, several numbers per slice, all in the general pool. Writes
slot_ids.txt and patient_ids.txt (one id a line) to OUT.

    seed.py http://127.0.0.1:PORT/fhir OUT --slots 30000 --patients 2000
"""
import argparse
import datetime as dt
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fhir"))
from seed import Client  # noqa: E402  (the FHIR bench's loopback-only client)

TZ = dt.timezone(dt.timedelta(hours=8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("out")
    ap.add_argument("--slots", type=int, default=30000)
    ap.add_argument("--patients", type=int, default=2000)
    ap.add_argument("--bundle", type=int, default=500)
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.monotonic()
    c = Client(args.base, t0 + args.max_seconds)
    schedule = {"resourceType": "Schedule", "active": True,
                "actor": [{"reference": "Practitioner/D2001", "display": "Dr WANG"}],
                "specialty": [{"coding": [{"system": "http://snomed.info/sct",
                                           "code": "394589003"}]}]}
    schedule_id = c.transaction([schedule], "Schedule")[0]

    def batches(n, make, what):
        ids = []
        for lo in range(0, n, args.bundle):
            hi = min(n, lo + args.bundle)
            ids += c.transaction([make(i) for i in range(lo, hi)], what)
            print("seed.py: %s %d/%d (%.1f s)" % (what, hi, n, time.monotonic() - t0),
                  file=sys.stderr, flush=True)
        return ids

    patients = batches(args.patients, lambda i: {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:2.16.156.10011.1.11", "value": "MZ%07d" % i}],
        "name": [{"text": "患者%05d" % i}]}, "Patient")
    tomorrow = (dt.datetime.now(TZ) + dt.timedelta(days=1)).replace(
        hour=8, minute=0, second=0, microsecond=0)
    # 36 slices a day (08:00-17:00) over 6 days, so that every Slot is inside the default
    # 7-day booking window; as many numbers per slice as that takes.
    per_slice = max(1, -(-args.slots // (36 * 6)))

    def slot(i):
        slice_index = i // per_slice
        day, in_day = divmod(slice_index, 36)
        start = tomorrow + dt.timedelta(days=day, minutes=15 * in_day)
        return {"resourceType": "Slot", "schedule": {"reference": "Schedule/" + schedule_id},
                "meta": {"tag": [{"system": "urn:hl7gw:slot-pool", "code": "general"}]},
                "status": "free", "start": start.isoformat(),
                "end": (start + dt.timedelta(minutes=15)).isoformat()}
    slots = batches(args.slots, slot, "Slot")
    with open(os.path.join(args.out, "slot_ids.txt"), "w") as f:
        f.write("\n".join(slots) + "\n")
    with open(os.path.join(args.out, "patient_ids.txt"), "w") as f:
        f.write("\n".join(patients) + "\n")
    with open(os.path.join(args.out, "window.txt"), "w") as f:
        f.write(tomorrow.isoformat() + "\n")


if __name__ == "__main__":
    main()
