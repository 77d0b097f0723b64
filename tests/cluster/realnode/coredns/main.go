// Command coredns is CoreDNS (github.com/coredns/coredns, version in go.mod)
// with only the plugins the test node's cluster DNS uses linked in: bind,
// errors, log, health, ready, kubernetes, cache and template. The server,
// its Corefile parser and the plugins are CoreDNS's own; leaving out the
// cloud, etcd and forwarding plugins keeps the build small and makes sure
// nothing is ever forwarded off the machine.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/template"
)

func main() { coremain.Run() }
