"""istio_canary_route against the local federation.

To Karmada: the VirtualService template lands in every member through a
PropagationPolicy the test creates; re-runs are unchanged, check mode and bad
input write nothing.  To members: each member gets its own copy, and weights
or managed routes written there by Argo Rollouts survive our next run.
"""

import json

import pytest

pytestmark = pytest.mark.lab

ISTIO = "networking.istio.io/v1beta1"
VS = "virtualservices.networking.istio.io"
DR = "destinationrules.networking.istio.io"


def frontend(namespace, **extra):
    """Seed 000's frontend VirtualService, with a testers' header route."""
    args = dict(
        name="helloworld-vsvc", namespace=namespace,
        gateways=["helloworld-gateway"], hosts=["helloworld.huanghuanhui.cloud"],
        stable={"host": "helloworld-svc-stable"}, canary={"host": "helloworld-svc-canary"},
        header_routes=[{"name": "testers", "headers": {"X-canary": {"exact": "test-user"}}}],
        managed_routes=["header-route-1"],
    )
    args.update(extra)
    return args


def propagation_policy(lab, namespace, names):
    return {
        "apiVersion": "policy.karmada.io/v1alpha1",
        "kind": "PropagationPolicy",
        "metadata": {"name": "istio-routes", "namespace": namespace},
        "spec": {
            # Karmada matches templates only at the group's preferred version (v1 for Istio 1.24's CRDs)
            "resourceSelectors": [{"apiVersion": "networking.istio.io/v1", "kind": kind, "name": name}
                                  for kind, name in names],
            "placement": {"clusterAffinity": {"clusterNames": list(lab.members)}},
        },
    }


def route_names(obj):
    return [r.get("name") for r in (obj or {}).get("spec", {}).get("http", [])]


def weights(obj, route="primary"):
    for r in (obj or {}).get("spec", {}).get("http", []):
        if r.get("name") == route:
            return [d.get("weight") for d in r["route"]]
    return None


def in_every_member(lab, namespace, name, predicate, what):
    def check():
        found = dict((m, lab.get(m, VS, name, namespace)) for m in lab.members)
        return found if all(predicate(o) for o in found.values()) else None
    return lab.wait_for(check, timeout=90, what=what)


def test_to_karmada_propagates_to_every_member(lab, namespace, run_module):
    lab.apply(propagation_policy(lab, namespace, [("VirtualService", "helloworld-vsvc")]))

    r = run_module("istio_canary_route", frontend(namespace))
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True
    assert route_names(r["virtual_service"]) == ["testers", "primary"]
    assert [s["route"] for s in r["routing"]] == ["primary", "testers"]
    assert r["routing"][1]["destinations"] == [{"host": "helloworld-svc-canary", "weight": 100}]
    in_every_member(lab, namespace, "helloworld-vsvc",
                    lambda o: route_names(o) == ["testers", "primary"] and weights(o) == [100, 0],
                    "the VirtualService with routes testers, primary in every member")

    r = run_module("istio_canary_route", frontend(namespace))
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is False

    before = lab.get(lab.karmada, VS, "helloworld-vsvc", namespace)
    r = run_module("istio_canary_route", frontend(namespace, canary_weight=30), check=True, diff=True)
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True
    assert weights(r["virtual_service"]) == [70, 30]
    assert r["diff"][0]["before"]["spec"]["http"][1]["route"][1]["weight"] == 0
    # the diff shows what the module sets: not what Karmada (or anyone else) put on the template
    theirs = dict((k, v) for k, v in (before["metadata"].get("annotations") or {}).items()
                  if not k.startswith("multicluster.canary/"))
    theirs.update(before["metadata"].get("labels") or {})
    for side in ("before", "after"):
        shown = r["diff"][0][side]["metadata"]
        assert not set(theirs) & (set(shown.get("annotations") or {}) | set(shown.get("labels") or {})), shown
    after = lab.get(lab.karmada, VS, "helloworld-vsvc", namespace)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert weights(after) == [100, 0]

    r = run_module("istio_canary_route", frontend(namespace, canary_weight=30))
    assert r["changed"] is True
    in_every_member(lab, namespace, "helloworld-vsvc", lambda o: weights(o) == [70, 30],
                    "weights 70/30 in every member")


