"""route_status: what a member's own route objects do with plain and lane traffic (pure logic)."""

from __future__ import absolute_import, division, print_function

import copy

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import route_status as rs

LANE = {"header": "X-canary", "value": "test-user", "source_labels": {"lane": "canary"}}


def rollout(routing=None, name="ruoyi-vue", namespace="ruoyi"):
    canary = {"stableService": name + "-stable", "canaryService": name + "-canary",
              "trafficRouting": routing if routing is not None else {
                  "istio": {"virtualService": {"name": name, "routes": ["primary"]}},
                  "managedRoutes": [{"name": "canary-header"}]}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"strategy": {"canary": canary}}}


def frontend_vs(stable=100, canary=0, header_route=True, namespace="ruoyi"):
    """The frontend VirtualService as Argo Rollouts leaves it in a member at the header step."""
    http = []
    if header_route:
        http.append({"name": "canary-header",
                     "match": [{"headers": {"X-canary": {"exact": "test-user"}}}],
                     "route": [{"destination": {"host": "ruoyi-vue-canary"}, "weight": 100}]})
    http.append({"name": "primary", "route": [
        {"destination": {"host": "ruoyi-vue-stable", "port": {"number": 80}}, "weight": stable},
        {"destination": {"host": "ruoyi-vue-canary", "port": {"number": 80}}, "weight": canary}]})
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
            "metadata": {"name": "ruoyi-vue", "namespace": namespace},
            "spec": {"hosts": ["ruoyi.example.com"], "gateways": ["istio-system/ruoyi-gateway"], "http": http}}


def objects_for(vs):
    return {("VirtualService", "ruoyi", "ruoyi-vue"): vs}


