#!/usr/bin/python3
"""Helpers of the fault suite (tests/fault/run.sh).

  check.py snapshot KUBECTL OUT      PVCs (UIDs) and credential Secrets (UIDs
                                     and a sha256 of each value) as JSON;
                                     values are hashed here, never printed
  check.py compare BASE NOW          names what changed (no values); exit 1
  check.py requests LOG T0 T1        what the proxy saw between T0 and T1:
                                     requests, the busiest second, faults
  check.py summary RESULTS           min / median / max of each column
"""
import collections
import hashlib
import json
import subprocess
import sys


def kubectl(k, *args):
    out = subprocess.run([k, *args], check=True, capture_output=True).stdout
    return json.loads(out)


def snapshot(k, out):
    snap = {"pvcs": {}, "secrets": {}}
    for p in kubectl(k, "get", "pvc", "-A", "-o", "json")["items"]:
        m = p["metadata"]
        snap["pvcs"]["%s/%s" % (m["namespace"], m["name"])] = m["uid"]
    for s in kubectl(k, "get", "secret", "-A", "-l", "sector7.io/credential=true",
                     "-o", "json")["items"]:
        m = s["metadata"]
        snap["secrets"]["%s/%s" % (m["namespace"], m["name"])] = {
            "uid": m["uid"],
            "values": {key: hashlib.sha256(v.encode()).hexdigest()
                       for key, v in (s.get("data") or {}).items()}}
    with open(out, "w") as f:
        json.dump(snap, f, indent=1, sort_keys=True)
    print("%d PVCs, %d credential Secrets (%d values)" % (
        len(snap["pvcs"]), len(snap["secrets"]),
        sum(len(s["values"]) for s in snap["secrets"].values())))


def compare(a, b):
    base, now = json.load(open(a)), json.load(open(b))
    bad = []
    for kind in ("pvcs", "secrets"):
        for name in sorted(set(base[kind]) | set(now[kind])):
            if name not in now[kind]:
                bad.append("%s %s is gone" % (kind[:-1], name))
            elif name not in base[kind]:
                bad.append("%s %s is new" % (kind[:-1], name))
            elif kind == "pvcs" and base[kind][name] != now[kind][name]:
                bad.append("PVC %s was replaced (new UID)" % name)
            elif kind == "secrets":
                x, y = base[kind][name], now[kind][name]
                if x["uid"] != y["uid"]:
                    bad.append("Secret %s was replaced (new UID)" % name)
                for key in sorted(set(x["values"]) | set(y["values"])):
                    if x["values"].get(key) != y["values"].get(key):
                        bad.append("Secret %s key %s changed" % (name, key))
    for line in bad:
        print("changed: " + line)
    return 1 if bad else 0


def requests(log, t0, t1):
    t0, t1 = float(t0), float(t1)
    per_sec = collections.Counter()
    faults = collections.Counter()
    watches = n = 0
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            if not t0 <= r["t"] <= t1:
                continue
            n += 1
            per_sec[int(r["t"])] += 1
            if "watch=1" in r["p"]:
                watches += 1
            if r["f"]:
                faults[r["f"]] += 1
    secs = max(t1 - t0, 0.001)
    print(json.dumps({"requests": n, "watches": watches,
                      "rps": round(n / secs, 1),
                      "max_per_second": max(per_sec.values()) if per_sec else 0,
                      "faults": sum(faults.values()),
                      "by_fault": dict(sorted(faults.items()))}))


def summary(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
    head, rows = rows[0], rows[1:]
    print("%-18s %10s %10s %10s" % ("column", "min", "median", "max"))
    for i, h in enumerate(head):
        try:
            v = sorted(float(r[i]) for r in rows)
        except (ValueError, IndexError):
            continue
        if not v:
            continue
        print("%-18s %10g %10g %10g" % (h, v[0], v[len(v) // 2], v[-1]))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "snapshot":
        snapshot(*args)
    elif cmd == "compare":
        sys.exit(compare(*args))
    elif cmd == "requests":
        requests(*args)
    elif cmd == "summary":
        summary(*args)
    else:
        sys.exit("unknown command " + cmd)
