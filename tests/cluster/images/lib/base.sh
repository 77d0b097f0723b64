# Shared by every recipe (always in the hash).


log() { echo "images: $*" >&2; }
fail() { echo "images: $*" >&2; exit 1; }

# write_config: the image's run-time settings from IMG_* variables into
# $WORK/config.json.  IMG_ENTRYPOINT and IMG_CMD are JSON arrays (or empty),
# IMG_ENV one NAME=VALUE per line, IMG_PORTS "6379/tcp ...".
write_config() {
  IMG_USER=${IMG_USER:-} IMG_WORKDIR=${IMG_WORKDIR:-} IMG_ENV=${IMG_ENV:-} \
  IMG_ENTRYPOINT=${IMG_ENTRYPOINT:-} IMG_CMD=${IMG_CMD:-} IMG_PORTS=${IMG_PORTS:-} \
  IMG_VERSION=${VERSION:-} IMG_SOURCE=${SOURCE:-} \
  python3 - "$WORK/config.json" <<'EOF'
import json, os, sys
e = os.environ
c = {}
if e["IMG_USER"]: c["User"] = e["IMG_USER"]
if e["IMG_WORKDIR"]: c["WorkingDir"] = e["IMG_WORKDIR"]
env = [l for l in e["IMG_ENV"].splitlines() if l.strip()]
if not any(l.startswith("PATH=") for l in env):
    env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
c["Env"] = env
if e["IMG_ENTRYPOINT"]: c["Entrypoint"] = json.loads(e["IMG_ENTRYPOINT"])
if e["IMG_CMD"]: c["Cmd"] = json.loads(e["IMG_CMD"])
ports = e["IMG_PORTS"].split()
if ports: c["ExposedPorts"] = {p: {} for p in ports}
c["Labels"] = {"org.opencontainers.image.version": e["IMG_VERSION"],
               "org.opencontainers.image.source": e["IMG_SOURCE"]}
json.dump(c, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF
}

