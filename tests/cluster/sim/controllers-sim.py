#!/usr/bin/python3
"""Simulators for controllers that cannot run in the simulated cluster.

Each mode plays the one effect of a controller that sector7 relies on,
polling every second and writing with server-side apply (field manager
controllers-sim).  Nothing here runs a workload.

  helm      k3s's helm-controller installs charts with helm in a Job,
            merging a HelmChart's values with its HelmChartConfig.  For
            the Traefik chart, the HelmChartConfig's service.annotations
            and service.spec end up on the Service kube-system/traefik,
            and the values that become Traefik's arguments (the web entry
            point's redirection, the entry points' responding timeouts)
            on the Deployment, after the chart's own arguments
            (k3s-packaged.yaml).
  longhorn  longhorn-manager creates the StorageClass written in the
            ConfigMap longhorn-system/longhorn-storageclass.  Here it is
            created with binding WaitForFirstConsumer, because its volumes
            are provisioned by local-path-provisioner registered as
            driver.longhorn.io (the longhorn add-on), which needs a node.
  cnpg      the CloudNativePG operator runs PostgreSQL in the Cluster's
            pods and reports on it.  Here each Cluster gets its -rw, -ro
            and -r Services and a Ready status, and each Database is
            marked applied.  No PostgreSQL runs.

    controllers-sim.py SERVER CA CERT KEY MODE[,MODE...]
"""
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

import yaml

SERVER, CA, CERT, KEY, MODES = sys.argv[1:6]
MODES = MODES.split(",")
CTX = ssl.create_default_context(cafile=CA)
CTX.load_cert_chain(CERT, KEY)
MANAGER = "controllers-sim"


def call(method, path, body=None, ctype=None):
    req = urllib.request.Request(SERVER + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        return json.load(r)


def get(path):
    try:
        return call("GET", path)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None     # not installed (yet)
        raise


def apply(path, obj):
    return call("PATCH", "%s?fieldManager=%s&force=true" % (path, MANAGER), obj,
                "application/apply-patch+yaml")


def chart_args():
    """The Traefik Deployment's arguments as k3s-packaged.yaml has them."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "k3s-packaged.yaml")) as f:
        for d in yaml.safe_load_all(f):
            if d and d.get("kind") == "Deployment" and d["metadata"]["name"] == "traefik":
                return d["spec"]["template"]["spec"]["containers"][0]["args"]
    return []


EXPOSED = {"web": 80, "websecure": 443}


def traefik_args(values):
    """The arguments the chart adds for the values sector7 sets."""
    out = []
    for name, port in sorted((values.get("ports") or {}).items()):
        port = port or {}
        red = ((port.get("redirections") or {}).get("entryPoint")) or {}
        if red.get("to"):
            to = red["to"]
            out.append("--entryPoints.%s.http.redirections.entryPoint.to=%s" %
                       (name, ":%d" % EXPOSED[to] if to in EXPOSED else to))
            if red.get("scheme"):
                out.append("--entryPoints.%s.http.redirections.entryPoint.scheme=%s" %
                           (name, red["scheme"]))
            if red.get("permanent"):
                out.append("--entryPoints.%s.http.redirections.entryPoint.permanent=true" % name)
        tmo = ((port.get("transport") or {}).get("respondingTimeouts")) or {}
        for k in sorted(tmo):
            out.append("--entryPoints.%s.transport.respondingTimeouts.%s=%s" % (name, k, tmo[k]))
    return out


def helm():
    cfgs = get("/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs")
    for cfg in (cfgs or {}).get("items", []):
        if cfg["metadata"]["name"] != "traefik":
            continue
        values = yaml.safe_load(cfg.get("spec", {}).get("valuesContent") or "") or {}
        svc = values.get("service") or {}
        apply("/api/v1/namespaces/kube-system/services/traefik",
              {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "traefik", "namespace": "kube-system",
                            "annotations": svc.get("annotations") or {}},
               "spec": svc.get("spec") or {}})
        extra = traefik_args(values)
        if extra:
            apply("/apis/apps/v1/namespaces/kube-system/deployments/traefik",
                  {"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "traefik", "namespace": "kube-system"},
                   "spec": {"template": {"spec": {"containers": [
                       {"name": "traefik", "args": chart_args() + extra}]}}}})


def longhorn():
    cm = get("/api/v1/namespaces/longhorn-system/configmaps/longhorn-storageclass")
    if not cm:
        return
    sc = yaml.safe_load(cm.get("data", {}).get("storageclass.yaml") or "") or {}
    name = sc.get("metadata", {}).get("name")
    if not name:
        return
    sc["volumeBindingMode"] = "WaitForFirstConsumer"
    sc.setdefault("metadata", {}).setdefault("labels", {})["sim.sector7.dev/from"] = \
        "longhorn-storageclass"
    path = "/apis/storage.k8s.io/v1/storageclasses/" + name
    live = get(path)
    if live and live.get("volumeBindingMode") != "WaitForFirstConsumer":
        call("DELETE", path)    # the binding mode cannot change in place
    apply(path, sc)


def cnpg():
    clusters = get("/apis/postgresql.cnpg.io/v1/clusters")
    for c in (clusters or {}).get("items", []):
        ns, name = c["metadata"]["namespace"], c["metadata"]["name"]
        for suffix, role in (("rw", "primary"), ("ro", "replica"), ("r", None)):
            sel = {"cnpg.io/cluster": name}
            if role:
                sel["cnpg.io/instanceRole"] = role
            apply("/api/v1/namespaces/%s/services/%s-%s" % (ns, name, suffix),
                  {"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "%s-%s" % (name, suffix), "namespace": ns,
                                "labels": {"cnpg.io/cluster": name}},
                   "spec": {"selector": sel,
                            "ports": [{"name": "postgres", "port": 5432,
                                       "targetPort": 5432}]}})
        n = c.get("spec", {}).get("instances", 1)
        gen = c["metadata"].get("generation", 1)
        status = {"instances": n, "readyInstances": n,
                  "phase": "Cluster in healthy state",
                  "conditions": [{"type": "Ready", "status": "True",
                                  "reason": "ClusterIsReady",
                                  "message": "Cluster is Ready (simulated)",
                                  "lastTransitionTime": "2026-01-01T00:00:00Z",
                                  "observedGeneration": gen}]}
        apply("/apis/postgresql.cnpg.io/v1/namespaces/%s/clusters/%s/status" % (ns, name),
              {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
               "metadata": {"name": name, "namespace": ns}, "status": status})
    dbs = get("/apis/postgresql.cnpg.io/v1/databases")
    for d in (dbs or {}).get("items", []):
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        apply("/apis/postgresql.cnpg.io/v1/namespaces/%s/databases/%s/status" % (ns, name),
              {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database",
               "metadata": {"name": name, "namespace": ns},
               "status": {"applied": True, "observedGeneration":
                          d["metadata"].get("generation", 1)}})


STEPS = {"helm": helm, "longhorn": longhorn, "cnpg": cnpg}

while True:
    for mode in MODES:
        try:
            STEPS[mode]()
        except Exception as e:      # keep going: the API server may restart
            print("controllers-sim %s: %s" % (mode, e), file=sys.stderr, flush=True)
    time.sleep(1)
