#!/usr/bin/python3
"""Checks how AppFlowy Cloud, n8n and NocoDB are wired in a rendered site
(the output of `sector7 render -o DIR`).

    apps.py DIR SITE.yaml

Follows each request and each connection through the rendered objects:
the Ingress paths of the app's host (as Traefik or ingress-nginx would
match and rewrite them) to a Service port, its target port and the
container behind it; every internal URL a pod is given to the Service it
names; secrets by reference (Secret name and key, after the kubelet's
$(VAR) expansion); and the NetworkPolicies of the namespaces, evaluated
for the pods that talk to each other.  The requirements of AppFlowy are
those of its upstream deployment files (nginx.conf, docker-compose.yml,
deploy.env, the Helm chart).

AppFlowy: every service runs (GoTrue, Cloud, Worker, Web, admin console,
Search when Cloud is told of it, a CloudNativePG Cluster, Valkey, the
site's S3 server); the database URLs (GoTrue's with search_path=auth),
Valkey and S3 URLs and credentials; one JWT secret; the public URLs
(/gotrue, wss://.../ws/v2, presigned links under the host); the routes,
prefix stripping and Host rewriting for Traefik and ingress-nginx, and
ingress-nginx's body sizes and timeouts; the admin user; the start order
postgres -> GoTrue -> Cloud -> the rest; the NetworkPolicies.  n8n: the
shared PostgreSQL, the encryption key, the owner, its public URL, queue
mode, Ollama on the GPU, /metrics closed to the outside.  NocoDB: NC_DB,
its JWT secret, the super admin, NC_PUBLIC_URL.  Grafana: /metrics closed
to the outside, the rest open.  Checks of an
app are skipped when it is disabled or not rendered.

Prints one line per violation and exits 1 if there is any.
"""
import glob
import ipaddress
import os
import re
import sys
from urllib.parse import parse_qs, urlsplit

import yaml

DIR, SITE = sys.argv[1], sys.argv[2]
site = yaml.safe_load(open(SITE))
problems = []


def bad(app, msg):
    problems.append("%s: %s" % (app, msg))


objs = []
for path in sorted(glob.glob(os.path.join(DIR, "manifests", "*", "*.yaml"))):
    o = yaml.safe_load(open(path))
    if not isinstance(o, dict):
        continue
    o["_component"] = os.path.basename(os.path.dirname(path)).split("-", 1)[1]
    objs.append(o)


def ns_of(o):
    return (o.get("metadata") or {}).get("namespace")


def name_of(o):
    return (o.get("metadata") or {}).get("name")


def ann_of(o):
    return (o.get("metadata") or {}).get("annotations") or {}


def kind_objs(kind, ns=None):
    return [o for o in objs if o.get("kind") == kind and (ns is None or ns_of(o) == ns)]


def one(kind, ns, name):
    for o in kind_objs(kind, ns):
        if name_of(o) == name:
            return o
    return None


# --- site values ------------------------------------------------------------
domain = site["domain"]
apps = site.get("apps") or {}
INGRESS = site.get("ingress", "traefik")
CLASS = "traefik" if INGRESS == "traefik" else "nginx"
HOST_DEFAULTS = {"appflowy": "appflowy", "n8n": "n8n", "nocodb": "nocodb"}
present = {o["_component"] for o in objs}


def conf(app):
    return apps.get(app) or {}


def fqdn(app):
    h = conf(app).get("host", HOST_DEFAULTS[app])
    return domain if h == "@" else "%s.%s" % (h, domain)


def active(app):
    return conf(app).get("enabled", True) and app in present


def gpu_nodes():
    return [n["name"] for n in site.get("nodes") or [] if (n.get("gpus") or 0) > 0]


# --- pods and containers ------------------------------------------------------
def pod_template(o):
    k = o.get("kind")
    if k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return o["spec"]["template"]
    if k == "CronJob":
        return o["spec"]["jobTemplate"]["spec"]["template"]
    return None


def workloads(ns=None):
    return [o for o in objs if pod_template(o) is not None and (ns is None or ns_of(o) == ns)]


def pod_labels(o):
    return (pod_template(o).get("metadata") or {}).get("labels") or {}


def containers(o, init=False):
    spec = pod_template(o)["spec"]
    return (spec.get("initContainers") or []) if init else (spec.get("containers") or [])


def image_repo(img):
    img = img.split("@")[0]
    head, _, last = img.rpartition("/")
    last = last.split(":")[0]
    return head + "/" + last if head else last


def image_tag(img):
    last = img.split("@")[0].rpartition("/")[2]
    return last.split(":", 1)[1] if ":" in last else ""


def command_text(c):
    return " ".join(str(x) for x in (c.get("command") or []) + (c.get("args") or []))


# --- environment as the kubelet builds it -------------------------------------
# A variable from a Secret becomes ~secret~NAME~KEY~; $(VAR) is expanded
# with the variables defined before it, as the kubelet does, and left as
# is otherwise; $$ stands for a literal $.
TOKEN = re.compile(r"~secret~([^~]+)~([^~]+)~")
REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def env_of(c):
    vals = {}
    for e in c.get("env") or []:
        n = e.get("name")
        vf = e.get("valueFrom")
        if vf:
            if "secretKeyRef" in vf:
                r = vf["secretKeyRef"]
                v = "~secret~%s~%s~" % (r.get("name"), r.get("key"))
            elif "configMapKeyRef" in vf:
                r = vf["configMapKeyRef"]
                v = "~configmap~%s~%s~" % (r.get("name"), r.get("key"))
            else:
                v = "~field~%s~" % sorted(vf)[0]
        else:
            defined = dict(vals)

            def sub(m, defined=defined):
                if m.group(0) == "$$":
                    return "$"
                return defined.get(m.group(1), m.group(0))
            v = REF.sub(sub, str(e.get("value", "")))
        vals[n] = v
    return vals


def secret_ref(v):
    """(name, key) when the value is exactly one Secret key, else None."""
    m = TOKEN.fullmatch(v or "")
    return (m.group(1), m.group(2)) if m else None


def show(v):
    """A value for a message: Secret references by name, a password
    written into a URL masked."""
    v = TOKEN.sub(lambda m: "<secret %s/%s>" % (m.group(1), m.group(2)), v)
    v = re.sub(r"(://[^:/@]*:)(?!<secret)[^@/]+@", r"\1***@", v)
    return re.sub(r"([?&]p=)(?!<secret)[^&]+", r"\1***", v)


def desc(v):
    """A credential's source, never its value."""
    if v is None or v == "":
        return "not set"
    return show(v) if secret_ref(v) else "a literal value"


# --- Services, including those CloudNativePG creates for a Cluster ------------
services = {}
for o in kind_objs("Service"):
    services[(ns_of(o), name_of(o))] = o
clusters = {}
for o in kind_objs("Cluster"):
    if o.get("apiVersion", "").startswith("postgresql.cnpg.io/"):
        clusters[(ns_of(o), name_of(o))] = o
        for suffix, role in (("-rw", "primary"), ("-ro", "replica"), ("-r", None)):
            sel = {"cnpg.io/cluster": name_of(o)}
            if role:
                sel["cnpg.io/instanceRole"] = role
            services[(ns_of(o), name_of(o) + suffix)] = {
                "kind": "Service", "metadata": {"name": name_of(o) + suffix, "namespace": ns_of(o)},
                "spec": {"selector": sel, "ports": [{"name": "postgres", "port": 5432,
                                                     "targetPort": 5432}]}}


class Pod:
    """A pod as the NetworkPolicies and Services see it."""

    def __init__(self, ns, labels, ports, what, obj=None):
        self.ns, self.labels, self.ports, self.what, self.obj = ns, labels, ports, what, obj


pods = []
for o in workloads():
    ports = []
    for c in containers(o):
        for p in c.get("ports") or []:
            ports.append((p.get("name"), p["containerPort"], c))
    pods.append(Pod(ns_of(o), pod_labels(o), ports, "%s %s/%s" % (o["kind"], ns_of(o), name_of(o)), o))
for (ns, name), cl in clusters.items():
    # CloudNativePG instance pods (primary shown); their container ports.
    pods.append(Pod(ns, {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance",
                         "cnpg.io/instanceRole": "primary", "role": "primary"},
                    [("postgresql", 5432, None), ("metrics", 9187, None), ("status", 8000, None)],
                    "PostgreSQL instance of Cluster %s/%s" % (ns, name), cl))


