//go:build tools

// The operator's manager binary, built from the pinned module.
package tools

import _ "github.com/cloudnative-pg/cloudnative-pg/cmd/manager"