def test_bad_input_names_the_field_and_writes_nothing(lab, namespace, run_module):
    r = run_module("istio_canary_route", frontend(namespace, header_routes=[
        {"name": "testers", "headers": {"X canary": {"exact": "test-user"}}}]))
    assert r.get("failed")
    assert "header_routes[0].headers.X canary" in r["msg"]
    assert lab.get(lab.karmada, VS, "helloworld-vsvc", namespace) is None

    # a subset that no DestinationRule defines: found only by reading the cluster, still before writing
    r = run_module("istio_canary_route", frontend(
        namespace, stable={"host": "helloworld", "subset": "stable"}, canary={"subset": "canary"},
        destination_rule={"name": "helloworld", "subsets": [{"name": "stable", "labels": {"app": "helloworld"}}]}))
    assert r.get("failed")
    assert "canary.subset: subset 'canary' is not defined in destination_rule.subsets (stable)" in r["msg"]
    assert lab.get(lab.karmada, VS, "helloworld-vsvc", namespace) is None
    assert lab.get(lab.karmada, DR, "helloworld", namespace) is None


def test_to_members_directly_keeps_what_argo_wrote(lab, namespace, run_module):
    args = dict(
        name="ruoyi-system", namespace=namespace, target="members", gateways=["mesh"],
        stable={"host": "ruoyi-system", "subset": "stable"}, canary={"subset": "canary"},
        destination_rule={"name": "ruoyi-system", "traffic_policy": {"tls": {"mode": "ISTIO_MUTUAL"}},
                          "subsets": [{"name": "stable", "labels": {"app": "ruoyi-system"}},
                                      {"name": "canary", "labels": {"app": "ruoyi-system"}}]},
        managed_routes=["header-route-1"],
    )
    r = run_module("istio_canary_route", args)
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True
    assert sorted(r["clusters"]) == sorted(lab.members)
    for m in lab.members:
        vs = lab.get(m, VS, "ruoyi-system", namespace)
        assert route_names(vs) == ["primary"] and weights(vs) == [100, 0]
        assert lab.get(m, DR, "ruoyi-system", namespace)["spec"]["trafficPolicy"] == {"tls": {"mode": "ISTIO_MUTUAL"}}
    assert lab.get(lab.karmada, VS, "ruoyi-system", namespace) is None

    assert run_module("istio_canary_route", args)["changed"] is False

    # what Argo Rollouts does in one member: weights 80/20 and a managed header route on top
    member = lab.members[0]
    vs = lab.get(member, VS, "ruoyi-system", namespace)
    http = vs["spec"]["http"]
    http[0]["route"][0]["weight"], http[0]["route"][1]["weight"] = 80, 20
    argo_route = {"name": "header-route-1", "match": [{"headers": {"X-canary": {"exact": "test-user"}}}],
                  "route": [{"destination": {"host": "ruoyi-system", "subset": "canary"}, "weight": 100}]}
    patch = [{"op": "replace", "path": "/spec/http", "value": [argo_route] + http}]
    lab.kubectl("patch", VS, "ruoyi-system", "-n", namespace, "--type", "json", "-p", json.dumps(patch),
                context=member)

    lane = {"name": "canary-lane", "headers": {"X-canary": {"exact": "test-user"}}, "source_labels": {"lane": "canary"}}
    r = run_module("istio_canary_route", dict(args, lanes=[lane]))
    assert not r.get("failed"), r.get("msg")
    assert r["clusters"][member]["changed"] is True
    vs = lab.get(member, VS, "ruoyi-system", namespace)
    assert route_names(vs) == ["header-route-1", "canary-lane", "primary"]
    assert vs["spec"]["http"][0] == argo_route
    assert weights(vs) == [80, 20]
    for m in lab.members[1:]:
        other = lab.get(m, VS, "ruoyi-system", namespace)
        assert route_names(other) == ["canary-lane", "primary"] and weights(other) == [100, 0]
