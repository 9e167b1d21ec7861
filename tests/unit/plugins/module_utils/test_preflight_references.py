# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight references: every name an object uses exists where the object runs (each check passes and fails)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import shutil
import tempfile

from ansible_collections.multicluster.canary.plugins.module_utils import preflight_reader as reader
from ansible_collections.multicluster.canary.plugins.module_utils.preflight_references import (
    gateway_ref,
    rollout_ref,
    service_of_host,
)

from tests.unit.plugins.module_utils.preflight_fake import (
    FIXTURES,
    MEMBERS,
    Federation,
    docs,
    errors,
    found,
    load,
    selecting,
    service,
    tls_secret,
)

SEED000 = os.path.join(FIXTURES, "preflight", "seed000")
NS = "helloworld-rollout"


def seed000_dir():
    """The user's directory: the fixtures, the two Services back in one file of two documents."""
    if not _SEED000:
        path = tempfile.mkdtemp(prefix="seed000-")
        for name in sorted(os.listdir(SEED000)):
            if name.endswith(".yml") and not name.startswith("helloworld-svc-"):
                shutil.copy(os.path.join(SEED000, name), path)
        with open(os.path.join(path, "helloworld-rollout-svc.yml"), "w") as f:
            for i, name in enumerate(("helloworld-svc-stable.yml", "helloworld-svc-canary.yml")):
                with open(os.path.join(SEED000, name)) as part:
                    f.write(("\n---\n" if i else "") + part.read())
        _SEED000.append(path)
    return _SEED000[0]


_SEED000 = []


def seed000():
    """The user's frontend canary files, as (source, object) - the way check.yml reads a directory."""
    return reader.load_files(seed000_dir())[0]


def fixed(items, **changes):
    """The seed's files with what the check reported put right (and ``changes``: source -> fn(object))."""
    out = []
    for source, obj in copy.deepcopy(items):
        if obj["kind"] == "PropagationPolicy":
            for sel in obj["spec"]["resourceSelectors"]:
                if sel["apiVersion"].startswith("networking.istio.io/"):
                    sel["apiVersion"] = "networking.istio.io/v1"
        if obj["kind"] == "Gateway":
            obj["spec"]["servers"][0]["tls"]["credentialName"] = "prd-vue-tls-secret"
        for name, fn in changes.items():
            if obj["metadata"]["name"] == name:
                fn(obj)
        out.append((source, obj))
    return out


def federation():
    return Federation(namespaces=(NS,)).in_members(tls_secret("prd-vue-tls-secret"))


def test_service_hosts_as_istio_reads_them():
    assert service_of_host("reviews", "bookinfo") == ("bookinfo", "reviews")
    assert service_of_host("reviews.default", "bookinfo") == ("default", "reviews")
    assert service_of_host("reviews.default.svc", "bookinfo") == ("default", "reviews")
    assert service_of_host("helloworld.gray-demo.svc.cluster.local", "x") == ("gray-demo", "helloworld")
    assert service_of_host("api.example.com", "x") is None  # outside the cluster (a ServiceEntry)
    assert service_of_host("*.example.com", "x") is None
    assert gateway_ref("mesh", "ns") is None
    assert gateway_ref("istio-system/public", "ns") == ("istio-system", "public")
    assert gateway_ref("web-gateway", "ns") == ("ns", "web-gateway")
    assert rollout_ref("vsvc", "ns") == ("ns", "vsvc")
    assert rollout_ref("vsvc.other", "ns") == ("other", "vsvc")


def test_the_seed_frontend_once_fixed_has_no_reference_finding():
    findings = federation().check(fixed(seed000()))
    assert found(findings, check="references") == []
    assert errors(findings) == []


# --- VirtualService ------------------------------------------------------------------------


def test_a_virtual_service_naming_a_missing_service_fails_in_every_member():
    # the user's no-canary VirtualService routes to prd-vue-svc-stable, a Service nobody created
    def wrong_hosts(vs):
        vs["spec"]["http"][0]["route"][0]["destination"]["host"] = "prd-vue-svc-stable"
    findings = federation().check(fixed(seed000(), **{"helloworld-vsvc": wrong_hosts}))
    missing = found(findings, "error", "references", field="spec.http[0].route[0].destination.host")
    assert sorted(f["cluster"] for f in missing) == sorted(MEMBERS)
    assert "there is no Service prd-vue-svc-stable in namespace helloworld-rollout of k8s-master-beijing" in \
        found(missing, cluster="k8s-master-beijing")[0]["message"]
    assert missing[0]["object"] == "VirtualService/helloworld-rollout/helloworld-vsvc"
    assert missing[0]["source"] == "helloworld-vsvc.yml#1"
    # and the Rollout's own check of its route says the stable Service is not a destination there
    assert found(findings, "error", contains="has no destination with host helloworld-svc-stable")


