//go:build tools

// The traefik command, built from the pinned module.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
