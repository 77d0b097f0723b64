# Go builds (USES=go).

# go_build MODULE_DIR OUT_DIR PKG... : a static Go build in a pinned wrapper
# module (go.mod + go.sum in the recipe), Go modules from the proxy.
go_build() {
  local dir=$1 out=$2; shift 2
  local go=${GO:-}
  if [ -z "$go" ]; then
    if command -v go >/dev/null 2>&1; then go=$(command -v go); else go=/usr/local/go/bin/go; fi
  fi
  mkdir -p "$out"
  ( cd "$dir" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
      nice -n 10 "$go" build -trimpath ${GO_LDFLAGS:+-ldflags "$GO_LDFLAGS"} ${GO_TAGS:+-tags "$GO_TAGS"} \
      -o "$out/" "$@" ) >&2
}

