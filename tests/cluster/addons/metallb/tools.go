//go:build tools

// Package tools pins the MetalLB controller (never the speaker).
package tools

import (
	_ "go.universe.tf/metallb/controller"
)
