#!/usr/bin/env python3
"""Write a one-layer OCI image-layout tarball from a directory tree.

    oci-image.py ROOTFS REF OUT.tar [--entrypoint JSON] [--cmd JSON] [--env K=V]...

The layer holds ROOTFS's files owned by root with mtime 0 (so the same tree
gives the same digests); index.json names the manifest with the
org.opencontainers.image.ref.name annotation REF (a full reference, e.g.
docker.io/library/busybox:latest), which is the name `ctr images import`
gives the image.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def layer_tar(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                info = t.gettarinfo(path, arcname=os.path.relpath(path, root))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isfile():
                    with open(path, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def blob(blobs, data):
    d = hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return "sha256:" + d


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    root, ref, out = argv[1], argv[2], argv[3]
    entrypoint, cmd, env = None, None, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    rest = argv[4:]
    while rest:
        opt, val, rest = rest[0], rest[1], rest[2:]
        if opt == "--entrypoint":
            entrypoint = json.loads(val)
        elif opt == "--cmd":
            cmd = json.loads(val)
        elif opt == "--env":
            env.append(val)
        else:
            sys.exit("oci-image.py: unknown option " + opt)

    raw = layer_tar(root)
    gz = gzip.compress(raw, mtime=0)
    blobs = {}
    layer = blob(blobs, gz)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": env},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
        "history": [{"created_by": "tests/cluster/realnode/image/oci-image.py"}],
    }
    if entrypoint is not None:
        config["config"]["Entrypoint"] = entrypoint
    if cmd is not None:
        config["config"]["Cmd"] = cmd
    cfg = json.dumps(config, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blob(blobs, cfg), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer, "size": len(gz)}],
    }
    man = json.dumps(manifest, sort_keys=True).encode()
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": blob(blobs, man), "size": len(man),
                       "platform": {"architecture": "amd64", "os": "linux"},
                       "annotations": {"org.opencontainers.image.ref.name": ref}}],
    }
    files = [("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
             ("index.json", json.dumps(index, sort_keys=True).encode())]
    files += [("blobs/sha256/" + d, data) for d, data in sorted(blobs.items())]
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as t:
        for d in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            t.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            t.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv)