def selects(sel, labels):
    """A label selector (LabelSelector, or a Service's plain map)."""
    if sel is None:
        return False
    if "matchLabels" not in sel and "matchExpressions" not in sel:
        sel = {"matchLabels": sel}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def svc_host(host, ns):
    """(namespace, name) of the Service a host name points at, or None."""
    parts = host.split(".")
    if len(parts) == 1:
        key = (ns, parts[0])
    elif parts[2:] in ([], ["svc"], ["svc", "cluster", "local"]):
        key = (parts[1], parts[0])
    else:
        return None
    return key if key in services else None


def backend(ns, name, port):
    """Follow Service ns/name, port (number or name) to the containers.
    Returns (service port, [(pod, container port number, container)]) or
    an error string."""
    svc = services.get((ns, name))
    if svc is None:
        return "no Service %s/%s" % (ns, name)
    sp = None
    for p in svc["spec"].get("ports") or []:
        if port in (p.get("name"), p.get("port")) or str(port) == str(p.get("port")):
            sp = p
    if sp is None:
        return "Service %s/%s has no port %s" % (ns, name, port)
    sel = svc["spec"].get("selector")
    if not sel:
        return "Service %s/%s selects no pods" % (ns, name)
    target = sp.get("targetPort", sp["port"])
    found, selected = [], False
    for pod in pods:
        if pod.ns != ns or not selects(sel, pod.labels):
            continue
        selected = True
        for pname, num, c in pod.ports:
            if target in (pname, num) or str(target) == str(num):
                found.append((pod, num, c))
    if not selected:
        return "Service %s/%s selects no rendered pod" % (ns, name)
    if not found:
        return "Service %s/%s port %s: target port %s is on no container" % (ns, name, port, target)
    return sp, found


# --- NetworkPolicies ------------------------------------------------------------
ns_labels = {}
for o in kind_objs("Namespace"):
    ns_labels[name_of(o)] = dict((o["metadata"].get("labels") or {}),
                                 **{"kubernetes.io/metadata.name": name_of(o)})


def labels_of_ns(ns):
    return ns_labels.get(ns, {"kubernetes.io/metadata.name": ns})


def peer_matches(peer, own_ns, other):
    if "ipBlock" in peer:
        return peer["ipBlock"].get("cidr") == "0.0.0.0/0" and not peer["ipBlock"].get("except")
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], labels_of_ns(other.ns)):
            return False
    elif other.ns != own_ns:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], other.labels)


def port_matches(ports, num, names):
    if not ports:
        return True
    for p in ports:
        if (p.get("protocol") or "TCP") != "TCP":
            continue
        if "port" not in p:
            return True
        if p["port"] in names or p["port"] == num or \
                (isinstance(p["port"], int) and p.get("endPort") and p["port"] <= num <= p["endPort"]):
            return True
    return False


def policies_for(pod, direction):
    out = []
    for np in kind_objs("NetworkPolicy", pod.ns):
        spec = np["spec"]
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))
        if direction in types and selects(spec.get("podSelector") or {}, pod.labels):
            out.append(np)
    return out


def allowed(src, dst, num):
    """May pod src open a TCP connection to port num of pod dst?"""
    names = {n for n, p, _ in dst.ports if p == num and n}
    pols = policies_for(dst, "Ingress")
    if pols and not any(
            port_matches(r.get("ports"), num, names) and
            (not r.get("from") or any(peer_matches(pe, dst.ns, src) for pe in r["from"]))
            for np in pols for r in np["spec"].get("ingress") or []):
        return False
    pols = policies_for(src, "Egress")
    if pols and not any(
            port_matches(r.get("ports"), num, names) and
            (not r.get("to") or any(peer_matches(pe, src.ns, dst) for pe in r["to"]))
            for np in pols for r in np["spec"].get("egress") or []):
        return False
    return True


def ingress_controller():
    if CLASS == "nginx":
        for o in workloads():
            if o["_component"] == "ingress" and o["kind"] in ("Deployment", "DaemonSet") and \
                    any("ingress-nginx/controller" in c.get("image", "") for c in containers(o)):
                return Pod(ns_of(o), pod_labels(o), [], "the ingress-nginx controller")
        return None
    # k3s's bundled Traefik (HelmChart traefik in kube-system).
    return Pod("kube-system", {"app.kubernetes.io/name": "traefik",
                               "app.kubernetes.io/instance": "traefik-kube-system"}, [], "Traefik")


CONTROLLER = ingress_controller()
if CONTROLLER is None:
    problems.append("ingress: no ingress-nginx controller rendered")


def check_policy_basics(app, ns):
    if not any(not (np["spec"].get("podSelector") or {}).get("matchLabels") and
               not (np["spec"].get("podSelector") or {}).get("matchExpressions") and
               "Ingress" in (np["spec"].get("policyTypes") or ["Ingress"]) and
               not np["spec"].get("ingress")
               for np in kind_objs("NetworkPolicy", ns)):
        bad(app, "no default-deny NetworkPolicy (all pods, Ingress, no rule) in namespace %s" % ns)
    stranger = Pod("default", {"app": "stranger"}, [], "a pod in namespace default")
    for pod in pods:
        if pod.ns != ns:
            continue
        for pname, num, _ in pod.ports:
            if allowed(stranger, pod, num):
                bad(app, "%s port %s is open to pods of other namespaces" % (pod.what, pname or num))


# --- routes through the ingress controller --------------------------------------
def size_bytes(s):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", str(s).strip())
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]


def nginx_config():
    for o in kind_objs("ConfigMap"):
        if o["_component"] == "ingress" and name_of(o) == "ingress-nginx-controller":
            return o.get("data") or {}
    return {}


def host_paths(host):
    out = []
    for ing in kind_objs("Ingress"):
        if ing["spec"].get("ingressClassName") != CLASS:
            continue
        for rule in ing["spec"].get("rules") or []:
            if rule.get("host") == host:
                for p in (rule.get("http") or {}).get("paths") or []:
                    out.append((ing, p))
    return out


def prefix_match(prefix, path):
    if prefix == "/":
        return True
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def middleware(ing, ref, app):
    """The Middleware an annotation entry names (<namespace>-<name>@kubernetescrd)."""
    ns = ns_of(ing)
    if not ref.endswith("@kubernetescrd") or not ref.startswith(ns + "-"):
        bad(app, "Ingress %s: middleware %r is not %s-<name>@kubernetescrd" % (name_of(ing), ref, ns))
        return None
    name = ref[len(ns) + 1:-len("@kubernetescrd")]
    for o in kind_objs("Middleware", ns):
        if name_of(o) == name and o.get("apiVersion", "").startswith("traefik.io/"):
            return o
    bad(app, "Ingress %s: middleware %s/%s is not rendered" % (name_of(ing), ns, name))
    return None


def loopback_only(ranges):
    """Whether a list of source ranges admits no client but loopback."""
    nets = []
    for x in ranges:
        try:
            nets.append(ipaddress.ip_network(x.strip(), strict=False))
        except ValueError:
            return False
    return all(n.is_loopback for n in nets)


def refusal(ing, app):
    """Why the ingress controller refuses every client a request the
    Ingress routes (a source-range rule only loopback passes), or None."""
    a = ann_of(ing)
    if CLASS == "nginx":
        for k in ("whitelist-source-range", "allowlist-source-range"):
            v = a.get("nginx.ingress.kubernetes.io/" + k)
            if v is not None and loopback_only(v.split(",")):
                return "%s %s" % (k, v)
        v = a.get("nginx.ingress.kubernetes.io/denylist-source-range", "")
        if {"0.0.0.0/0", "::/0"} <= {x.strip() for x in v.split(",")}:
            return "denylist-source-range %s" % v
        return None
    refs = a.get("traefik.ingress.kubernetes.io/router.middlewares", "").split(",")
    for ref in [x.strip() for x in refs if x.strip()]:
        mw = middleware(ing, ref, app)
        spec = (mw or {}).get("spec") or {}
        for k in ("ipAllowList", "ipWhiteList"):
            ranges = (spec.get(k) or {}).get("sourceRange")
            if ranges is not None and loopback_only(ranges):
                return "Middleware %s %s %s" % (name_of(mw), k, ranges)
    return None


def refused(app, host, path):
    """Checks that nobody outside reaches https://host/path."""
    r = request(app, host, path)
    if r is not None and not r["refused"]:
        bad(app, "https://%s%s is open to everybody through Ingress %s" % (host, path, name_of(r["ingress"])))


