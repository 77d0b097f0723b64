//go:build tools

// Package tools pins the kwok controller. It lives in its own module so that
// its newer grpc/otel/x/* requirements do not move the Kubernetes build.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
