# Rust crates from crates.io (USES=cargo).

# CARGO_TARGET_CACHE: cargo's build directories, one per crate, kept
# between builds (a rebuild of an unchanged crate compiles nothing).
CARGO_TARGET_CACHE=${SECTOR7_CARGO_TARGET:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sector7/cargo-target}

# cargo_install CRATE VERSION OUT_DIR [cargo install args...]: a release
# build of the published crate with its published Cargo.lock (--locked);
# the binaries land in OUT_DIR/bin.
cargo_install() {
  local crate=$1 version=$2 out=$3; shift 3
  local cargo=${CARGO:-}
  if [ -z "$cargo" ]; then
    if command -v cargo >/dev/null 2>&1; then cargo=$(command -v cargo); else cargo=${HOME:-/root}/.cargo/bin/cargo; fi
  fi
  mkdir -p "$CARGO_TARGET_CACHE/$crate"
  CARGO_TARGET_DIR="$CARGO_TARGET_CACHE/$crate" CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} \
    nice -n 10 "$cargo" install --locked --root "$out" --version "=$version" "$@" "$crate" >&2
}