def test_a_service_in_karmada_that_no_policy_places():
    items = fixed(seed000())
    svc = [o for _s, o in items if o["metadata"]["name"] == "helloworld-svc-canary"][0]
    items = [(s, o) for s, o in items if o is not svc]  # the user forgot the canary Service's file...
    fed = federation().in_karmada(svc)  # ...but it is in Karmada, and the policy still selects it
    findings = fed.check(items)
    assert errors(findings) == []
    for _s, o in items:  # now the policy forgets it
        if o["kind"] == "PropagationPolicy" and o["metadata"]["name"] == "helloworld-stable-propagation":
            o["spec"]["resourceSelectors"] = o["spec"]["resourceSelectors"][:2]
    missing = found(federation().in_karmada(svc).check(items), "error", "references",
                    cluster="k8s-master-shanghai", contains="no PropagationPolicy places it on k8s-master-shanghai")
    assert sorted(f["field"] for f in missing) == ["spec.http[0].route[1].destination.host",
                                                   "spec.strategy.canary.canaryService"]


def test_a_service_port_the_route_names():
    def port(vs):
        vs["spec"]["http"][0]["route"][0]["destination"]["port"] = {"number": 8080}
    findings = federation().check(fixed(seed000(), **{"helloworld-vsvc": port}))
    bad = found(findings, "error", field="spec.http[0].route[0].destination.port.number")
    assert len(bad) == 4 and "has no port 8080 (its ports: 80)" in bad[0]["message"]


def test_subsets_of_seed003_pass_and_a_missing_subset_fails():
    vs, dr = load("istio/seed003_gray_demo_vs.yaml", "istio/seed003_gray_demo_dr.yaml")
    gateway = {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
               "metadata": {"name": "gray-demo-gateway", "namespace": "gray-demo"},
               "spec": {"selector": {"istio": "ingressgateway"},
                        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}}
    svc = service("helloworld", "gray-demo", port=5000)
    objs = [vs, dr, gateway, svc]
    fed = Federation(namespaces=("gray-demo",))
    assert found(fed.check(objs + [selecting("gray", objs)]), check="references") == []
    vs3 = copy.deepcopy(vs)
    vs3["spec"]["http"][0]["route"][1]["destination"]["subset"] = "v3"
    bad = found(Federation(namespaces=("gray-demo",)).check([vs3, dr, gateway, svc, selecting("gray", objs)]),
                "error", "references", field="spec.http[0].route[1].destination.subset")
    assert len(bad) == 4
    assert "subset 'v3' of host helloworld.gray-demo.svc.cluster.local is not defined: DestinationRule helloworld " \
           "(subsets: v1, v2)" in bad[0]["message"]


def test_seed002s_fallback_route_names_a_subset_its_destination_rule_lacks():
    vs, dr = load("istio/seed002_provider_vs.yaml", "istio/seed002_provider_dr.yaml")
    svc = service("dubbo3-provider", "dubbo", port=20880)
    bad = found(Federation(namespaces=("dubbo",)).check([vs, dr, svc, selecting("p", [vs, dr, svc])]),
                "error", "references")
    assert [f["field"] for f in bad if f["cluster"] == "k8s-master-beijing"] == \
        ["spec.http[1].route[0].destination.subset"]
    assert "(subsets: stable, canary)" in bad[0]["message"]


def test_a_missing_gateway():
    def gateway(vs):
        vs["spec"]["gateways"] = ["helloworld-gw"]
    bad = found(federation().check(fixed(seed000(), **{"helloworld-vsvc": gateway})), "error",
                field="spec.gateways[0]")
    assert len(bad) == 4
    assert "did you mean helloworld-gateway?" in bad[0]["fix"]

    # mesh and a gateway in another namespace that exists
    def shared(vs):
        vs["spec"]["gateways"] = ["mesh", "istio-system/public"]
    public = {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
              "metadata": {"name": "public", "namespace": "istio-system"}, "spec": {}}
    fed = federation().in_members(public)
    assert found(fed.check(fixed(seed000(), **{"helloworld-vsvc": shared})), field="spec.gateways[1]") == []