def request(app, host, path):
    """Where a request for https://host/path ends up: a dict with the
    Ingress, the Service and port, the path and Host the backend sees,
    the extra request headers and whether the controller refuses every
    client, or None when no route matches."""
    paths = host_paths(host)
    regex_host = CLASS == "nginx" and any(
        ann_of(i).get("nginx.ingress.kubernetes.io/use-regex") == "true" or
        "nginx.ingress.kubernetes.io/rewrite-target" in ann_of(i) for i, _ in paths)
    best = None
    for ing, p in paths:
        pt, pp = p.get("pathType", "ImplementationSpecific"), p.get("path", "/")
        if pt == "Exact":
            ok = path == pp
        elif regex_host:
            try:
                ok = re.match(pp, path, re.I) is not None
            except re.error:
                ok = False
        elif pt == "Prefix":
            ok = prefix_match(pp, path)
        else:
            ok = path.startswith(pp)
        if ok and (best is None or len(pp) > len(best[1]["path"])):
            best = (ing, p)
    if best is None:
        return None
    ing, p = best
    a = ann_of(ing)
    svc = p["backend"]["service"]
    r = {"ingress": ing, "service": svc["name"], "port": svc["port"].get("name", svc["port"].get("number")),
         "path": path, "host": host, "headers": {}, "refused": refusal(ing, app)}
    if CLASS == "nginx":
        target = a.get("nginx.ingress.kubernetes.io/rewrite-target")
        if target is not None:
            m = re.match(p["path"], path, re.I)
            # nginx puts an empty string for a group the regex lacks
            r["path"] = re.sub(r"\$(\d)", lambda g: (m.group(int(g.group(1))) or "")
                               if int(g.group(1)) <= m.re.groups else "", target)
        if a.get("nginx.ingress.kubernetes.io/upstream-vhost"):
            r["host"] = a["nginx.ingress.kubernetes.io/upstream-vhost"]
        return r
    refs = a.get("traefik.ingress.kubernetes.io/router.middlewares", "").split(",")
    for ref in [x.strip() for x in refs if x.strip()]:
        mw = middleware(ing, ref, app)
        if mw is None:
            continue
        spec = mw.get("spec") or {}
        for pre in (spec.get("stripPrefix") or {}).get("prefixes") or []:
            if r["path"].startswith(pre):
                rest = r["path"][len(pre):]
                r["path"] = rest if rest.startswith("/") else "/" + rest
                break
        for k, v in ((spec.get("headers") or {}).get("customRequestHeaders") or {}).items():
            if k.lower() == "host":
                r["host"] = v
            else:
                r["headers"][k] = v
    return r


def route(app, host, path, want_pods, want_path=None, want_host=None):
    """Checks that https://host/path reaches one of want_pods (workloads)
    on a declared port, the ingress controller may open it, and the path
    and Host arrive as wanted.  Returns the request, or None."""
    r = request(app, host, path)
    if r is None:
        bad(app, "https://%s%s: no Ingress path matches" % (host, path))
        return None
    where = "https://%s%s (Ingress %s)" % (host, path, name_of(r["ingress"]))
    if r["refused"]:
        bad(app, "%s is refused to every client (%s)" % (where, r["refused"]))
    b = backend(ns_of(r["ingress"]), r["service"], r["port"])
    if isinstance(b, str):
        bad(app, "%s: %s" % (where, b))
        return r
    targets = [(pod, num) for pod, num, _ in b[1]]
    if not any(pod.obj in want_pods for pod, _ in targets):
        bad(app, "%s goes to Service %s, not to %s" % (
            where, r["service"], " or ".join("%s %s" % (w["kind"], name_of(w)) for w in want_pods) or "?"))
    for pod, num in targets:
        if CONTROLLER and not allowed(CONTROLLER, pod, num):
            bad(app, "%s: the NetworkPolicies keep %s from %s port %d" % (where, CONTROLLER.what, pod.what, num))
    if want_path is not None and r["path"] != want_path:
        bad(app, "%s arrives at %s as path %r, not %r" % (where, r["service"], r["path"], want_path))
    if want_host is not None and r["host"] != want_host:
        bad(app, "%s arrives at %s with Host %r, not %r" % (where, r["service"], r["host"], want_host))
    return r


def nginx_value(r, key, default):
    a = ann_of(r["ingress"])
    full = "nginx.ingress.kubernetes.io/" + key
    return a[full] if full in a else nginx_config().get(key, default)


def nginx_body_at_least(app, r, need, label):
    if r is None or CLASS != "nginx":
        return
    got = str(nginx_value(r, "proxy-body-size", "1m"))
    n = size_bytes(got)
    if n is None or (n != 0 and n < size_bytes(need)):
        bad(app, "%s: request bodies are capped at %s (Ingress %s), %s needs %s" % (
            label, got, name_of(r["ingress"]), label, need))


def nginx_timeouts_at_least(app, r, seconds, label):
    if r is None or CLASS != "nginx":
        return
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        got = str(nginx_value(r, key, "60"))
        if not got.isdigit() or int(got) < seconds:
            bad(app, "%s: %s is %s s (Ingress %s), needs at least %d" % (
                label, key, got, name_of(r["ingress"]), seconds))


# --- connections a pod is told about ------------------------------------------
def endpoints(c, env):
    """host:port pairs (and HOST/PORT variable pairs) a container is given."""
    texts = list(env.values()) + [command_text(c)]
    found = set()
    for t in texts:
        for m in re.finditer(r"(?<![\w.:-])([a-z0-9][a-z0-9.-]*):(\d{2,5})\b", TOKEN.sub("", t)):
            found.add((m.group(1), int(m.group(2))))
        for m in re.finditer(r"-h\s+([a-z0-9][a-z0-9.-]*)\s+-p\s+(\d+)", t):
            found.add((m.group(1), int(m.group(2))))
    for n, v in env.items():
        if n.endswith("_HOST") and n[:-5] + "_PORT" in env and env[n[:-5] + "_PORT"].isdigit():
            found.add((v, int(env[n[:-5] + "_PORT"])))
    return found


def check_connections(app, ns):
    """Every Service a pod of ns is told to connect to exists, has that
    port, and the NetworkPolicies let the pod in."""
    for o in workloads(ns):
        src = next(p for p in pods if p.obj is o)
        for init in (True, False):
            for c in containers(o, init):
                for host, port in sorted(endpoints(c, env_of(c))):
                    key = svc_host(host, ns)
                    if key is None:
                        if (re.fullmatch(r"[a-z0-9-]+", host) and host != "localhost") or \
                                host.endswith((".svc", ".svc.cluster.local")):
                            bad(app, "%s container %s: %s:%d names no rendered Service" % (
                                src.what, c["name"], host, port))
                        continue
                    b = backend(key[0], key[1], port)
                    if isinstance(b, str):
                        bad(app, "%s container %s: %s:%d: %s" % (src.what, c["name"], host, port, b))
                        continue
                    for pod, num, _ in b[1]:
                        if not allowed(src, pod, num):
                            bad(app, "%s container %s connects to %s:%d, which the NetworkPolicies "
                                     "close to it (%s port %d)" % (src.what, c["name"], host, port, pod.what, num))


def check_middlewares(app, ns):
    if CLASS != "traefik":
        return
    for ing in kind_objs("Ingress", ns):
        for ref in ann_of(ing).get("traefik.ingress.kubernetes.io/router.middlewares", "").split(","):
            if ref.strip():
                middleware(ing, ref.strip(), app)


def listens(app, pod_obj, c, port, what):
    """The process's own port must be a declared containerPort."""
    declared = [p["containerPort"] for p in c.get("ports") or []]
    if port not in declared:
        bad(app, "%s %s container %s listens on %d, declared ports %s" % (
            pod_obj["kind"], name_of(pod_obj), c["name"], port, declared or "none") + (" (%s)" % what))


def waits_for(o, host, port, path=None):
    """An init container looping until host:port answers: pg_isready for
    PostgreSQL (path None), else an HTTP GET of path."""
    for c in containers(o, init=True):
        for m in re.finditer(r"\b(?:until|while\s+!)\s+(.*?);\s*do\b", command_text(c), re.S):
            cond = m.group(1)
            if path is None:
                if re.search(r"\bpg_isready\b", cond) and \
                        re.search(r"-h\s+%s(?![\w.-])" % re.escape(host), cond) and \
                        re.search(r"-p\s+%d(?!\d)" % port, cond):
                    return True
            elif re.search(r"https?://%s:%d%s(?![\w/.-])" % (re.escape(host), port, re.escape(path)), cond):
                return True
    return False