def test_route_refs_reads_every_form_argo_takes():
    r = rollout({"istio": {"virtualService": {"name": "a"},
                           "virtualServices": [{"name": "b.other"}, {"name": "c"}]},
                 "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "h1", "namespace": "gw"}}})
    assert rs.route_refs(r) == [
        {"kind": "VirtualService", "namespace": "ruoyi", "name": "a"},
        {"kind": "VirtualService", "namespace": "other", "name": "b"},
        {"kind": "VirtualService", "namespace": "ruoyi", "name": "c"},
        {"kind": "HTTPRoute", "namespace": "gw", "name": "h1"},
    ]
    assert rs.route_refs(rollout({})) == []


def test_header_step_as_argo_leaves_it():
    out = rs.member_routes(rollout(), objects_for(frontend_vs()), LANE)
    vs = out["objects"][0]
    assert vs["plain"] == {"stable": 100, "canary": 0, "other": 0}
    assert vs["lane_header"] == {"stable": 0, "canary": 100, "other": 0}
    assert vs["gateway"] == "istio-system/ruoyi-gateway"
    assert "lane_source" not in vs  # a gateway route: callers' labels do not apply
    assert out["managed_routes"] == {"canary-header": "present"}
    assert out["text"] == ("VirtualService ruoyi-vue: stable 100% / canary 0%; X-canary: test-user -> canary 100%; "
                           "header route canary-header present")
    assert out["plain_text"] == "stable 100% / canary 0%"


def test_a_route_edited_by_hand_shows_as_edited():
    # weights 70/30 set by hand and the header route gone: whatever the Rollout's step says
    out = rs.member_routes(rollout(), objects_for(frontend_vs(70, 30, header_route=False)), LANE)
    vs = out["objects"][0]
    assert vs["plain"] == {"stable": 70, "canary": 30, "other": 0}
    # without the header route the testers' requests take the primary route's weights
    assert vs["lane_header"] == {"stable": 70, "canary": 30, "other": 0}
    assert out["managed_routes"] == {"canary-header": "absent"}
    assert "header route canary-header absent" in out["text"]
    assert out["plain_text"] == "stable 70% / canary 30%"


def test_missing_and_unreadable_objects_are_named():
    out = rs.member_routes(rollout(), {}, LANE)
    assert out["objects"] == [{"kind": "VirtualService", "name": "ruoyi-vue", "found": False}]
    assert out["text"] == "VirtualService ruoyi-vue not found; header route canary-header absent"
    assert out["plain_text"] == "no route object"
    key = ("VirtualService", "ruoyi", "ruoyi-vue")
    out = rs.member_routes(rollout(), {}, LANE, errors={key: "forbidden"})
    assert out["objects"][0]["found"] is None and out["objects"][0]["error"] == "forbidden"
    assert out["managed_routes"] == {"canary-header": "unknown"}
    assert "could not be read (forbidden)" in out["text"]


def test_mesh_route_probes_the_lane_callers():
    vs = {"kind": "VirtualService", "metadata": {"name": "ruoyi-gateway", "namespace": "ruoyi"},
          "spec": {"hosts": ["ruoyi-gateway"], "http": [
              {"name": "canary-lane",
               "match": [{"headers": {"X-canary": {"exact": "test-user"}}}, {"sourceLabels": {"lane": "canary"}}],
               "route": [{"destination": {"host": "ruoyi-gateway-canary.ruoyi.svc.cluster.local"}}]},
              {"name": "primary", "route": [
                  {"destination": {"host": "ruoyi-gateway-stable"}, "weight": 80},
                  {"destination": {"host": "ruoyi-gateway-canary"}, "weight": 20}]}]}}
    r = rollout({"istio": {"virtualService": {"name": "ruoyi-gateway"}}}, name="ruoyi-gateway")
    out = rs.member_routes(r, {("VirtualService", "ruoyi", "ruoyi-gateway"): vs}, LANE)
    obj = out["objects"][0]
    assert obj["gateway"] == "mesh"
    assert obj["plain"] == {"stable": 80, "canary": 20, "other": 0}
    assert obj["lane_header"]["canary"] == 100  # the FQDN host is the canary Service too
    assert obj["lane_source"]["canary"] == 100
    assert out["managed_routes"] == {}
    assert out["text"].endswith("callers lane=canary -> canary 100%")


def test_destination_rule_subsets_and_foreign_destinations():
    r = rollout({"istio": {"virtualService": {"name": "ruoyi-vue"},
                           "destinationRule": {"name": "dr", "canarySubsetName": "canary", "stableSubsetName": "stable"}}})
    vs = frontend_vs(header_route=False)
    vs["spec"]["http"][0]["route"] = [
        {"destination": {"host": "ruoyi-vue", "subset": "stable"}, "weight": 60},
        {"destination": {"host": "ruoyi-vue", "subset": "canary"}, "weight": 30},
        {"destination": {"host": "legacy.example.com"}, "weight": 10}]
    out = rs.member_routes(r, objects_for(vs), LANE)
    assert out["objects"][0]["plain"] == {"stable": 60, "canary": 30, "other": 10}
    assert out["plain_text"] == "stable 60% / canary 30% / other 10%"


def test_http_route_weights_are_relative():
    r = rollout({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "ruoyi-vue"}},
                 "managedRoutes": [{"name": "canary-header"}]})
    route = {"kind": "HTTPRoute", "metadata": {"name": "ruoyi-vue", "namespace": "ruoyi"},
             "spec": {"rules": [
                 {"name": "canary-header", "matches": [{"headers": [{"name": "X-canary", "value": "test-user"}]}],
                  "backendRefs": [{"name": "ruoyi-vue-canary", "port": 80}]},
                 {"backendRefs": [{"name": "ruoyi-vue-stable", "port": 80, "weight": 2},
                                  {"name": "ruoyi-vue-canary", "port": 80, "weight": 1}]}]}}
    out = rs.member_routes(r, {("HTTPRoute", "ruoyi", "ruoyi-vue"): route}, LANE)
    obj = out["objects"][0]
    assert obj["plain"] == {"stable": 67, "canary": 33, "other": 0}  # 2:1, rounded to add up to 100
    assert obj["lane_header"] == {"stable": 0, "canary": 100, "other": 0}
    assert out["managed_routes"] == {"canary-header": "present"}


@pytest.mark.parametrize("result,expected", [
    ([], None),
    ([({"host": "ruoyi-vue-stable"}, 0), ({"host": "ruoyi-vue-canary"}, 0)], {"stable": 0, "canary": 0, "other": 0}),
    ([({"host": "ruoyi-vue-stable"}, 1), ({"host": "ruoyi-vue-canary"}, 1), ({"host": "x"}, 1)],
     {"stable": 34, "canary": 33, "other": 33}),
    ([({"redirect": {"uri": "/"}}, 100)], {"stable": 0, "canary": 0, "other": 100}),
])
def test_shares(result, expected):
    roles = rs._roles(rollout())  # pylint: disable=protected-access
    assert rs.shares(result, roles, "ruoyi") == expected


def test_nothing_inferred_from_the_rollout_step():
    # the same objects give the same report whatever the Rollout's status says
    a = rollout()
    b = copy.deepcopy(a)
    b["status"] = {"currentStepIndex": 5, "canary": {"weights": {"canary": {"weight": 50}}}}
    vs = frontend_vs(70, 30)
    assert rs.member_routes(a, objects_for(vs), LANE) == rs.member_routes(b, objects_for(vs), LANE)