# --- Gateway -------------------------------------------------------------------------------


def test_a_gateway_naming_a_secret_created_under_another_name():
    # the seed: credentialName helloworld-rollout-tls-secret, the Secret created as prd-vue-tls-secret
    def unfix(gw):
        gw["spec"]["servers"][0]["tls"]["credentialName"] = "helloworld-rollout-tls-secret"
    findings = federation().check(fixed(seed000(), **{"helloworld-gateway": unfix}))
    bad = found(findings, "error", "references", field="spec.servers[0].tls.credentialName")
    assert sorted(f["cluster"] for f in bad) == sorted(MEMBERS)
    assert "there is no Secret helloworld-rollout-tls-secret in istio-system of k8s-master-beijing" in \
        found(bad, cluster="k8s-master-beijing")[0]["message"]
    assert "did you mean prd-vue-tls-secret?" in bad[0]["fix"]


def test_a_secret_missing_in_one_member_only():
    fed = Federation(namespaces=(NS,)).in_members(tls_secret("prd-vue-tls-secret"), only=MEMBERS[1:])
    bad = found(fed.check(fixed(seed000())), "error", field="spec.servers[0].tls.credentialName")
    assert [f["cluster"] for f in bad] == [MEMBERS[0]]


def test_a_secret_placed_by_karmada_counts_and_its_type_is_checked():
    # bootstrap's way: the Secret in Karmada's istio-system, a policy placing it on every member
    secret = tls_secret("prd-vue-tls-secret")
    tls_policy = selecting("tls", [secret])
    fed = Federation(namespaces=(NS,)).in_karmada(secret, tls_policy)
    assert found(fed.check(fixed(seed000())), field="spec.servers[0].tls.credentialName") == []
    token = tls_secret("prd-vue-tls-secret", kind="kubernetes.io/service-account-token")
    fed = Federation(namespaces=(NS,)).in_members(token)
    bad = found(fed.check(fixed(seed000())), "error", field="spec.servers[0].tls.credentialName")
    assert len(bad) == 4 and "of type kubernetes.io/service-account-token" in bad[0]["message"]


def test_secret_data_never_reaches_the_result():
    fed = federation()
    fed.check(fixed(seed000()))
    text = repr(fed.observed)
    assert "prd-vue-tls-secret" in text
    assert "Q0VSVA==" not in text and "S0VZ" not in text and "tls.key" not in text


# --- Rollout -------------------------------------------------------------------------------


def test_rollout_services_must_select_its_pods():
    def selector(svc):
        svc["spec"]["selector"] = {"app": "hello", "rollouts-pod-template-hash": "abc"}
    bad = found(federation().check(fixed(seed000(), **{"helloworld-svc-canary": selector})), "error",
                field="spec.strategy.canary.canaryService")
    assert len(bad) == 4
    assert "selects app=hello, which the Rollout's pods do not carry (their labels: app=helloworld)" in \
        bad[0]["message"]


def test_a_missing_canary_service():
    items = [(s, o) for s, o in fixed(seed000()) if o["metadata"]["name"] != "helloworld-svc-canary"]
    bad = found(federation().check(items), "error", "references", cluster="k8s-master-beijing")
    assert sorted(f["field"] for f in bad) == [
        "spec.http[0].route[1].destination.host", "spec.strategy.canary.canaryService"]


def test_rollout_routes_must_be_named_routes_of_its_virtual_service():
    def route(ro):
        ro["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualServices"][0]["routes"] = ["main"]
    bad = found(federation().check(fixed(seed000(), **{"helloworld-stable": route})), "error",
                field="spec.strategy.canary.trafficRouting.istio.virtualServices[0].routes[0]")
    assert len(bad) == 4 and "has no http route named 'main' (its routes: 'primary')" in bad[0]["message"]


def test_rollout_virtual_service_missing():
    def name(ro):
        ro["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualServices"][0]["name"] = "helloworld-vs"
    bad = found(federation().check(fixed(seed000(), **{"helloworld-stable": name})), "error",
                field="spec.strategy.canary.trafficRouting.istio.virtualServices[0].name")
    assert len(bad) == 4 and "did you mean helloworld-vsvc?" in bad[0]["fix"]


