"""The preflight module against the lab, as the automation identity: what it finds in Karmada and in each
member, that a refused read is a warning naming the permission, and that it writes nothing and never
returns a Secret's data.

The manifests are a frontend canary the way the user writes one (Rollout, stable and canary Services,
VirtualService on an HTTPS Gateway, one PropagationPolicy for all of them), in a fresh namespace whose
TLS Secret exists in ``istio-system`` of every member.
"""

import json

import pytest

pytestmark = pytest.mark.lab

ISTIO = "networking.istio.io/v1"


def frontend(ns, secret, stable="web-stable"):
    """The user's frontend canary objects, fine as they are."""
    labels = {"app": "web"}
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
         "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}], "selector": labels}}
        for name in ("web-stable", "web-canary")
    ] + [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web", "namespace": ns},
         "spec": {"replicas": 4, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"containers": [{"name": "web", "image": "web:1.0.0",
                                                        "ports": [{"name": "http", "containerPort": 80}]}]}},
                  "strategy": {"canary": {
                      "stableService": "web-stable", "canaryService": "web-canary",
                      "trafficRouting": {"managedRoutes": [{"name": "canary-header"}],
                                         "istio": {"virtualService": {"name": "web", "routes": ["primary"]}}},
                      "steps": [{"setCanaryScale": {"replicas": 1}},
                                {"setHeaderRoute": {"name": "canary-header", "match": [
                                    {"headerName": "X-canary", "headerValue": {"exact": "test-user"}}]}},
                                {"pause": {}}, {"setWeight": 20},
                                {"setCanaryScale": {"matchTrafficWeight": True}}, {"pause": {}}]}}}},
        {"apiVersion": ISTIO, "kind": "VirtualService", "metadata": {"name": "web", "namespace": ns},
         "spec": {"hosts": ["web.example.com"], "gateways": ["web-gateway"],
                  "http": [{"name": "primary", "route": [{"destination": {"host": stable}, "weight": 100},
                                                         {"destination": {"host": "web-canary"}, "weight": 0}]}]}},
        {"apiVersion": ISTIO, "kind": "Gateway", "metadata": {"name": "web-gateway", "namespace": ns},
         "spec": {"selector": {"istio": "ingressgateway"},
                  "servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                               "hosts": ["web.example.com"],
                               "tls": {"mode": "SIMPLE", "credentialName": secret}}]}},
        {"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
         "metadata": {"name": "web", "namespace": ns},
         "spec": {"resourceSelectors": [
             {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "web"},
             {"apiVersion": "v1", "kind": "Service", "name": "web-stable"},
             {"apiVersion": "v1", "kind": "Service", "name": "web-canary"},
             {"apiVersion": ISTIO, "kind": "VirtualService", "name": "web"},
             {"apiVersion": ISTIO, "kind": "Gateway", "name": "web-gateway"}],
             "placement": {"replicaScheduling": {"replicaSchedulingType": "Divided",
                                                 "replicaDivisionPreference": "Weighted"}}}},
    ]


@pytest.fixture
def app_namespace(lab, namespace, run_module):
    """A fresh namespace labelled for sidecar injection, a TLS Secret for it in every member's istio-system,
    and Karmada's Rollout interpreter (what bootstrap.yml installs)."""
    installed = run_module("karmada_interpreter", {"state": "present"}, identity="admin")
    assert not installed.get("failed"), installed.get("msg")
    lab.kubectl("label", "namespace", namespace, "istio-injection=enabled")
    secret = namespace + "-tls"
    tls = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
           "metadata": {"name": secret, "namespace": "istio-system"},
           "data": {"tls.crt": "UFJFRkxJR0hULUNFUlQ=", "tls.key": "UFJFRkxJR0hULUtFWQ=="}}
    for member in lab.members:
        lab.apply(tls, context=member)
    lab.wait_for(lambda: all((lab.get(m, "namespace", namespace) or {}).get("metadata", {}).get("labels", {}).get(
        "istio-injection") == "enabled" for m in lab.members), what="the injection label in every member")
    yield namespace, secret
    for member in lab.members:
        lab.kubectl("delete", "secret", "-n", "istio-system", secret, "--ignore-not-found", context=member,
                    check=False)


def test_a_fine_frontend_has_no_error(lab, app_namespace, run_module):
    ns, secret = app_namespace
    result = run_module("preflight", {"manifests": frontend(ns, secret)})
    assert not result.get("failed"), result.get("msg")
    assert sorted(result["clusters"]) == sorted(lab.members)
    assert result["summary"]["errors"] == 0, result["report"]
    # What can be read of the lab's Argo Rollouts controllers: they run as processes, with no Deployment
    # and no leader Lease, and no Rollout of this new namespace has been reconciled yet.
    assert set(f["check"] for f in result["findings"]) <= {"readiness"}, result["report"]
    assert result["unread"] == [], result["unread"]
    assert result["report"][0].startswith("preflight: 0 error(s)") or result["report"][0].startswith(
        "preflight: no finding"), result["report"]