# =============================================================================
# AppFlowy Cloud
# =============================================================================
def appflowy():
    A = "appflowy"
    host = fqdn(A)
    base = "https://" + host
    gotrue_url = base + "/gotrue"
    ws_url = "wss://%s/ws/v2" % host
    ns_objs = [o for o in objs if o["_component"] == A and o["kind"] == "Namespace"]
    ns = name_of(ns_objs[0]) if ns_objs else "appflowy"
    s3_kind = conf(A).get("s3", "garage")
    minio_image = conf(A).get("minio-image")

    roles = {"gotrue": r"/gotrue$", "cloud": r"/appflowy_cloud$", "worker": r"/appflowy_worker$",
             "web": r"/appflowy_web$", "admin": r"/admin_frontend$", "search": r"/appflowy_search$",
             "ai": r"/appflowy_ai$", "redis": r"(^|/)(valkey|redis)$"}
    s3_images = {"garage": r"(^|/)garage$", "seaweedfs": r"(^|/)seaweedfs$", "minio": r"(^|/)minio$"}
    found = {}
    for o in workloads(ns):
        if o["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for c in containers(o):
            repo = image_repo(c.get("image", ""))
            for role, rx in roles.items():
                if re.search(rx, repo):
                    found.setdefault(role, []).append((o, c))
            for kind, rx in s3_images.items():
                if re.search(rx, repo) or (kind == "minio" and c.get("image") == minio_image):
                    found.setdefault("s3", []).append((o, c))
                    found.setdefault("s3:" + kind, []).append((o, c))
    names = {"gotrue": "GoTrue", "cloud": "AppFlowy Cloud", "worker": "AppFlowy Worker",
             "web": "AppFlowy Web", "admin": "the admin console", "redis": "Valkey/Redis",
             "s3": "an S3 server"}
    for role, label in names.items():
        if not found.get(role):
            bad(A, "%s is not rendered (no Deployment or StatefulSet runs its image in %s)" % (label, ns))
        elif len(found[role]) > 1:
            bad(A, "%s runs in %d workloads: %s" % (label, len(found[role]),
                                                   ", ".join(name_of(o) for o, _ in found[role])))
    if not found.get("s3:" + s3_kind):
        bad(A, "the site chooses S3 server %s, none is rendered" % s3_kind)
    for kind in s3_images:
        if kind != s3_kind and found.get("s3:" + kind):
            bad(A, "S3 server %s is rendered, the site chooses %s" % (kind, s3_kind))
    if s3_kind == "minio" and found.get("s3:minio") and found["s3:minio"][0][1].get("image") != minio_image:
        bad(A, "MinIO runs %r, the site names %r" % (found["s3:minio"][0][1].get("image"), minio_image))
    dbs = [cl for (cns, _), cl in clusters.items() if cns == ns]
    if len(dbs) != 1:
        bad(A, "%d CloudNativePG Clusters in %s, AppFlowy needs one of its own" % (len(dbs), ns))
    db = dbs[0] if len(dbs) == 1 else None

    def get(role):
        return found[role][0] if found.get(role) else (None, None)

    wl = {r: get(r)[0] for r in roles}
    ct = {r: get(r)[1] for r in roles}
    s3_obj, s3_c = get("s3")
    env = {r: env_of(ct[r]) for r in roles if ct[r]}

    def ref_to(role, who, var, want_role, want_path=None):
        """An internal URL must point at the Service of want_role."""
        if want_role not in wl or wl[want_role] is None:
            return None
        url = env[role].get(var) if role in env else None
        if url is None:
            bad(A, "%s: %s is not set" % (who, var))
            return None
        u = urlsplit(TOKEN.sub("x", url))
        key = svc_host(u.hostname or "", ns)
        if key is None:
            bad(A, "%s: %s=%s names no rendered Service" % (who, var, show(url)))
            return None
        b = backend(key[0], key[1], u.port or {"http": 80, "https": 443}.get(u.scheme, 0))
        if isinstance(b, str):
            bad(A, "%s: %s=%s: %s" % (who, var, show(url), b))
            return None
        if not any(pod.obj is wl[want_role] for pod, _, _ in b[1]):
            bad(A, "%s: %s=%s does not lead to %s" % (who, var, show(url), names.get(want_role, want_role)))
        return u

    # --- PostgreSQL: one Cluster, the URLs of every service ------------------
    if db is not None:
        initdb = ((db["spec"].get("bootstrap") or {}).get("initdb") or {})
        sqls = " ".join((initdb.get("postInitApplicationSQL") or []) + (initdb.get("postInitSQL") or []) +
                        (initdb.get("postInitTemplateSQL") or [])).lower()
        if not re.search(r"create extension (if not exists )?\"?vector\"?", sqls):
            bad(A, "Cluster %s: the vector extension is not created at bootstrap (the migrations' "
                   "CREATE EXTENSION vector needs a superuser)" % name_of(db))

    def pg_url(role, who, var, auth):
        if db is None or role not in env:
            return
        url = env[role].get(var)
        if url is None:
            bad(A, "%s: %s is not set" % (who, var))
            return
        if "$(" in url:
            bad(A, "%s: %s=%s has an unresolved $(VAR)" % (who, var, show(url)))
        u = urlsplit(url)
        initdb = ((db["spec"].get("bootstrap") or {}).get("initdb") or {})
        if u.scheme not in ("postgres", "postgresql"):
            bad(A, "%s: %s is not a postgres:// URL" % (who, var))
            return
        if svc_host(u.hostname or "", ns) != (ns, name_of(db) + "-rw") or (u.port or 5432) != 5432:
            bad(A, "%s: %s points at %s:%s, not the primary of Cluster %s (%s-rw:5432)" % (
                who, var, u.hostname, u.port, name_of(db), name_of(db)))
        if u.path.lstrip("/") != initdb.get("database"):
            bad(A, "%s: %s names database %r, the Cluster creates %r" % (
                who, var, u.path.lstrip("/"), initdb.get("database")))
        if u.username != initdb.get("owner"):
            bad(A, "%s: %s logs in as %r, the database owner is %r" % (who, var, u.username, initdb.get("owner")))
        want = ((initdb.get("secret") or {}).get("name"), "password")
        if secret_ref(u.password or "") != want:
            bad(A, "%s: %s's password is %s, not the Secret %s key %s" % (
                who, var, desc(u.password), want[0], want[1]))
        q = parse_qs(u.query)
        if auth and q.get("search_path") != ["auth"]:
            bad(A, "%s: %s=%s lacks search_path=auth (GoTrue's tables are in schema auth)" % (
                who, var, show(url)))
        if not auth and "auth" in (q.get("search_path") or []):
            bad(A, "%s: %s sets search_path=auth, AppFlowy's own tables are in public" % (who, var))

    pg_url("gotrue", "GoTrue", "DATABASE_URL", True)
    pg_url("cloud", "AppFlowy Cloud", "APPFLOWY_DATABASE_URL", False)
    pg_url("worker", "AppFlowy Worker", "APPFLOWY_WORKER_DATABASE_URL", False)
    if ct["search"]:
        pg_url("search", "AppFlowy Search", "APPFLOWY_SEARCH_DATABASE_URL", False)
    if ct["worker"] and db is not None:
        want = ((db["spec"].get("bootstrap") or {}).get("initdb") or {}).get("database")
        if env["worker"].get("APPFLOWY_WORKER_DATABASE_NAME") != want:
            bad(A, "AppFlowy Worker: APPFLOWY_WORKER_DATABASE_NAME is %r, the database is %r" % (
                env["worker"].get("APPFLOWY_WORKER_DATABASE_NAME"), want))

    # --- Valkey: one password, every client ------------------------------------
    redis_refs = {secret_ref(v) for v in env.get("redis", {}).values() if secret_ref(v)}
    for role, who, var in (("cloud", "AppFlowy Cloud", "APPFLOWY_REDIS_URI"),
                           ("worker", "AppFlowy Worker", "APPFLOWY_WORKER_REDIS_URL"),
                           ("search", "AppFlowy Search", "APPFLOWY_SEARCH_REDIS_URL")):
        if role not in env or "redis" not in env:
            continue
        u = ref_to(role, who, var, "redis")
        if u is not None and redis_refs and secret_ref(urlsplit(env[role][var]).password or "") not in redis_refs:
            bad(A, "%s: %s authenticates with %s, Valkey's password is %s" % (
                who, var, desc(urlsplit(env[role][var]).password),
                ", ".join("<secret %s/%s>" % r for r in sorted(redis_refs))))

    # --- GoTrue: one JWT secret, public URL, admin user ------------------------
    if "gotrue" in env:
        g = env["gotrue"]
        jwt = g.get("GOTRUE_JWT_SECRET")
        if not secret_ref(jwt):
            bad(A, "GoTrue: GOTRUE_JWT_SECRET is %s, not a secretKeyRef" % desc(jwt))
        for role, who in (("cloud", "AppFlowy Cloud"), ("search", "AppFlowy Search"), ("ai", "AppFlowy AI")):
            if role not in env:
                continue
            theirs = env[role].get("APPFLOWY_GOTRUE_JWT_SECRET")
            if theirs != jwt or not secret_ref(theirs):
                bad(A, "%s: APPFLOWY_GOTRUE_JWT_SECRET is %s, GoTrue signs with %s" % (
                    who, desc(theirs), desc(jwt)))
        if g.get("API_EXTERNAL_URL") != gotrue_url:
            bad(A, "GoTrue: API_EXTERNAL_URL is %r, not %r" % (g.get("API_EXTERNAL_URL"), gotrue_url))
        pw, email = g.get("GOTRUE_ADMIN_PASSWORD"), g.get("GOTRUE_ADMIN_EMAIL")
        if not secret_ref(pw):
            bad(A, "GoTrue: GOTRUE_ADMIN_PASSWORD is %s, not a secretKeyRef" % ("a literal" if pw else "not set"))
        if not (secret_ref(email) or email == site.get("email")):
            bad(A, "GoTrue: GOTRUE_ADMIN_EMAIL is %r, neither a secretKeyRef nor the site's email %r" % (
                email, site.get("email")))
        for n, v in sorted(g.items()):
            if n.startswith("GOTRUE_MAILER_URLPATHS_") and not v.startswith("/gotrue/"):
                bad(A, "GoTrue: %s=%r is outside the /gotrue route" % (n, v))
        listens(A, wl["gotrue"], ct["gotrue"], int(g.get("PORT", "9999")), "PORT")

    # --- public URLs -------------------------------------------------------------
    if "cloud" in env:
        c = env["cloud"]
        if c.get("APPFLOWY_WEB_URL") != base:
            bad(A, "AppFlowy Cloud: APPFLOWY_WEB_URL is %r, not %r" % (c.get("APPFLOWY_WEB_URL"), base))
        if "APPFLOWY_BASE_URL" in c and c["APPFLOWY_BASE_URL"] != base:
            bad(A, "AppFlowy Cloud: APPFLOWY_BASE_URL is %r, not %r" % (c["APPFLOWY_BASE_URL"], base))
        ref_to("cloud", "AppFlowy Cloud", "APPFLOWY_GOTRUE_BASE_URL", "gotrue")
        if "APPFLOWY_SEARCH_SERVICE_URL" in c:
            if not ct["search"]:
                bad(A, "AppFlowy Cloud: APPFLOWY_SEARCH_SERVICE_URL is set, AppFlowy Search is not rendered")
            else:
                ref_to("cloud", "AppFlowy Cloud", "APPFLOWY_SEARCH_SERVICE_URL", "search")
        listens(A, wl["cloud"], ct["cloud"], int(c.get("APPFLOWY_APPLICATION_PORT", "8000")),
                "APPFLOWY_APPLICATION_PORT")
    if "web" in env:
        w = env["web"]
        for var, want in (("APPFLOWY_BASE_URL", base), ("APPFLOWY_GOTRUE_BASE_URL", gotrue_url),
                          ("APPFLOWY_WS_BASE_URL", ws_url)):
            if w.get(var) != want:
                bad(A, "AppFlowy Web: %s is %r, not %r (the browser calls it)" % (var, w.get(var), want))
        listens(A, wl["web"], ct["web"], 80, "the image's nginx")
    if "admin" in env:
        a = env["admin"]
        if a.get("APPFLOWY_BASE_URL") != base:
            bad(A, "admin console: APPFLOWY_BASE_URL is %r, not %r" % (a.get("APPFLOWY_BASE_URL"), base))
        if a.get("APPFLOWY_GOTRUE_BASE_URL", "").startswith("https://"):
            if a["APPFLOWY_GOTRUE_BASE_URL"] != gotrue_url:
                bad(A, "admin console: APPFLOWY_GOTRUE_BASE_URL is %r, GoTrue is public at %r" % (
                    a["APPFLOWY_GOTRUE_BASE_URL"], gotrue_url))
        else:
            ref_to("admin", "admin console", "APPFLOWY_GOTRUE_BASE_URL", "gotrue")
        listens(A, wl["admin"], ct["admin"], int(a.get("PORT", "3000")), "PORT")
    if "search" in env:
        listens(A, wl["search"], ct["search"], int(env["search"].get("APPFLOWY_SEARCH_PORT", "4002")),
                "APPFLOWY_SEARCH_PORT")
    for role in env:
        for n, v in sorted(env[role].items()):
            if v.startswith(("ws://", "wss://")) or ("WEBSOCKET" in n and "URL" in n) or \
                    re.search(r"(^|_)WS(_V2)?(_BASE)?_URL$", n):
                if v != ws_url:
                    bad(A, "%s container %s: %s is %r, not %r" % (
                        name_of(wl[role]), ct[role]["name"], n, v, ws_url))

    # --- S3: one store, one key, presigned links through the public host ------
    store_creds = {}
    if s3_c is not None:
        se = env_of(s3_c)
        for kid, sec in (("GARAGE_DEFAULT_ACCESS_KEY", "GARAGE_DEFAULT_SECRET_KEY"),
                         ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"),
                         ("S3_KEY_ID", "S3_SECRET_KEY")):
            if kid in se and sec in se:
                store_creds = {"key": se[kid], "secret": se[sec]}
                break
        if not store_creds:
            bad(A, "the S3 server's access key and secret are not found in its environment")
        repo = image_repo(s3_c.get("image", ""))
        if re.search(s3_images["garage"], repo):
            port, region, bucket = None, None, se.get("GARAGE_DEFAULT_BUCKET")
            for v in pod_template(s3_obj)["spec"].get("volumes") or []:
                cm = one("ConfigMap", ns, (v.get("configMap") or {}).get("name"))
                for text in ((cm or {}).get("data") or {}).values():
                    sect = re.search(r"\[s3_api\](.*?)(\n\[|\Z)", text, re.S)
                    if sect:
                        m = re.search(r'api_bind_addr\s*=\s*"[^"]*:(\d+)"', sect.group(1))
                        port = int(m.group(1)) if m else port
                        m = re.search(r's3_region\s*=\s*"([^"]*)"', sect.group(1))
                        region = m.group(1) if m else region
            if port is None:
                bad(A, "Garage: no [s3_api] api_bind_addr in its mounted configuration")
            else:
                listens(A, s3_obj, s3_c, port, "garage.toml api_bind_addr")
            store_creds["region"], store_creds["bucket"] = region, bucket
        elif re.search(s3_images["seaweedfs"], repo):
            m = re.search(r"-s3\.port[= ](\d+)", command_text(s3_c))
            listens(A, s3_obj, s3_c, int(m.group(1)) if m else 8333, "-s3.port")
        else:
            m = re.search(r"--address[= ]\S*:(\d+)", command_text(s3_c))
            listens(A, s3_obj, s3_c, int(m.group(1)) if m else 9000, "--address")

    s3_url = None
    for role, who in (("cloud", "AppFlowy Cloud"), ("worker", "AppFlowy Worker"), ("search", "AppFlowy Search")):
        if role not in env or s3_obj is None:
            continue
        e = env[role]
        if e.get("APPFLOWY_S3_USE_MINIO") != "true":
            bad(A, "%s: APPFLOWY_S3_USE_MINIO is %r: without it the AWS endpoint is used" % (
                who, e.get("APPFLOWY_S3_USE_MINIO")))
        wl["s3"] = s3_obj
        if ref_to(role, who, "APPFLOWY_S3_MINIO_URL", "s3") is not None and role == "cloud":
            s3_url = e["APPFLOWY_S3_MINIO_URL"]
        for var, k in (("APPFLOWY_S3_ACCESS_KEY", "key"), ("APPFLOWY_S3_SECRET_KEY", "secret")):
            if store_creds and e.get(var) != store_creds[k]:
                bad(A, "%s: %s is %s, the S3 server's is %s" % (
                    who, var, desc(e.get(var)) if k == "secret" else show(e.get(var) or "not set"),
                    desc(store_creds[k]) if k == "secret" else show(store_creds[k])))
        if not secret_ref(e.get("APPFLOWY_S3_SECRET_KEY")):
            bad(A, "%s: APPFLOWY_S3_SECRET_KEY is not a secretKeyRef" % who)
        for var, k in (("APPFLOWY_S3_BUCKET", "bucket"), ("APPFLOWY_S3_REGION", "region")):
            ref = env["cloud"].get(var) if "cloud" in env else None
            if e.get(var) != ref:
                bad(A, "%s: %s is %r, AppFlowy Cloud uses %r" % (who, var, e.get(var), ref))
            if store_creds.get(k) and e.get(var) != store_creds[k]:
                bad(A, "%s: %s is %r, the S3 server's is %r" % (who, var, e.get(var), store_creds[k]))
    if "cloud" in env and s3_url:
        c = env["cloud"]
        bucket = c.get("APPFLOWY_S3_BUCKET", "appflowy")
        if c.get("APPFLOWY_S3_CREATE_BUCKET") != "true" and store_creds.get("bucket") != bucket and \
                not any("%s/%s" % (s3_url, bucket) in command_text(i) for i in containers(wl["cloud"], True)):
            bad(A, "nothing creates bucket %r: APPFLOWY_S3_CREATE_BUCKET is off, the S3 server does "
                   "not create it and no init container of Cloud does" % bucket)
        pre = c.get("APPFLOWY_S3_PRESIGNED_URL_ENDPOINT")
        if not pre or not pre.startswith(base + "/") or len(pre) <= len(base) + 1:
            bad(A, "AppFlowy Cloud: APPFLOWY_S3_PRESIGNED_URL_ENDPOINT is %r, not a path under %s/ "
                   "(browsers cannot reach %s)" % (pre, base, s3_url))
        else:
            prefix = pre[len(base):].rstrip("/")
            signed_host = urlsplit(s3_url).netloc
            r = route(A, host, prefix + "/" + bucket + "/some/object", [s3_obj],
                      "/" + bucket + "/some/object", signed_host)
            if r is not None and CLASS == "traefik" and "seaweedfs" in repo and \
                    r["headers"].get("X-Forwarded-Host", "x") != "":
                bad(A, "%s: X-Forwarded-Host reaches SeaweedFS, which checks signatures against it" % prefix)
            nginx_body_at_least(A, r, "1000m", prefix)

    # --- image versions that must move together ---------------------------------
    tags = {r: image_tag(ct[r]["image"]) for r in ("cloud", "worker", "search") if ct[r]}
    if len(set(tags.values())) > 1:
        bad(A, "Cloud, Worker and Search must run the same version: %s" % ", ".join(
            "%s %s" % kv for kv in sorted(tags.items())))

    # --- routes ------------------------------------------------------------------
    def w(role):
        return [wl[role]] if wl.get(role) is not None else []

    r_root = route(A, host, "/", w("web"), "/")
    route(A, host, "/app/some-page", w("web"), "/app/some-page")
    r_api = route(A, host, "/api/workspace", w("cloud"), "/api/workspace")
    r_ws = route(A, host, "/ws/v2/7e1a0c2e-0000-4000-8000-000000000000", w("cloud"),
                 "/ws/v2/7e1a0c2e-0000-4000-8000-000000000000")
    r_gt = route(A, host, "/gotrue/token", w("gotrue"), "/token")
    route(A, host, "/gotrue/health", w("gotrue"), "/health")
    route(A, host, "/gotrue", w("gotrue"), "/")
    r_con = route(A, host, "/console", w("admin"), "/console")
    route(A, host, "/console/users", w("admin"), "/console/users")
    r_imp = route(A, host, "/api/import", w("cloud"), "/api/import")
    r_pub = route(A, host, "/api/workspace/7e1a0c2e-ab_cd/publish", w("cloud"),
                  "/api/workspace/7e1a0c2e-ab_cd/publish")
    if CLASS == "nginx":
        nginx_body_at_least(A, r_root, "10m", "/")
        nginx_body_at_least(A, r_api, "10m", "/api")
        nginx_body_at_least(A, r_con, "10m", "/console")
        nginx_body_at_least(A, r_gt, "10m", "/gotrue")
        nginx_body_at_least(A, r_pub, "256m", "/api/workspace/<id>/publish")
        nginx_body_at_least(A, r_imp, "2g", "/api/import")
        nginx_timeouts_at_least(A, r_ws, 3600, "/ws")
        nginx_timeouts_at_least(A, r_imp, 600, "/api/import")
        for r, label in ((r_imp, "/api/import"), (r_pub, "/api/workspace/<id>/publish")):
            if r is not None and str(nginx_value(r, "proxy-request-buffering", "on")) != "off":
                bad(A, "%s: request buffering is on (Ingress %s); uploads must stream" % (
                    label, name_of(r["ingress"])))
        if nginx_config().get("enable-underscores-in-headers") != "true":
            bad(A, "ingress-nginx drops headers with underscores (enable-underscores-in-headers is not "
                   "\"true\"); AppFlowy's clients send client_version and device_id")
    # Cloud reads the public origin of an import from X-Host (else it
    # assumes https://beta.appflowy.cloud).
    if r_imp is not None:
        xhost = r_imp["headers"].get("X-Host")
        if CLASS == "nginx":
            cm_ref = nginx_config().get("proxy-set-headers", "")
            cm = one("ConfigMap", *(cm_ref.split("/", 1))) if "/" in cm_ref else None
            xhost = ((cm or {}).get("data") or {}).get("X-Host")
            if xhost == "$scheme://$host":
                xhost = base
        if xhost != base:
            bad(A, "/api/import: X-Host reaches Cloud as %r, not %r (Cloud takes the public origin "
                   "of an import from it, else https://beta.appflowy.cloud)" % (xhost, base))
    if CLASS == "traefik":
        for o in kind_objs("HelmChartConfig", "kube-system"):
            if name_of(o) != "traefik":
                continue
            vals = yaml.safe_load(o["spec"].get("valuesContent") or "") or {}
            rt = (((((vals.get("ports") or {}).get("websecure") or {}).get("transport") or {})
                   .get("respondingTimeouts") or {}).get("readTimeout"))
            if rt is None or not (str(rt) in ("0", "0s") or re.fullmatch(r"\d+h", str(rt))):
                bad(A, "Traefik's websecure readTimeout is %r (60 s by default in Traefik 3, a deadline "
                       "on the whole connection): uploads and /ws connections are cut after it" % rt)
            break
        else:
            bad(A, "no HelmChartConfig kube-system/traefik: Traefik's default 60 s readTimeout cuts "
                   "uploads and /ws connections")
    check_middlewares(A, ns)

    # --- start order: postgres -> gotrue -> cloud -> the rest ------------------
    if wl["gotrue"] is not None and db is not None and not waits_for(wl["gotrue"], name_of(db) + "-rw", 5432):
        bad(A, "GoTrue starts without waiting for PostgreSQL (%s-rw:5432)" % name_of(db))
    gsvc = [k[1] for k, s in services.items() if k[0] == ns and wl["gotrue"] is not None and
            selects(s["spec"].get("selector"), pod_labels(wl["gotrue"]))]
    csvc = [k[1] for k, s in services.items() if k[0] == ns and wl["cloud"] is not None and
            selects(s["spec"].get("selector"), pod_labels(wl["cloud"]))]
    if wl["cloud"] is not None and gsvc:
        port = services[(ns, gsvc[0])]["spec"]["ports"][0]["port"]
        if not waits_for(wl["cloud"], gsvc[0], port, "/health"):
            bad(A, "AppFlowy Cloud starts without waiting for GoTrue (%s:%d/health)" % (gsvc[0], port))
    if csvc:
        port = services[(ns, csvc[0])]["spec"]["ports"][0]["port"]
        for role in ("worker", "web", "admin", "search"):
            if wl[role] is not None and not waits_for(wl[role], csvc[0], port, "/api/health"):
                bad(A, "%s starts without waiting for AppFlowy Cloud (%s:%d/api/health)" % (
                    names.get(role, "AppFlowy Search"), csvc[0], port))

    # --- NetworkPolicies -----------------------------------------------------------
    check_policy_basics(A, ns)
    check_connections(A, ns)
    routed = set()
    for path in ("/", "/api/workspace", "/ws/v2/x", "/gotrue/token", "/console", "/api/import",
                 "/api/workspace/x/publish", (env.get("cloud", {}).get("APPFLOWY_S3_PRESIGNED_URL_ENDPOINT", "")
                                              [len(base):].rstrip("/") or "/minio-api") + "/b/o"):
        r = request(A, host, path)
        b = backend(ns_of(r["ingress"]), r["service"], r["port"]) if r else "none"
        if not isinstance(b, str):
            routed |= {(pod.what, num) for pod, num, _ in b[1]}
    if CONTROLLER:
        for pod in pods:
            if pod.ns != ns:
                continue
            for pname, num, _ in pod.ports:
                if allowed(CONTROLLER, pod, num) and (pod.what, num) not in routed:
                    bad(A, "%s may open %s port %s, which no route points at" % (
                        CONTROLLER.what, pod.what, pname or num))
    operator = next((p for p in pods if p.obj is not None and p.obj.get("kind") == "Deployment" and
                     any(image_repo(c.get("image", "")).endswith("/cloudnative-pg")
                         for c in containers(p.obj))), None)
    for target, port, label, extra in ((db and name_of(db) + "-rw", 5432, "PostgreSQL", operator),
                                       (wl["redis"], 6379, "Valkey", None)):
        if target is None:
            continue
        if isinstance(target, str):
            dst = [p for p in pods if p.obj is db]
        else:
            dst = [p for p in pods if p.obj is target]
        for d in dst:
            for np in policies_for(d, "Ingress"):
                for rule in np["spec"].get("ingress") or []:
                    names_ = {n for n, p, _ in d.ports if p == port and n}
                    if not port_matches(rule.get("ports"), port, names_):
                        continue
                    if not rule.get("from"):
                        bad(A, "NetworkPolicy %s opens %s port %d to every pod" % (name_of(np), label, port))
                        continue
                    for peer in rule["from"]:
                        if "ipBlock" in peer:
                            bad(A, "NetworkPolicy %s opens %s port %d to %s" % (
                                name_of(np), label, port, peer["ipBlock"].get("cidr")))
                        elif "namespaceSelector" in peer:
                            ok = extra is not None and selects(peer["namespaceSelector"], labels_of_ns(extra.ns)) \
                                and "podSelector" in peer and selects(peer["podSelector"], extra.labels) and \
                                (peer["namespaceSelector"].get("matchLabels") or {}).get(
                                    "kubernetes.io/metadata.name") == extra.ns
                            if not ok:
                                bad(A, "NetworkPolicy %s opens %s port %d to pods of other namespaces (%s)" % (
                                    name_of(np), label, port, peer["namespaceSelector"]))
        for role in ("gotrue", "cloud", "worker", "search") if label == "PostgreSQL" else ("cloud", "worker", "search"):
            if wl[role] is None:
                continue
            src = next(p for p in pods if p.obj is wl[role])
            for d in dst:
                if not allowed(src, d, port):
                    bad(A, "%s cannot reach %s port %d" % (src.what, label, port))
    # The nightly dump of AppFlowy's database, when rendered, must reach it.
    for o in workloads(ns):
        if o["kind"] != "CronJob" or db is None:
            continue
        for c in containers(o):
            if env_of(c).get("PGHOST") == name_of(db) + "-rw":
                src = next(p for p in pods if p.obj is o)
                for d in [p for p in pods if p.obj is db]:
                    if not allowed(src, d, 5432):
                        bad(A, "%s (the dump) cannot reach PostgreSQL port 5432" % src.what)


# =============================================================================
# n8n
# =============================================================================
def shared_pg(app, who, host, port, dbname):
    """host:port must be the shared cluster's primary, dbname one of its databases."""
    key = svc_host(host or "", None) if host and "." in host else None
    want = ("postgres", "postgres-rw")
    if key != want or str(port) != "5432":
        bad(app, "%s: the database is at %s:%s, not the shared PostgreSQL (postgres-rw.postgres.svc:5432)" % (
            who, host, port))
        return
    dbs = [o["spec"].get("name") for o in kind_objs("Database", "postgres")
           if ((o["spec"].get("cluster") or {}).get("name")) == "postgres"]
    if dbname not in dbs:
        bad(app, "%s: database %r is not among the shared cluster's Databases %s" % (who, dbname, dbs))


def n8n():
    A = "n8n"
    host = fqdn(A)
    base = "https://" + host
    ns = next((name_of(o) for o in objs if o["_component"] == A and o["kind"] == "Namespace"), "n8n")
    main, workers, ollama, valkey = [], [], [], []
    for o in workloads(ns):
        if o["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for c in containers(o):
            repo = image_repo(c.get("image", ""))
            if repo.endswith("n8nio/n8n"):
                (workers if "worker" in (c.get("args") or []) + (c.get("command") or []) else main).append((o, c))
            elif repo.endswith("ollama/ollama"):
                ollama.append((o, c))
            elif re.search(r"(^|/)(valkey|redis)$", repo):
                valkey.append((o, c))
    if len(main) != 1:
        bad(A, "%d n8n main Deployments in %s, want 1" % (len(main), ns))
        return
    mo, mc = main[0]
    me = env_of(mc)
    for o, c in main + workers:
        who = "%s %s" % (o["kind"], name_of(o))
        e = env_of(c)
        if e.get("DB_TYPE") != "postgresdb":
            bad(A, "%s: DB_TYPE is %r, not postgresdb" % (who, e.get("DB_TYPE")))
        shared_pg(A, who, e.get("DB_POSTGRESDB_HOST"), e.get("DB_POSTGRESDB_PORT", "5432"),
                  e.get("DB_POSTGRESDB_DATABASE"))
        if not secret_ref(e.get("DB_POSTGRESDB_PASSWORD")):
            bad(A, "%s: DB_POSTGRESDB_PASSWORD is %s, not a secretKeyRef" % (
                who, "a literal" if e.get("DB_POSTGRESDB_PASSWORD") else "not set"))
        if not secret_ref(e.get("N8N_ENCRYPTION_KEY")):
            bad(A, "%s: N8N_ENCRYPTION_KEY is %s, not a secretKeyRef" % (
                who, "a literal" if e.get("N8N_ENCRYPTION_KEY") else "not set"))
        if o is not mo:
            for var in ("N8N_ENCRYPTION_KEY", "DB_POSTGRESDB_HOST", "DB_POSTGRESDB_DATABASE",
                        "DB_POSTGRESDB_USER", "DB_POSTGRESDB_PASSWORD"):
                if e.get(var) != me.get(var):
                    bad(A, "%s: %s is %s, the main process has %s" % (
                        who, var, *((desc(e.get(var)), desc(me.get(var))) if re.search("PASSWORD|KEY", var)
                                   else (repr(e.get(var)), repr(me.get(var))))))
        if e.get("N8N_HOST") != host:
            bad(A, "%s: N8N_HOST is %r, not %r" % (who, e.get("N8N_HOST"), host))
        if e.get("N8N_PROTOCOL") != "https":
            bad(A, "%s: N8N_PROTOCOL is %r, not https" % (who, e.get("N8N_PROTOCOL")))
        for var in ("WEBHOOK_URL", "N8N_WEBHOOK_URL", "N8N_EDITOR_BASE_URL"):
            if (var == "WEBHOOK_URL" or var in e) and e.get(var) != base + "/":
                bad(A, "%s: %s is %r, not %r" % (who, var, e.get(var), base + "/"))
    # The owner: set from the environment at every start, so nobody
    # claims the instance by opening it first; n8n takes a bcrypt hash.
    if me.get("N8N_INSTANCE_OWNER_MANAGED_BY_ENV") != "true":
        bad(A, "n8n: N8N_INSTANCE_OWNER_MANAGED_BY_ENV is %r: the first visitor would become the owner"
            % me.get("N8N_INSTANCE_OWNER_MANAGED_BY_ENV"))
    if me.get("N8N_INSTANCE_OWNER_EMAIL") != site.get("email"):
        bad(A, "n8n: N8N_INSTANCE_OWNER_EMAIL is %r, not the site's email %r"
            % (me.get("N8N_INSTANCE_OWNER_EMAIL"), site.get("email")))
    ref = secret_ref(me.get("N8N_INSTANCE_OWNER_PASSWORD_HASH"))
    if not ref or "hash" not in ref[1]:
        bad(A, "n8n: N8N_INSTANCE_OWNER_PASSWORD_HASH is %s, not a secretKeyRef to a hash"
            % desc(me.get("N8N_INSTANCE_OWNER_PASSWORD_HASH")))
    for o, c in workers:
        if any(k.startswith("N8N_INSTANCE_OWNER_") for k in env_of(c)):
            bad(A, "%s %s: a worker is given the owner's settings" % (o["kind"], name_of(o)))
    # /metrics (no login) on the editor's port: not for the outside.
    if me.get("N8N_METRICS") == "true":
        refused(A, host, "/metrics")
    if not re.fullmatch(r"[1-9]\d*", me.get("N8N_PROXY_HOPS", "")):
        bad(A, "n8n: N8N_PROXY_HOPS is %r: n8n behind the ingress controller needs it (1)" % me.get("N8N_PROXY_HOPS"))
    listens(A, mo, mc, int(me.get("N8N_PORT", "5678")), "N8N_PORT")
    for path in ("/", "/rest/push", "/webhook/some-hook"):
        route(A, host, path, [mo], path)
    if CLASS == "nginx":
        r = request(A, host, "/rest/push")
        nginx_timeouts_at_least(A, r, 3600, "n8n /rest/push (the editor's WebSocket)")

    # Queue mode: workers and the broker.
    queue = bool(conf(A).get("queue", False))
    if queue:
        want = int(conf(A).get("workers", 2))
        if len(workers) != 1:
            bad(A, "queue mode: %d worker Deployments, want 1" % len(workers))
        elif workers[0][0]["spec"].get("replicas") != want:
            bad(A, "queue mode: %d workers, the site asks for %d" % (workers[0][0]["spec"].get("replicas"), want))
        if not valkey:
            bad(A, "queue mode: no Valkey/Redis rendered in %s" % ns)
        vrefs = {secret_ref(v) for _, c in valkey for v in env_of(c).values() if secret_ref(v)}
        for o, c in main + workers:
            e = env_of(c)
            who = "%s %s" % (o["kind"], name_of(o))
            if e.get("EXECUTIONS_MODE") != "queue":
                bad(A, "%s: EXECUTIONS_MODE is %r, not queue" % (who, e.get("EXECUTIONS_MODE")))
            key = svc_host(e.get("QUEUE_BULL_REDIS_HOST", ""), ns)
            b = backend(key[0], key[1], int(e.get("QUEUE_BULL_REDIS_PORT", "6379"))) if key else "no Service"
            if isinstance(b, str) or not any(pod.obj in [v for v, _ in valkey] for pod, _, _ in b[1]):
                bad(A, "%s: QUEUE_BULL_REDIS_HOST %r does not lead to Valkey" % (who, e.get("QUEUE_BULL_REDIS_HOST")))
            if vrefs and secret_ref(e.get("QUEUE_BULL_REDIS_PASSWORD")) not in vrefs:
                bad(A, "%s: QUEUE_BULL_REDIS_PASSWORD is %s, Valkey's is %s" % (
                    who, desc(e.get("QUEUE_BULL_REDIS_PASSWORD")),
                    ", ".join("<secret %s/%s>" % r for r in sorted(vrefs))))
    else:
        if workers:
            bad(A, "queue mode is off, yet %d worker Deployment(s) are rendered" % len(workers))
        if me.get("EXECUTIONS_MODE") == "queue":
            bad(A, "queue mode is off, yet the main process has EXECUTIONS_MODE=queue")

    # Ollama on the GPU.
    gpu = conf(A).get("gpu", "auto")
    if gpu == "auto":
        gpu = "ollama" if gpu_nodes() else "none"
    if gpu == "ollama" and not ollama:
        bad(A, "the site gives the GPU to Ollama, no Ollama Deployment is rendered")
    if gpu != "ollama" and ollama:
        bad(A, "an Ollama Deployment is rendered, the site's GPU setting is %s" % gpu)
    for o, c in ollama:
        spec = pod_template(o)["spec"]
        who = "%s %s" % (o["kind"], name_of(o))
        if spec.get("runtimeClassName") != "nvidia":
            bad(A, "%s: runtimeClassName is %r, not nvidia" % (who, spec.get("runtimeClassName")))
        lim = ((c.get("resources") or {}).get("limits") or {}).get("nvidia.com/gpu")
        if not str(lim or "").isdigit() or int(lim) < 1:
            bad(A, "%s: no nvidia.com/gpu limit" % who)
        hosts = set()
        sel = spec.get("nodeSelector") or {}
        if sel.get("kubernetes.io/hostname"):
            hosts.add(sel["kubernetes.io/hostname"])
        gpu_label = sel.get("nvidia.com/gpu.present") == "true"
        terms = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                 .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
        for t in terms:
            for e in t.get("matchExpressions") or []:
                if e["key"] == "kubernetes.io/hostname" and e["operator"] == "In":
                    hosts |= set(e.get("values") or [])
                if e["key"] == "nvidia.com/gpu.present":
                    gpu_label = True
        if not gpu_label and (not hosts or not hosts <= set(gpu_nodes())):
            bad(A, "%s: not bound to the GPU nodes %s (scheduled to %s)" % (
                who, gpu_nodes(), sorted(hosts) or "any node"))
        m = re.search(r":(\d+)$", env_of(c).get("OLLAMA_HOST", ""))
        listens(A, o, c, int(m.group(1)) if m else 11434, "OLLAMA_HOST")
        if not any(any("k8s-device-plugin" in x.get("image", "") for x in containers(d))
                   for d in workloads() if d["kind"] == "DaemonSet"):
            bad(A, "Ollama asks for nvidia.com/gpu, no NVIDIA device plugin DaemonSet is rendered")
        for mo2, mc2 in main + workers:
            url = env_of(mc2).get("OLLAMA_BASE_URL")
            if url is None:
                continue
            u = urlsplit(url)
            key = svc_host(u.hostname or "", ns)
            b = backend(key[0], key[1], u.port or 80) if key else "no Service"
            if isinstance(b, str) or not any(pod.obj is o for pod, _, _ in b[1]):
                bad(A, "%s %s: OLLAMA_BASE_URL %r does not lead to Ollama" % (mo2["kind"], name_of(mo2), url))
    check_policy_basics(A, ns)
    check_connections(A, ns)
    check_middlewares(A, ns)


# =============================================================================
# NocoDB
# =============================================================================
def nocodb():
    A = "nocodb"
    host = fqdn(A)
    base = "https://" + host
    ns = next((name_of(o) for o in objs if o["_component"] == A and o["kind"] == "Namespace"), "nocodb")
    found = [(o, c) for o in workloads(ns) if o["kind"] in ("Deployment", "StatefulSet")
             for c in containers(o) if image_repo(c.get("image", "")).endswith("nocodb/nocodb")]
    if len(found) != 1:
        bad(A, "%d NocoDB Deployments in %s, want 1" % (len(found), ns))
        return
    o, c = found[0]
    e = env_of(c)
    nc = e.get("NC_DB", "")
    if "$(" in nc:
        bad(A, "NC_DB=%s has an unresolved $(VAR)" % show(nc))
    u = urlsplit(nc)
    q = parse_qs(u.query)
    if u.scheme not in ("pg", "postgres", "postgresql"):
        bad(A, "NC_DB is not a PostgreSQL URL: %r" % show(nc))
    else:
        shared_pg(A, "NocoDB", u.hostname, u.port or 5432, (q.get("d") or [u.path.lstrip("/")])[0])
        password = (q.get("p") or [u.password or ""])[0]
        if not secret_ref(password):
            bad(A, "NC_DB's password is %s, not a secretKeyRef" % ("a literal" if password else "missing"))
    if not secret_ref(e.get("NC_AUTH_JWT_SECRET")):
        bad(A, "NC_AUTH_JWT_SECRET is %s, not a secretKeyRef" % ("a literal" if e.get("NC_AUTH_JWT_SECRET")
                                                                 else "not set"))
    # The super admin, made at start from the environment (both or none
    # are read): nobody claims the instance by opening it first.
    if e.get("NC_ADMIN_EMAIL") != site.get("email"):
        bad(A, "NC_ADMIN_EMAIL is %r, not the site's email %r" % (e.get("NC_ADMIN_EMAIL"), site.get("email")))
    if not secret_ref(e.get("NC_ADMIN_PASSWORD")):
        bad(A, "NC_ADMIN_PASSWORD is %s, not a secretKeyRef" % desc(e.get("NC_ADMIN_PASSWORD")))
    for var in ("NC_PUBLIC_URL", "NC_SITE_URL"):
        if (var == "NC_PUBLIC_URL" or var in e) and e.get(var) != base:
            bad(A, "%s is %r, not %r" % (var, e.get(var), base))
    listens(A, o, c, int(e.get("PORT", "8080")), "PORT")
    route(A, host, "/", [o], "/")
    route(A, host, "/api/v1/health", [o], "/api/v1/health")
    check_policy_basics(A, ns)
    check_connections(A, ns)
    check_middlewares(A, ns)


def grafana():
    """Grafana's /metrics needs no login: not for the outside; its pages
    are."""
    for ing in kind_objs("Ingress", "monitoring"):
        for rule in ing["spec"].get("rules") or []:
            h = rule.get("host")
            refused("grafana", h, "/metrics")
            r = request("grafana", h, "/login")
            if r is None or r["refused"]:
                bad("grafana", "https://%s/login is %s" % (h, "not routed" if r is None else "refused"))


for app, fn in (("appflowy", appflowy), ("n8n", n8n), ("nocodb", nocodb)):
    if active(app):
        fn()
grafana()

seen = set()
for p in problems:
    if p not in seen:
        seen.add(p)
        print("wiring: %s: %s" % (os.path.basename(SITE), p))
sys.exit(1 if problems else 0)
