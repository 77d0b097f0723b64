#!/usr/bin/env python3
"""An OCI runtime spec for `ctr run --config`, as a kubelet would ask for it.

    spec.py DEFAULT_SPEC ARCHIVE ROOTFS NOFILE [--mount SRC:DST:rw|ro]... [--env K=V]... [-- ARGS...]

Unpacks ARCHIVE's layers into ROOTFS (once), and prints a spec that runs
the image's entrypoint + command (or ARGS as the command, as a Pod's
`args`), with its user, env and working directory, a read-only root, the
host's network namespace, the binds given, and RLIMIT_NOFILE=NOFILE.
(ctr 1.6 sets NOFILE to 1024 and has no --user; the CRI plugin leaves the
runtime's limit and the kubelet sets the user.)
"""
import io, json, os, sys, tarfile

default, archive, rootfs, nofile = sys.argv[1:5]
rest = sys.argv[5:]
mounts, env, args = [], [], None
while rest:
    a = rest.pop(0)
    if a == "--mount":
        src, dst, mode = rest.pop(0).split(":")
        mounts.append({"destination": dst, "type": "bind", "source": src,
                       "options": ["rbind", mode]})
    elif a == "--env":
        env.append(rest.pop(0))
    elif a == "--":
        args = rest
        rest = []
t = tarfile.open(archive)
idx = json.load(t.extractfile("index.json"))
blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":")[1])
man = json.load(blob(idx["manifests"][0]["digest"]))
cfg = json.load(blob(man["config"]["digest"]))["config"]
if not os.path.exists(os.path.join(rootfs, ".unpacked")):
    for l in man["layers"]:
        with tarfile.open(fileobj=blob(l["digest"]), mode="r|gz") as lt:
            lt.extractall(rootfs, numeric_owner=True)
    open(os.path.join(rootfs, ".unpacked"), "w").close()
spec = json.load(open(default))
p = spec["process"]
p["args"] = (cfg.get("Entrypoint") or []) + (args if args is not None else (cfg.get("Cmd") or []))
p["env"] = cfg.get("Env", []) + env
p["cwd"] = cfg.get("WorkingDir") or "/"
uid, _, gid = (cfg.get("User") or "0:0").partition(":")
p["user"] = {"uid": int(uid), "gid": int(gid or uid)}
p["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": int(nofile), "soft": int(nofile)}]
p["terminal"] = False
spec["root"] = {"path": os.path.abspath(rootfs), "readonly": True}
spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "network"]
spec["mounts"] += mounts
print(json.dumps(spec))
