// Command cert-manager-controller runs cert-manager's own controllers (from the
// github.com/cert-manager/cert-manager module) out of cluster against the
// simulated cluster. cert-manager's controller binary lives in a nested module
// (cmd/controller) that the Go module proxy does not serve, so this small main
// does its wiring: build the shared controller context, construct the enabled
// controllers, start the informers.
//
// Only the CA and SelfSigned issuer types are linked in. The ACME issuer type,
// the ACME order/challenge controllers and the Vault/Venafi issuers are not
// registered, so nothing here ever talks to an ACME server or any other
// endpoint besides the API server in the kubeconfig. An ACME (Cluster)Issuer
// simply never becomes Ready.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"k8s.io/klog/v2"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	// Controllers (each registers itself with controllerpkg in init).
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// Issuer types: CA and SelfSigned only.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

func main() {
	var (
		kubeconfig  = flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the API server")
		clusterNS   = flag.String("cluster-resource-namespace", "cert-manager", "namespace of the Secrets that ClusterIssuers refer to")
		namespace   = flag.String("namespace", "", "only watch this namespace (default: all)")
		controllers = flag.String("controllers", "*", "comma-separated controllers to run; * = all linked in (see -list)")
		workers     = flag.Int("workers", 5, "workers per controller")
		list        = flag.Bool("list", false, "print the linked-in controllers and exit")
		issuerName  = flag.String("default-issuer-name", "", "ingress-shim: issuer for Ingresses annotated kubernetes.io/tls-acme")
		issuerKind  = flag.String("default-issuer-kind", "Issuer", "ingress-shim: kind of that issuer")
		issuerGroup = flag.String("default-issuer-group", "cert-manager.io", "ingress-shim: group of that issuer")
	)
	klog.InitFlags(nil)
	flag.Parse()
	logf.InitLogs()
	defer logf.FlushLogs()

	known := controllerpkg.Known()
	var names []string
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	if *list {
		fmt.Println(strings.Join(names, "\n"))
		return
	}
	enabled := map[string]bool{}
	for _, c := range strings.Split(*controllers, ",") {
		c = strings.TrimSpace(c)
		switch {
		case c == "*":
			for _, n := range names {
				enabled[n] = true
			}
		case strings.HasPrefix(c, "-"):
			delete(enabled, c[1:])
		case c != "":
			if _, ok := known[c]; !ok {
				fmt.Fprintf(os.Stderr, "unknown controller %q (linked in: %s)\n", c, strings.Join(names, ","))
				os.Exit(2)
			}
			enabled[c] = true
		}
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx = logf.NewContext(ctx, logf.Log, "controller")
	log := logf.FromContext(ctx)

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Namespace:          *namespace,
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace:        *clusterNS,
			ClusterIssuerAmbientCredentials: true,
		},
		IngressShimOptions: controllerpkg.IngressShimOptions{
			DefaultIssuerName:                 *issuerName,
			DefaultIssuerKind:                 *issuerKind,
			DefaultIssuerGroup:                *issuerGroup,
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
		},
		CertificateOptions: controllerpkg.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: 3600e9,  // 1h, as upstream
			CertificateRequestMaximumBackoffDuration: 32 * 3600e9,
		},
	})
	if err != nil {
		log.Error(err, "building controller context")
		os.Exit(1)
	}
	shared, err := factory.Build()
	if err != nil {
		log.Error(err, "building controller context")
		os.Exit(1)
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for _, n := range names {
		if !enabled[n] {
			continue
		}
		if *namespace != "" && n == "clusterissuers" {
			continue
		}
		iface, err := known[n](factory)
		if err != nil {
			log.Error(err, "constructing controller", "controller", n)
			os.Exit(1)
		}
		log.Info("starting controller", "controller", n)
		wg.Add(1)
		go func(n string, c controllerpkg.Interface) {
			defer wg.Done()
			if err := c.Run(*workers, ctx); err != nil {
				errs <- fmt.Errorf("controller %s: %w", n, err)
				cancel()
			}
		}(n, iface)
	}
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	wg.Wait()
	close(errs)
	rc := 0
	for err := range errs {
		log.Error(err, "controller failed")
		rc = 1
	}
	os.Exit(rc)
}
