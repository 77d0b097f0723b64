#!/usr/bin/env python3
"""Pack a root filesystem directory into an OCI image-layout tar archive.

    oci.py --rootfs DIR --config CONFIG.json --ref REF [--ref REF]... OUT.tar

CONFIG.json holds the image's run-time settings, as in the OCI image
config's "config" object (User, Env, Entrypoint, Cmd, WorkingDir,
ExposedPorts, Labels); --annotation K=V adds manifest annotations.

The layer is one gzip-compressed tar of DIR, made reproducible: entries
sorted by name, every mtime set to SOURCE_DATE_EPOCH (default 0), numeric
owners as they are on disk, no atime/ctime.  The same DIR and settings give
the same bytes, so the same digests.

index.json names the manifest once per --ref: `io.containerd.image.name`
holds the full reference (containerd's `ctr images import` uses it as the
image name as it stands), and `org.opencontainers.image.ref.name` the same
full reference (what other OCI tools read).
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def die(msg):
    sys.stderr.write("oci.py: %s\n" % msg)
    sys.exit(1)


def make_layer(rootfs, epoch, workdir):
    """Return (path, digest, size, diff_id) of the compressed layer."""
    path = os.path.join(workdir, "layer.tar.gz")
    tar_cmd = ["tar", "--sort=name", "--mtime=@%d" % epoch, "--numeric-owner",
               "--format=posix",
               "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
               "--xattrs", "--xattrs-include=security.capability",
               "-C", rootfs, "-cf", "-", "."]
    gz_cmd = ["pigz", "-n", "-6", "-c"] if has("pigz") else ["gzip", "-n", "-6", "-c"]
    diff = hashlib.sha256()
    comp = hashlib.sha256()
    size = 0
    with open(path, "wb") as out:
        tar = subprocess.Popen(tar_cmd, stdout=subprocess.PIPE)
        gz = subprocess.Popen(gz_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        # Feed tar's output to the compressor while hashing it; read the
        # compressor's output in a thread so neither pipe fills up.
        import threading

        def drain():
            nonlocal size
            while True:
                b = gz.stdout.read(1 << 20)
                if not b:
                    break
                comp.update(b)
                size += len(b)
                out.write(b)

        t = threading.Thread(target=drain)
        t.start()
        while True:
            b = tar.stdout.read(1 << 20)
            if not b:
                break
            diff.update(b)
            gz.stdin.write(b)
        gz.stdin.close()
        t.join()
        if tar.wait() != 0:
            die("tar failed")
        if gz.wait() != 0:
            die("compression failed")
    return path, "sha256:" + comp.hexdigest(), size, "sha256:" + diff.hexdigest()


def has(cmd):
    return any(os.access(os.path.join(d, cmd), os.X_OK)
               for d in os.environ.get("PATH", "").split(":") if d)


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--ref", action="append", required=True)
    ap.add_argument("--annotation", action="append", default=[])
    ap.add_argument("out")
    a = ap.parse_args()

    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    created = "1970-01-01T00:00:00Z" if epoch == 0 else \
        __import__("datetime").datetime.utcfromtimestamp(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(a.config) as f:
        runcfg = json.load(f)
    annotations = {}
    for kv in a.annotation:
        k, sep, v = kv.partition("=")
        if not sep:
            die("annotation without '=': %s" % kv)
        annotations[k] = v

    outdir = os.path.dirname(os.path.abspath(a.out))
    with tempfile.TemporaryDirectory(dir=outdir, prefix=".oci-") as tmp:
        lpath, ldigest, lsize, diff_id = make_layer(a.rootfs, epoch, tmp)
        config = {
            "created": created,
            "architecture": "amd64",
            "os": "linux",
            "config": runcfg,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created,
                         "created_by": annotations.get("org.opencontainers.image.description",
                                                       "tests/cluster/images")}],
        }
        cbytes = canon(config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": blob(cbytes), "size": len(cbytes)},
            "layers": [{"mediaType": MT_LAYER, "digest": ldigest, "size": lsize}],
        }
        if annotations:
            manifest["annotations"] = annotations
        mbytes = canon(manifest)
        mdesc = {"mediaType": MT_MANIFEST, "digest": blob(mbytes), "size": len(mbytes),
                 "platform": {"architecture": "amd64", "os": "linux"}}
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": []}
        for ref in a.ref:
            d = dict(mdesc)
            d["annotations"] = {"io.containerd.image.name": ref,
                                "org.opencontainers.image.ref.name": ref}
            index["manifests"].append(d)
        ibytes = canon(index)

        part = a.out + ".part"
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as t:
            def add_bytes(name, data):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                ti.mtime = epoch
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))

            def add_dir(name):
                ti = tarfile.TarInfo(name)
                ti.type = tarfile.DIRTYPE
                ti.mtime = epoch
                ti.mode = 0o755
                t.addfile(ti)

            add_bytes("oci-layout", canon({"imageLayoutVersion": "1.0.0"}))
            add_dir("blobs")
            add_dir("blobs/sha256")
            blobs = sorted([(ldigest, lpath, None), (blob(cbytes), None, cbytes),
                            (blob(mbytes), None, mbytes)])
            for digest, path, data in blobs:
                name = "blobs/sha256/" + digest.split(":", 1)[1]
                if data is not None:
                    add_bytes(name, data)
                else:
                    ti = tarfile.TarInfo(name)
                    ti.size = os.path.getsize(path)
                    ti.mtime = epoch
                    ti.mode = 0o644
                    with open(path, "rb") as f:
                        t.addfile(ti, f)
            add_bytes("index.json", ibytes)
        os.replace(part, a.out)
    print(json.dumps({"manifest": blob(mbytes), "config": blob(cbytes), "layer": ldigest,
                      "layer_size": lsize}))


if __name__ == "__main__":
    main()
