//go:build tools

// Package tools pins local-path-provisioner (its main package is the module root).
package tools

import (
	_ "github.com/rancher/local-path-provisioner"
)
