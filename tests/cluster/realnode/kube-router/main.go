// Command kube-router-netpol runs only kube-router's network policy controller,
// the way k3s embeds it: pod, namespace and NetworkPolicy informers feed
// kube-router's own controller (package netpol), which programs iptables and
// ipsets on this node. Its routing, service proxy and load balancer
// controllers are not linked in. Flags are kube-router's own
// (--kubeconfig, --hostname-override, --service-cluster-ip-range,
// --service-node-port-range, --iptables-sync-period, -v ...).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/cloudnativelabs/kube-router/v2/pkg/controllers/netpol"
	"github.com/cloudnativelabs/kube-router/v2/pkg/healthcheck"
	"github.com/cloudnativelabs/kube-router/v2/pkg/options"
	"github.com/spf13/pflag"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "kube-router-netpol: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	klog.InitFlags(nil)
	config := options.NewKubeRouterConfig()
	config.AddFlags(pflag.CommandLine)
	pflag.Parse()
	if err := flag.Set("logtostderr", "true"); err != nil {
		return err
	}
	if err := flag.Set("v", config.VLevel); err != nil {
		return err
	}
	if config.Kubeconfig == "" || config.HostnameOverride == "" {
		return fmt.Errorf("--kubeconfig and --hostname-override are required")
	}

	rc, err := clientcmd.BuildConfigFromFlags(config.Master, config.Kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}

	stop := make(chan struct{})
	factory := informers.NewSharedInformerFactory(client, 0)
	pods := factory.Core().V1().Pods().Informer()
	namespaces := factory.Core().V1().Namespaces().Informer()
	policies := factory.Networking().V1().NetworkPolicies().Informer()
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, pods.HasSynced, namespaces.HasSynced, policies.HasSynced) {
		return fmt.Errorf("informer caches did not sync")
	}

	ipt, ipsets, err := netpol.NewIPTablesHandlers(config)
	if err != nil {
		return err
	}
	var ipsetMutex sync.Mutex
	npc, err := netpol.NewNetworkPolicyController(client, config, pods, policies, namespaces,
		&ipsetMutex, ipt, ipsets)
	if err != nil {
		return err
	}
	for _, h := range []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{{pods, npc.PodEventHandler}, {namespaces, npc.NamespaceEventHandler}, {policies, npc.NetworkPolicyEventHandler}} {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return err
		}
	}

	// The controller reports heartbeats; nobody checks them here.
	health := make(chan *healthcheck.ControllerHeartbeat, 10)
	go func() {
		for range health {
		}
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go npc.Run(health, stop, &wg)
	klog.Infof("network policy controller running for node %s", config.HostnameOverride)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	close(stop)
	wg.Wait()
	return nil
}