def test_a_missing_secret_and_a_missing_service_are_found_in_every_member(lab, app_namespace, run_module):
    ns, secret = app_namespace
    typo = secret[:-len("tls")] + "tsl"
    result = run_module("preflight", {"manifests": frontend(ns, typo, stable="web-stabel")})
    assert result.get("failed"), result
    errors = [f for f in result["findings"] if f["severity"] == "error"]
    assert result["msg"].startswith("preflight: {0} error(s)".format(len(errors))), result["msg"]
    by_field = {}
    for f in errors:
        by_field.setdefault((f["object"], f["field"]), []).append(f["cluster"])
    assert sorted(by_field[("Gateway/{0}/web-gateway".format(ns), "spec.servers[0].tls.credentialName")]) == \
        sorted(lab.members)
    assert sorted(by_field[("VirtualService/{0}/web".format(ns), "spec.http[0].route[0].destination.host")]) == \
        sorted(lab.members)
    gateway = [f for f in errors if f["object"].startswith("Gateway/")][0]
    assert "there is no Secret {0} in istio-system of ".format(typo) in gateway["message"]
    assert "did you mean {0}?".format(secret) in gateway["fix"]
    service = [f for f in errors if f["object"].startswith("VirtualService/")][0]
    assert "there is no Service web-stabel in namespace {0}".format(ns) in service["message"]
    assert "did you mean web-stable" in service["fix"]
    # it wrote nothing: the namespace is as empty in Karmada and in every member as it was
    for context in [lab.karmada] + lab.members:
        left = json.loads(lab.kubectl("get", "services,rollouts.argoproj.io,virtualservices.networking.istio.io,"
                                      "gateways.networking.istio.io", "-n", ns, "-o", "json", context=context))
        assert left["items"] == [], (context, [i["metadata"]["name"] for i in left["items"]])
    # and no Secret data reached the result
    text = json.dumps(result)
    assert "UFJFRkxJR0hULUtFWQ==" not in text and "UFJFRkxJR0hULUNFUlQ=" not in text


def test_a_refused_read_is_a_warning_naming_the_permission(lab, app_namespace, run_module):
    ns, secret = app_namespace
    # the automation identity may list Secrets in istio-system only
    result = run_module("preflight", {"manifests": frontend(ns, secret), "gateway_namespace": "kube-system"})
    assert not result.get("failed"), result.get("msg")
    warned = [f for f in result["findings"] if f["field"] == "spec.servers[0].tls.credentialName"]
    assert warned and all(f["severity"] == "warning" for f in warned), result["report"]
    assert "list secrets in kube-system failed" in warned[0]["message"]
    assert warned[0]["fix"].startswith("grant the identity list secrets in kube-system"), warned[0]["fix"]
    assert any("list secrets in kube-system" in u for u in result["unread"]), result["unread"]


def test_a_policy_at_a_version_karmada_never_matches(lab, app_namespace, run_module):
    ns, secret = app_namespace
    objs = frontend(ns, secret)
    for sel in objs[-1]["spec"]["resourceSelectors"]:
        if sel["apiVersion"] == ISTIO:
            sel["apiVersion"] = "networking.istio.io/v1alpha3"
    result = run_module("preflight", {"manifests": objs, "fail_on": "never"})
    bad = [f for f in result["findings"] if f["severity"] == "error"]
    assert [(f["cluster"], f["field"]) for f in bad] == [
        ("karmada", "spec.resourceSelectors[3].apiVersion"), ("karmada", "spec.resourceSelectors[4].apiVersion")]
    # the lab's Karmada prefers Istio's v1, read from its discovery
    assert "Karmada reads VirtualService templates at networking.istio.io/v1" in bad[0]["message"]


def test_an_unknown_cluster_is_named(lab, app_namespace, run_module):
    ns, secret = app_namespace
    objs = frontend(ns, secret)
    objs[-1]["spec"]["placement"]["clusterAffinity"] = {"clusterNames": lab.members + ["k8s-master-hangzhou"]}
    result = run_module("preflight", {"manifests": objs, "fail_on": "never"})
    bad = [f for f in result["findings"] if "k8s-master-hangzhou" in f["message"]]
    assert [(f["severity"], f["field"]) for f in bad] == [("error", "spec.placement.clusterAffinity.clusterNames[4]")]
