#!/usr/bin/python3
"""Simulator of k3s's helm-controller, for the simulated cluster only.

k3s's helm-controller installs charts with helm in a Job, merging each
HelmChart's values with its HelmChartConfig's valuesContent.  No chart can
be installed here, so this simulator applies the one effect sector7 relies
on: for the Traefik chart, the HelmChartConfig's `service.annotations` and
`service.spec` end up on the Service kube-system/traefik.  It polls every
second and writes with server-side apply (field manager helm-controller-sim).

    helm-controller-sim.py SERVER CA CERT KEY
"""
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

import yaml

SERVER, CA, CERT, KEY = sys.argv[1:5]
CTX = ssl.create_default_context(cafile=CA)
CTX.load_cert_chain(CERT, KEY)

CHARTS = {"traefik": ("kube-system", "traefik")}   # chart -> its Service


def call(method, path, body=None, ctype=None):
    req = urllib.request.Request(SERVER + path, method=method, data=body)
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        return json.load(r)


def sync():
    try:
        cfgs = call("GET", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs")
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return          # CRDs not there yet
        raise
    for cfg in cfgs.get("items", []):
        name = cfg["metadata"]["name"]
        if name not in CHARTS:
            continue
        values = yaml.safe_load(cfg.get("spec", {}).get("valuesContent") or "") or {}
        svc = values.get("service") or {}
        ns, svc_name = CHARTS[name]
        patch = {"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": svc_name, "namespace": ns,
                              "annotations": svc.get("annotations") or {}},
                 "spec": svc.get("spec") or {}}
        call("PATCH", "/api/v1/namespaces/%s/services/%s?fieldManager=helm-controller-sim&force=true"
             % (ns, svc_name), json.dumps(patch).encode(), "application/apply-patch+yaml")


while True:
    try:
        sync()
    except Exception as e:      # keep going: the API server may restart
        print("helm-controller-sim: %s" % e, file=sys.stderr, flush=True)
    time.sleep(1)