def test_routes_omitted_with_two_unmanaged_routes():
    def two(vs):
        vs["spec"]["http"].append({"name": "other", "route": [{"destination": {"host": "helloworld-svc-stable"}}]})

    def omit(ro):
        del ro["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualServices"][0]["routes"]
    bad = found(federation().check(fixed(seed000(), **{"helloworld-vsvc": two, "helloworld-stable": omit})),
                "error", contains="Argo Rollouts needs exactly one")
    assert len(bad) == 4
    assert found(federation().check(fixed(seed000(), **{"helloworld-stable": omit})), "error") == []


def test_destination_rule_subsets_of_seed002():
    vs, dr = load("istio/seed002_provider_vs.yaml", "istio/seed002_provider_dr.yaml")
    vs["spec"]["http"] = vs["spec"]["http"][:1]
    rollout = docs("""
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: dubbo3-provider, namespace: dubbo}
spec:
  replicas: 2
  selector: {matchLabels: {app: dubbo3-provider}}
  template:
    metadata: {labels: {app: dubbo3-provider}}
    spec: {containers: [{name: provider, image: dubbo3-provider:v1}]}
  strategy:
    canary:
      trafficRouting:
        istio:
          virtualService: {name: provider, routes: [test-v1]}
          destinationRule: {name: dubbo-provider, stableSubsetName: stable, canarySubsetName: canary}
      steps:
        - setWeight: 5
        - pause: {duration: 10m}
        - setWeight: 50
        - pause: {}
""")[0]
    svc = service("dubbo3-provider", "dubbo", port=20880)
    objs = [vs, dr, svc, rollout]
    assert found(Federation(namespaces=("dubbo",)).check(objs + [selecting("p", objs)]), check="references") == []
    gray = copy.deepcopy(rollout)
    gray["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["destinationRule"]["canarySubsetName"] = "gray"
    findings = Federation(namespaces=("dubbo",)).check([vs, dr, svc, gray, selecting("p", objs)])
    bad = found(findings, "error", field="spec.strategy.canary.trafficRouting.istio.destinationRule.canarySubsetName")
    assert len(bad) == 4 and "has no subset 'gray' (its subsets: stable, canary)" in bad[0]["message"]
    # the route has no destination with that subset either, which Argo refuses too
    assert found(findings, "error", contains="no destination with subset 'gray'")


def test_managed_routes_no_step_sets():
    def unused(ro):
        ro["spec"]["strategy"]["canary"]["trafficRouting"]["managedRoutes"].append({"name": "mirror-1"})
    findings = federation().check(fixed(seed000(), **{"helloworld-stable": unused}))
    warned = found(findings, "warning", "references", field="spec.strategy.canary.trafficRouting.managedRoutes[1].name")
    assert len(warned) == 1 and warned[0]["cluster"] == "manifests"
    assert found(federation().check(fixed(seed000())), field="spec.strategy.canary.trafficRouting.managedRoutes[0].name") \
        == []


# --- HTTPRoute -----------------------------------------------------------------------------


def test_seed004_http_route_backends():
    route = load("istio/seed004_reviews_httproute.yaml")[0]
    route["metadata"]["namespace"] = "bookinfo"
    v1, v3 = service("reviews-v1", "bookinfo", port=9080), service("reviews-v3", "bookinfo", port=9080)
    objs = [route, v1, v3]
    assert found(Federation(namespaces=("bookinfo",)).check(objs + [selecting("b", objs)]), check="references") == []
    bad = found(Federation(namespaces=("bookinfo",)).check([route, v1, selecting("b", objs)]), "error", "references")
    assert [f["field"] for f in bad if f["cluster"] == MEMBERS[0]] == ["spec.rules[0].backendRefs[1].name"]
    v3["spec"]["ports"][0]["port"] = 80
    bad = found(Federation(namespaces=("bookinfo",)).check(objs + [selecting("b", objs)]), "error", "references")
    assert [f["field"] for f in bad if f["cluster"] == MEMBERS[0]] == ["spec.rules[0].backendRefs[1].port"]


def test_objects_no_policy_places_are_checked_in_karmada():
    vs = docs("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: demo}
spec:
  hosts: [web]
  http:
    - route:
        - destination: {host: web-stable}
""")[0]
    findings = Federation(namespaces=("demo",)).check([vs])
    assert [(f["cluster"], f["field"]) for f in found(findings, check="references")] == [
        ("karmada", "spec.http[0].route[0].destination.host")]
    assert "in the manifests or in Karmada" in found(findings, check="references")[0]["message"]
    assert found(findings, "warning", "placement", contains="no PropagationPolicy selects it")
