#!/usr/bin/python3
"""SIMULATED: what the Prometheus operator (v0.92.0) makes of sector7's
AlertmanagerConfig, for a test that runs the real Alertmanager.

    operator_sim.py RENDER.yaml SECRETS.json > alertmanager.yaml

The operator does not run here.  For an Alertmanager whose
spec.alertmanagerConfiguration names an AlertmanagerConfig, it builds
Alertmanager's configuration from that object alone (pkg/alertmanager,
initializeFromAlertmanagerConfig): receiver names become
NAMESPACE/NAME/RECEIVER, matchers become "name<op>value" strings, and the
values of the Secrets the object references (SecretKeySelectors in its
namespace) are copied into the configuration.  This script does that for
the fields sector7 renders and refuses any other, so a field the
template starts to use cannot be silently dropped here.  SECRETS.json
maps "name/key" to the value of that key of that Secret.
"""
import json
import sys
import yaml

render_file, secrets_file = sys.argv[1:3]
secrets = json.load(open(secrets_file))
objs = [d for d in yaml.safe_load_all(open(render_file)) if d]
am = [o for o in objs if o["kind"] == "Alertmanager" and o["metadata"]["name"] == "main"][0]
name = am["spec"]["alertmanagerConfiguration"]["name"]
ns = am["metadata"]["namespace"]
cfg = [o for o in objs if o["kind"] == "AlertmanagerConfig" and o["metadata"]["name"] == name
       and o["metadata"]["namespace"] == ns][0]
spec = cfg["spec"]
prefix = "%s/%s/" % (ns, name)


def only(d, allowed, where):
    extra = set(d) - set(allowed)
    if extra:
        sys.exit("operator_sim.py: %s: fields this simulation does not know: %s" % (where, sorted(extra)))


def secret(sel, where):
    only(sel, ["name", "key"], where)
    k = "%s/%s" % (sel["name"], sel["key"])
    if k not in secrets:
        sys.exit("operator_sim.py: %s: Secret %s/%s key %s does not exist (the operator would refuse the configuration)"
                 % (where, ns, sel["name"], sel["key"]))
    return secrets[k]


def matchers(ms):
    return ['%s%s"%s"' % (m["name"], m.get("matchType", "="), m["value"]) for m in ms]


def route(r):
    only(r, ["receiver", "groupBy", "groupWait", "groupInterval", "repeatInterval",
             "routes", "matchers", "continue"], "route")
    out = {"receiver": prefix + r["receiver"]}
    for a, b in (("groupBy", "group_by"), ("groupWait", "group_wait"),
                 ("groupInterval", "group_interval"), ("repeatInterval", "repeat_interval"),
                 ("continue", "continue")):
        if a in r:
            out[b] = r[a]
    if r.get("matchers"):
        out["matchers"] = matchers(r["matchers"])
    if r.get("routes"):
        out["routes"] = [route(x) for x in r["routes"]]
    return out


def email(e, where):
    only(e, ["to", "from", "smarthost", "authUsername", "authPassword", "requireTLS",
             "forceImplicitTLS", "sendResolved"], where)
    out = {"to": e["to"], "from": e["from"], "smarthost": e["smarthost"]}
    if "authUsername" in e:
        out["auth_username"] = e["authUsername"]
    if "authPassword" in e:
        out["auth_password"] = secret(e["authPassword"], where)
    if "requireTLS" in e:
        out["require_tls"] = e["requireTLS"]
    if "forceImplicitTLS" in e:
        out["force_implicit_tls"] = e["forceImplicitTLS"]
    if "sendResolved" in e:
        out["send_resolved"] = e["sendResolved"]
    return out


def webhook(w, where):
    only(w, ["url", "sendResolved", "httpConfig"], where)
    out = {"url": w["url"]}
    if "sendResolved" in w:
        out["send_resolved"] = w["sendResolved"]
    if "httpConfig" in w:
        only(w["httpConfig"], ["authorization"], where + ".httpConfig")
        a = w["httpConfig"]["authorization"]
        only(a, ["type", "credentials"], where + ".httpConfig.authorization")
        out["http_config"] = {"authorization": {"type": a["type"],
                                                "credentials": secret(a["credentials"], where)}}
    return out


only(spec, ["route", "receivers", "inhibitRules"], "spec")
receivers = []
for r in spec["receivers"]:
    only(r, ["name", "emailConfigs", "webhookConfigs"], "receiver " + r["name"])
    out = {"name": prefix + r["name"]}
    if r.get("emailConfigs"):
        out["email_configs"] = [email(e, "%s.emailConfigs[%d]" % (r["name"], i)) for i, e in enumerate(r["emailConfigs"])]
    if r.get("webhookConfigs"):
        out["webhook_configs"] = [webhook(w, "%s.webhookConfigs[%d]" % (r["name"], i)) for i, w in enumerate(r["webhookConfigs"])]
    receivers.append(out)
inhibit = []
for ir in spec.get("inhibitRules", []):
    only(ir, ["sourceMatch", "targetMatch", "equal"], "inhibitRules")
    inhibit.append({"source_matchers": matchers(ir["sourceMatch"]),
                    "target_matchers": matchers(ir["targetMatch"]),
                    "equal": ir.get("equal", [])})
print(yaml.safe_dump({"route": route(spec["route"]), "receivers": receivers,
                      "inhibit_rules": inhibit, "templates": []}, sort_keys=False))
