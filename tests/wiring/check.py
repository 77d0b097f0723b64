#!/usr/bin/python3
"""Checks the wiring of a rendered site (the output of `sector7 render -o DIR`).

    check.py DIR SITE.yaml [CHECK.json]

Rules every rendered object must follow (docs/apps.md), then rules per
application.  Prints one line per violation and exits 1 if there is any.
"""
import glob
import os
import re
import sys

import yaml

DIR, SITE = sys.argv[1], sys.argv[2]
site = yaml.safe_load(open(SITE))
problems = []


def bad(obj, msg):
    md = obj.get("metadata", {})
    ns = md.get("namespace")
    problems.append("%s %s%s: %s" % (obj.get("kind"), ns + "/" if ns else "",
                                     md.get("name"), msg))


objs = []
for path in sorted(glob.glob(os.path.join(DIR, "manifests", "*", "*.yaml"))):
    comp = os.path.basename(os.path.dirname(path)).split("-", 1)[1]
    o = yaml.safe_load(open(path))
    o["_component"] = comp
    o["_upstream"] = None
    objs.append(o)
sources = {}
for line in open(os.path.join(DIR, "SOURCES")):
    if line.startswith("#"):
        continue
    parts = line.split(None, 2)
    sources[parts[1]] = parts[2].strip()
# Objects taken unchanged from upstream follow upstream's choices.
paths = sorted(glob.glob(os.path.join(DIR, "manifests", "*", "*.yaml")))
for o, p in zip(objs, paths):
    o["_upstream"] = sources[os.path.relpath(p, DIR)].startswith("upstream ")

APP_COMPONENTS = {"heimdall", "postgres", "n8n", "nocodb", "appflowy", "nextcloud",
                  "monitoring", "backup"}
# Variables that hold a credential (not its name, path or file).
SECRETISH = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|_KEY|PRIVATE_KEY)$", re.I)


def pod_spec(o):
    k = o.get("kind")
    if k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return o["spec"]["template"]["spec"]
    if k == "Job":
        return o["spec"]["template"]["spec"]
    if k == "CronJob":
        return o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if k == "Pod":
        return o["spec"]
    return None


def image_pinned(img):
    if "@sha256:" in img:
        return True
    last = img.rsplit("/", 1)[-1]
    return ":" in last and not last.endswith(":latest")


by_kind = {}
for o in objs:
    by_kind.setdefault(o["kind"], []).append(o)

# --- every object -------------------------------------------------------
for o in objs:
    if o["kind"] == "Secret":
        if o.get("data") or o.get("stringData"):
            # upstream objects may carry empty placeholders (e.g. webhook
            # certificate Secrets filled in by their controllers)
            vals = list((o.get("data") or {}).values()) + list((o.get("stringData") or {}).values())
            if any(v for v in vals):
                bad(o, "a Secret with values in rendered output")
    spec = pod_spec(o)
    if spec is None:
        continue
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    for c in containers:
        img = c.get("image", "")
        if not image_pinned(img):
            bad(o, "container %s: image %r is not pinned to a version" % (c.get("name"), img))
        for e in c.get("env", []) or []:
            if "value" in e and SECRETISH.search(e["name"]) and e["value"] and \
                    not str(e["value"]).startswith("$("):
                bad(o, "container %s: %s has a literal value" % (c.get("name"), e["name"]))
    if o["_upstream"] or o["_component"] not in APP_COMPONENTS:
        continue
    # A container that may run as root says why, where it shows in the
    # cluster: an annotation on its pod template.
    tmeta = (o["spec"].get("template") or o["spec"].get("jobTemplate", {}).get("spec", {}).get("template") or {}).get("metadata") or {}
    why = (tmeta.get("annotations") or {}).get("sector7.io/runs-as-root", "")
    psc = spec.get("securityContext") or {}
    for c in containers:
        sc = c.get("securityContext") or {}
        uid = sc.get("runAsUser", psc.get("runAsUser"))
        if not sc.get("runAsNonRoot", psc.get("runAsNonRoot")) and uid in (None, 0) and not why:
            bad(o, "container %s may run as root: say why in the pod template's sector7.io/runs-as-root annotation" % c.get("name"))
    for c in spec.get("containers", []):
        res = c.get("resources", {})
        if not res.get("requests") or not (res.get("limits") or {}).get("memory"):
            bad(o, "container %s: needs resource requests and a memory limit" % c.get("name"))
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet") and \
                not (c.get("readinessProbe") and c.get("livenessProbe")):
            bad(o, "container %s: needs liveness and readiness probes" % c.get("name"))

# --- namespaces: PodSecurity labels and a NetworkPolicy -------------------
ns_with_policy = {o["metadata"].get("namespace") for o in by_kind.get("NetworkPolicy", [])}
for o in by_kind.get("Namespace", []):
    if o["_component"] not in APP_COMPONENTS | {"cert-manager"}:
        continue
    labels = o["metadata"].get("labels", {}) or {}
    if "pod-security.kubernetes.io/enforce" not in labels:
        bad(o, "no PodSecurity enforce label")
    if o["metadata"]["name"] not in ns_with_policy:
        bad(o, "no NetworkPolicy in this namespace")

