#!/usr/bin/python3
"""Compares a Flux tree with sector7 render's objects.

    compare.py RENDER.yaml TREE BUILT-DIR

RENDER.yaml is `sector7 render`'s stream; TREE the export; BUILT-DIR holds
one file per component directory, NN-NAME.yaml, the output of `kubectl
kustomize TREE/components/NN-NAME`.  Checks, object by object, that the
built objects are render's objects (same set, same content, each in its
component's directory), and that the Flux Kustomizations are consistent:
one per component directory, paths that exist, dependsOn naming
Kustomizations of the tree without cycles, health checks on objects the
render has (or that k3s makes), no Secret values.
"""
import os
import sys
import yaml

render_file, tree, built = sys.argv[1:4]
problems = []


def key(o):
    md = o.get("metadata", {})
    group = o["apiVersion"].rsplit("/", 1)[0] if "/" in o["apiVersion"] else ""
    return (group, o["kind"], md.get("namespace", ""), md["name"])


class Loader(yaml.SafeLoader):
    """YAML 1.2 reads a plain '=' as a string; PyYAML's 1.1 'value' tag not."""


Loader.add_constructor("tag:yaml.org,2002:value", lambda l, n: l.construct_scalar(n))


def load(path):
    with open(path) as f:
        return [d for d in yaml.load_all(f, Loader=Loader) if d]


normalised = []


def normalise(o, where):
    """kustomize drops an empty metadata.annotations or metadata.labels
    (the API server stores an object with or without one the same); that
    is the only difference allowed, and each is counted."""
    md = o.get("metadata", {})
    for f in ("annotations", "labels"):
        if f in md and md[f] == {}:
            del md[f]
            normalised.append("%s %s: empty metadata.%s" % (where, key(o), f))
    return o


rendered = {}
for o in map(lambda x: normalise(x, "render"), load(render_file)):
    k = key(o)
    if k in rendered:
        problems.append("render has %s twice" % (k,))
    rendered[k] = o

got = {}
for name in sorted(os.listdir(built)):
    comp = name[:-len(".yaml")].split("-", 1)[1]
    for o in load(os.path.join(built, name)):
        o = normalise(o, "tree")
        k = key(o)
        if k in got:
            problems.append("%s is built twice" % (k,))
        got[k] = o
        label = o.get("metadata", {}).get("labels", {}).get("sector7.io/component")
        if label != comp:
            problems.append("%s is in components/%s but belongs to %s" % (k, name, label))

for k in sorted(set(rendered) - set(got)):
    problems.append("rendered but not in the tree: %s" % (k,))
for k in sorted(set(got) - set(rendered)):
    problems.append("in the tree but not rendered: %s" % (k,))
same = 0
for k in sorted(set(got) & set(rendered)):
    if got[k] != rendered[k]:
        problems.append("%s differs from render's" % (k,))
    else:
        same += 1
    if k[1] == "Secret":
        vals = list((got[k].get("data") or {}).values()) + list((got[k].get("stringData") or {}).values())
        if any(vals):
            problems.append("%s: a Secret with values in the tree" % (k,))

# --- the Flux Kustomizations ---
fdir = os.path.join(tree, "flux")
listed = load(os.path.join(fdir, "kustomization.yaml"))[0]["resources"]
files = sorted(f for f in os.listdir(fdir) if f != "kustomization.yaml")
if sorted(listed) != files:
    problems.append("flux/kustomization.yaml lists %s, the directory has %s" % (listed, files))
comps = sorted(os.listdir(os.path.join(tree, "components")))
if [f[:-5] for f in files] != comps:
    problems.append("Flux Kustomizations %s for component directories %s" % (files, comps))
ks = {}
for f in files:
    k = load(os.path.join(fdir, f))[0]
    if k["apiVersion"] != "kustomize.toolkit.fluxcd.io/v1" or k["kind"] != "Kustomization":
        problems.append("%s: not a kustomize.toolkit.fluxcd.io/v1 Kustomization" % f)
    ks[k["metadata"]["name"]] = k
    spec = k["spec"]
    p = spec["path"]
    if not p.startswith("./") or not os.path.isdir(os.path.join(tree, p[2:])) or \
            os.path.basename(p) != f[:-5]:
        problems.append("%s: path %s is not its component directory" % (f, p))
    if ("wait" in spec) == ("healthChecks" in spec):
        problems.append("%s: wants either wait or healthChecks" % f)
    for h in spec.get("healthChecks", []):
        hk = (h["apiVersion"].rsplit("/", 1)[0] if "/" in h["apiVersion"] else "",
              h["kind"], h.get("namespace", ""), h["name"])
        if hk not in rendered and not (hk[1] == "Service" and hk[2] == "kube-system"):
            problems.append("%s: health check on %s, which nothing renders" % (f, hk))
    for field in ("interval", "prune", "sourceRef"):
        if field not in spec:
            problems.append("%s: no spec.%s" % (f, field))
for name, k in ks.items():
    for d in k["spec"].get("dependsOn", []):
        if d["name"] not in ks:
            problems.append("%s depends on %s, not in the tree" % (name, d["name"]))


def reach(n, seen):
    for d in ks[n]["spec"].get("dependsOn", []):
        if d["name"] == start:
            return True
        if d["name"] in ks and d["name"] not in seen:
            seen.add(d["name"])
            if reach(d["name"], seen):
                return True
    return False


for start in ks:
    if reach(start, set()):
        problems.append("dependsOn cycle through %s" % start)

for p in problems:
    print("FAIL: " + p, file=sys.stderr)
print("  %s: %d objects equal to render's in %d Flux Kustomizations (%d empty metadata maps dropped by kustomize)" % (
    os.path.basename(tree), same, len(ks), len(normalised)))
sys.exit(1 if problems else 0)
