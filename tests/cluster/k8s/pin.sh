#!/usr/bin/env bash
# Regenerate go.mod/go.sum of this wrapper module for another Kubernetes release.
# Not run by build.sh: the committed go.mod/go.sum are the pin. Usage: ./pin.sh v1.36.3
set -euo pipefail
K8S=${1:?usage: pin.sh vX.Y.Z}
STG="v0.${K8S#v1.}"
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH" GOFLAGS=-mod=mod
rm -f go.mod go.sum
go mod init sector7.invalid/tests/cluster/k8s
# k/k requires every staging module at v0.0.0 and maps it to ./staging; replaces in a
# dependency are ignored, so this main module maps each one to its published tag.
KKMOD=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
for m in $(sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*|\1|p' "$KKMOD"); do
  go mod edit -replace="$m=$m@$STG"
done
GOV=$(sed -n 's/^go \(.*\)$/\1/p' "$KKMOD"); go mod edit -go="$GOV"
GD=$(sed -n 's/^godebug default=\(.*\)$/\1/p' "$KKMOD"); [ -z "$GD" ] || go mod edit -godebug="default=$GD"
go get "k8s.io/kubernetes@$K8S"
go mod tidy
go list -m k8s.io/kubernetes go.etcd.io/etcd/server/v3