# --- web apps: an Ingress with TLS from cert-manager at the app's host ---
domain = site["domain"]
apps = site.get("apps", {}) or {}
issuers = {"letsencrypt": "letsencrypt-prod", "letsencrypt-staging": "letsencrypt-staging",
           "selfsigned": "sector7-ca"}
issuer = issuers[(site.get("tls") or {}).get("issuer", "letsencrypt-staging")]
ingress_class = "traefik" if site.get("ingress", "traefik") == "traefik" else "nginx"
defaults = {"heimdall": "@", "n8n": "n8n", "nocodb": "nocodb", "appflowy": "appflowy",
            "nextcloud": "nextcloud", "grafana": "grafana"}
enabled_default = {"nextcloud": False}
present = {o["_component"] for o in objs}
for app, host in defaults.items():
    a = apps.get(app) or {}
    if not a.get("enabled", enabled_default.get(app, True)):
        continue
    comp = "monitoring" if app == "grafana" else app
    if comp not in present:
        continue          # the component is not in the catalog yet
    if app == "grafana" and not (site.get("monitoring") or {}).get("enabled", True):
        continue
    h = a.get("host", host)
    fqdn = domain if h == "@" else "%s.%s" % (h, domain)
    ings = [o for o in by_kind.get("Ingress", []) if o["_component"] == comp and
            any(r.get("host") == fqdn for r in o["spec"].get("rules", []))]
    if not ings:
        problems.append("%s: no Ingress for %s" % (app, fqdn))
    # One Ingress per TLS Secret asks cert-manager for it: a second one
    # would be refused ("not owned"), and which one owns the Certificate
    # would depend on the order cert-manager saw them.
    askers = {}          # TLS Secret -> the Ingresses that ask for it
    for o in ings:
        if o["spec"].get("ingressClassName") != ingress_class:
            bad(o, "ingressClassName is not %s" % ingress_class)
        secrets = [t.get("secretName") for t in o["spec"].get("tls", []) if fqdn in t.get("hosts", [])]
        if not secrets:
            bad(o, "no TLS for %s" % fqdn)
        ann = o["metadata"].get("annotations", {}) or {}
        asks = "cert-manager.io/cluster-issuer" in ann
        if asks and ann["cert-manager.io/cluster-issuer"] != issuer:
            bad(o, "cert-manager.io/cluster-issuer is not %s" % issuer)
        for sn in secrets:
            askers.setdefault(sn, []).extend([o["metadata"]["name"]] if asks else [])
    for sn, who in askers.items():
        if len(who) != 1:
            problems.append("%s: %d Ingresses ask cert-manager for Secret %s (%s), want 1" % (
                app, len(who), sn, ", ".join(who) or "none"))

# --- storage: check's budget is what the render asks for --------------------
def gib(q):
    m = re.fullmatch(r"(\d+)(Mi|Gi|Ti)", str(q))
    return int(m.group(1)) * {"Mi": 1 / 1024, "Gi": 1, "Ti": 1024}[m.group(2)]


if len(sys.argv) > 3:
    cls = (site.get("storage") or {}).get("class", "longhorn")
    rendered = 0.0
    for o in objs:
        k = o.get("kind")
        if k == "PersistentVolumeClaim" and o["spec"].get("storageClassName") == cls:
            rendered += gib(o["spec"]["resources"]["requests"]["storage"])
        elif k == "PersistentVolumeClaim":
            bad(o, "not on the site's storage class %s" % cls)
        elif k == "Cluster" and o["apiVersion"].startswith("postgresql.cnpg.io/"):
            rendered += gib(o["spec"]["storage"]["size"]) * o["spec"].get("instances", 1)
        elif k == "Prometheus":
            t = o["spec"].get("storage", {}).get("volumeClaimTemplate", {}).get("spec", {})
            rendered += gib(t["resources"]["requests"]["storage"]) * o["spec"].get("replicas", 1)
        elif k == "StatefulSet" and pod_spec(o) and o["spec"].get("volumeClaimTemplates"):
            bad(o, "volumeClaimTemplates the storage budget does not count")
    budget = None
    for fd in __import__("json").load(open(sys.argv[3]))["findings"]:
        m = re.search(r"the storage budget \((\d+) GiB with (\d+) replicas|"
                      r"the apps ask for (\d+) GiB.*times (\d+) replica", fd["message"])
        if m:
            budget = int(m.group(1) or m.group(3))
            replicas = int(m.group(2) or m.group(4))
    if budget is None:
        problems.append("storage: check states no storage budget")
    elif budget != round(rendered * replicas):
        problems.append("storage: check counts %d GiB, the render asks for %g GiB times %d replicas"
                        % (budget, rendered, replicas))

for p in problems:
    print("wiring: %s: %s" % (os.path.basename(SITE), p))
sys.exit(1 if problems else 0)
