# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route synthesis, merging, validation and evaluation against manifests from the seeds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.multicluster.canary.plugins.module_utils.route_eval import (
    evaluate,
    evaluate_http_route,
    routing_summary,
)
from ansible_collections.multicluster.canary.plugins.module_utils.route_options import fqdn, normalize, validate
from ansible_collections.multicluster.canary.plugins.module_utils.route_plan import (
    OWNED_ROUTES_ANNOTATION,
    check_weights,
    destination_rule,
    http_route,
    plan,
    virtual_service,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "istio"


def load(stem):
    """{kind: object} of the fixture files named stem*.yaml (one object per file)."""
    docs = [yaml.safe_load(f.read_text()) for f in sorted(FIXTURES.glob(stem + "*.yaml"))]
    assert docs, stem
    return dict((d["kind"], d) for d in docs)


def spec_of(options):
    p = normalize(options)
    assert validate(p) == []
    return p


SEED000 = dict(
    name="helloworld-vsvc", namespace="helloworld-rollout", api_version="v1alpha3",
    gateways=["helloworld-gateway"], hosts=["helloworld.huanghuanhui.cloud"],
    stable={"host": "helloworld-svc-stable"}, canary={"host": "helloworld-svc-canary"},
    managed_routes=["header-route-1"],
)
SEED001 = dict(
    name="mouse-vs", namespace="default", gateways=["mesh"],
    stable={"host": "mouse-svc", "subset": "prod"}, canary={"host": "mouse-svc", "subset": "gray"},
    header_routes=[
        {"name": "gray", "headers": {"env": {"exact": "gray"}}, "destination": "canary"},
        {"name": "prod", "headers": {"env": "prod"}, "destination": "stable"},
    ],
    destination_rule={"name": "mouse-dr", "subsets": [
        {"name": "prod", "labels": {"version": "prod"}},
        {"name": "gray", "labels": {"version": "gray"}},
    ]},
)
SEED002 = dict(
    name="provider", namespace="dubbo", gateways=["mesh"], route_name="test-v1",
    stable={"host": "dubbo3-provider", "subset": "stable", "port": 20880}, canary={"subset": "canary"},
    managed_routes=["test-v2"],
    destination_rule={
        "name": "dubbo-provider",
        "traffic_policy": {"connectionPool": {"http": {"http2MaxRequests": 10000}}},
        "subsets": [{"name": "stable", "labels": {"app": "dubbo3-provider"}},
                    {"name": "canary", "labels": {"app": "dubbo3-provider"}}],
    },
)
MTLS = {"tls": {"mode": "ISTIO_MUTUAL"}}
SEED003 = dict(
    name="gray-demo-vs", namespace="gray-demo", gateways=["gray-demo-gateway"], hosts=["*"],
    route_name="http-5000",
    stable={"host": "helloworld.gray-demo.svc.cluster.local", "subset": "v1", "port": 5000},
    canary={"subset": "v2"}, canary_weight=20,
    destination_rule={"name": "helloworld", "host": "helloworld", "traffic_policy": MTLS, "subsets": [
        {"name": "v1", "labels": {"version": "v1"}, "traffic_policy": MTLS},
        {"name": "v2", "labels": {"version": "v2"}, "traffic_policy": MTLS},
    ]},
)
SEED004 = dict(
    kind="httproute", name="reviews", namespace="default", hosts=["reviews"], gateways=["mesh"],
    stable={"host": "reviews-v1", "port": 9080}, canary={"host": "reviews-v3", "port": 9080}, canary_weight=50,
)


# --------------------------------------------------------------------------
# synthesis: the options reproduce the seeds' manifests


def test_seed000_virtual_service_from_options():
    want = load("seed000_helloworld_vsvc")["VirtualService"]
    got = virtual_service(spec_of(SEED000))
    assert got["apiVersion"] == want["apiVersion"] == "networking.istio.io/v1alpha3"
    assert got["metadata"]["name"] == want["metadata"]["name"]
    assert got["metadata"]["namespace"] == want["metadata"]["namespace"]
    assert got["metadata"]["annotations"] == {OWNED_ROUTES_ANNOTATION: "primary"}
    assert got["spec"] == want["spec"]


def test_seed001_header_gray_from_options():
    want = load("seed001_mouse")
    p = spec_of(SEED001)
    assert virtual_service(p)["spec"] == want["VirtualService"]["spec"]
    assert destination_rule(p)["spec"] == want["DestinationRule"]["spec"]
    assert destination_rule(p)["metadata"] == {"name": "mouse-dr", "namespace": "default"}


def test_seed002_destination_rule_from_options():
    want = load("seed002_provider")["DestinationRule"]
    assert destination_rule(spec_of(SEED002))["spec"] == want["spec"]


def test_seed003_mutual_tls_subsets_from_options():
    want = load("seed003_gray_demo")
    p = spec_of(SEED003)
    vs = virtual_service(p)
    assert vs["apiVersion"] == "networking.istio.io/v1beta1"
    assert vs["spec"] == want["VirtualService"]["spec"]
    assert destination_rule(p)["spec"] == want["DestinationRule"]["spec"]


def test_seed004_http_route_from_options():
    want = load("seed004_reviews_httproute")["HTTPRoute"]
    got = http_route(spec_of(SEED004))
    assert got["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert got["spec"] == want["spec"]


def test_http_route_on_a_gateway_gets_hostnames_and_header_rules():
    p = spec_of(dict(SEED004, gateways=["web/public"], hosts=["reviews.example.com"],
                     header_routes=[{"name": "testers", "headers": {"X-canary": "test-user"}}]))
    spec = http_route(p)["spec"]
    assert spec["parentRefs"] == [{"name": "public", "namespace": "web"}]
    assert spec["hostnames"] == ["reviews.example.com"]
    assert spec["rules"][0] == {
        "matches": [{"headers": [{"name": "X-canary", "type": "Exact", "value": "test-user"}]}],
        "backendRefs": [{"name": "reviews-v3", "port": 9080}],
    }


def test_lane_has_one_match_block_per_condition_before_primary():
    p = spec_of(dict(SEED001, header_routes=[], lanes=[
        {"name": "canary-lane", "headers": {"X-canary": {"exact": "test-user"}}, "source_labels": {"lane": "canary"}},
    ]))
    http = virtual_service(p)["spec"]["http"]
    assert [r["name"] for r in http] == ["canary-lane", "primary"]
    assert http[0]["match"] == [{"headers": {"X-canary": {"exact": "test-user"}}},
                                {"sourceLabels": {"lane": "canary"}}]
    assert http[0]["route"] == [{"destination": {"host": "mouse-svc", "subset": "gray"}}]


def test_without_canary_primary_sends_everything_to_stable():
    p = spec_of(dict(name="a", namespace="n", stable={"host": "a"}))
    vs = virtual_service(p)
    assert vs["spec"] == {"hosts": ["a"], "http": [{"name": "primary", "route": [{"destination": {"host": "a"}}]}]}


# --------------------------------------------------------------------------
# merging with what Argo Rollouts wrote


def test_no_canary_weight_keeps_argo_weights_and_managed_route():
    existing = load("seed000_after_argo")["VirtualService"]
    result = plan(spec_of(SEED000), existing)
    assert result["errors"] == []
    assert result["route"]["spec"] == existing["spec"]
    assert result["changed"] == {"route": False}


def test_adding_a_lane_keeps_argo_managed_route_untouched():
    existing = load("seed000_after_argo")["VirtualService"]
    before = copy.deepcopy(existing)
    lane = {"name": "canary-lane", "headers": {"X-canary": {"exact": "test-user"}}, "source_labels": {"app": "gw-canary"}}
    result = plan(spec_of(dict(SEED000, lanes=[lane])), existing)
    http = result["route"]["spec"]["http"]
    assert [r["name"] for r in http] == ["header-route-1", "canary-lane", "primary"]
    assert http[0] == before["spec"]["http"][0]
    assert http[2] == before["spec"]["http"][1]  # Argo's 80/20 too
    assert result["changed"]["route"] is True
    assert existing == before  # inputs are not modified
    assert result["route"]["metadata"]["annotations"][OWNED_ROUTES_ANNOTATION] == "canary-lane,primary"


def test_argo_managed_route_kept_even_when_not_declared():
    existing = load("seed000_after_argo")["VirtualService"]
    result = plan(spec_of(dict(SEED000, managed_routes=[])), existing)
    assert result["route"]["spec"]["http"][0]["name"] == "header-route-1"
    assert result["changed"]["route"] is False


def test_explicit_canary_weight_rewrites_only_primary_weights():
    existing = load("seed000_after_argo")["VirtualService"]
    http = plan(spec_of(dict(SEED000, canary_weight=40)), existing)["route"]["spec"]["http"]
    assert http[0]["name"] == "header-route-1"
    assert [d["weight"] for d in http[1]["route"]] == [60, 40]


def test_removed_lane_is_removed_and_foreign_keys_of_our_routes_kept():
    existing = load("seed000_after_argo")["VirtualService"]
    lane = {"name": "canary-lane", "headers": {"X-canary": "test-user"}}
    with_lane = plan(spec_of(dict(SEED000, lanes=[lane])), existing)["route"]
    with_lane["spec"]["http"][2]["timeout"] = "5s"  # someone else's setting on our primary route
    without = plan(spec_of(SEED000), with_lane)["route"]
    assert [r["name"] for r in without["spec"]["http"]] == ["header-route-1", "primary"]
    assert without["spec"]["http"][1]["timeout"] == "5s"


def test_seed002_weights_of_argo_kept_and_new_header_route_goes_after_argo_lane():
    existing = load("seed002_during_rollout")["VirtualService"]
    p = spec_of(dict(SEED002, header_routes=[{"name": "qa", "headers": {"x-qa": {"prefix": "team-"}}}]))
    dr = load("seed002_provider")["DestinationRule"]
    result = plan(p, existing, dr, [dr])
    assert result["errors"] == []
    http = result["route"]["spec"]["http"]
    assert [r["name"] for r in http] == ["test-v2", "qa", "test-v1"]
    assert [d["weight"] for d in http[2]["route"]] == [95, 5]


def test_destination_rule_keeps_argo_pod_template_hash_and_foreign_subsets():
    existing = load("seed002_provider")["DestinationRule"]
    existing["spec"]["subsets"][1]["labels"]["rollouts-pod-template-hash"] = "f44c7c68f"
    existing["spec"]["subsets"].append({"name": "v1", "labels": {"version": "v1"}})
    got = destination_rule(spec_of(SEED002), existing)
    assert got["spec"]["subsets"][1]["labels"] == {"app": "dubbo3-provider", "rollouts-pod-template-hash": "f44c7c68f"}
    assert got["spec"]["subsets"][2] == {"name": "v1", "labels": {"version": "v1"}}
    result = plan(spec_of(SEED002), load("seed002_during_rollout")["VirtualService"], existing, [existing])
    assert result["changed"]["destination_rule"] is False


def test_http_route_keeps_weights_without_canary_weight():
    existing = load("seed004_reviews_httproute")["HTTPRoute"]
    existing["spec"]["rules"][0]["backendRefs"][0]["weight"] = 70
    existing["spec"]["rules"][0]["backendRefs"][1]["weight"] = 30
    p = spec_of(dict(SEED004, canary_weight=None))
    got = plan(p, existing)
    assert [b["weight"] for b in got["route"]["spec"]["rules"][0]["backendRefs"]] == [70, 30]
    assert got["changed"]["route"] is False


def test_catch_all_before_our_routes_is_warned_about():
    existing = load("seed002_provider")["VirtualService"]  # upstream's unnamed catch-all route last
    result = plan(spec_of(dict(SEED002, destination_rule=None)), existing, None,
                  [load("seed002_provider")["DestinationRule"]])
    names = [r.get("name") for r in result["route"]["spec"]["http"]]
    assert names == ["test-v1", None]  # our route stays where it stood, before the foreign catch-all
    assert result["warnings"] == []
    result = plan(spec_of(dict(SEED002, destination_rule=None, route_name="main")), existing, None,
                  [load("seed002_provider")["DestinationRule"]])
    assert [r.get("name") for r in result["route"]["spec"]["http"]] == ["test-v1", None, "main"]
    assert "can never match" in result["warnings"][0]


# --------------------------------------------------------------------------
# validation: every problem names its field


def errors_of(options):
    return validate(normalize(options))


def test_bad_weight_is_named():
    assert errors_of(dict(SEED000, canary_weight=120)) == ["canary_weight: must be an integer from 0 to 100, got 120"]


def test_bad_weights_sum_is_named():
    route = [{"destination": {"host": "a"}, "weight": 80}, {"destination": {"host": "b"}, "weight": 30}]
    assert check_weights(route, "spec.http[1].route") == ["spec.http[1].route: weights must sum to 100, got 110 (80 + 30)"]
    assert check_weights(route[:1], "x") == ["x: weights must sum to 100, got 80 (80)"]
    assert check_weights([{"destination": {"host": "a"}}], "x") == []


def test_bad_header_name_is_named():
    errors = errors_of(dict(SEED000, header_routes=[
        {"name": "ok", "headers": {"X-canary": "a"}},
        {"name": "bad", "headers": {"X canary": {"exact": "a"}}},
    ]))
    assert len(errors) == 1
    assert errors[0].startswith("header_routes[1].headers.X canary: 'X canary' is not a valid header name")


def test_bad_header_match_and_regex_are_named():
    errors = errors_of(dict(SEED000, lanes=[
        {"name": "l", "headers": {"x-a": {"exact": "a", "prefix": "b"}, "x-b": {"regex": "("}}},
    ]))
    assert errors[0] == "lanes[0].headers.x-a: expected exactly one of exact/prefix/regex, got exact, prefix"
    assert errors[1].startswith("lanes[0].headers.x-b.regex: invalid regular expression '('")


def test_unknown_subset_is_named_with_the_known_ones():
    p = spec_of(dict(SEED003, canary={"subset": "v3"}))
    result = plan(p, None, None, [])
    assert result["errors"] == ["canary.subset: subset 'v3' is not defined in destination_rule.subsets (v1, v2)"]


def test_subset_defined_by_an_existing_destination_rule_is_accepted():
    dr = load("seed002_provider")["DestinationRule"]
    p = spec_of(dict(SEED002, destination_rule=None))
    assert plan(p, None, None, [dr])["errors"] == []
    errors = plan(p, None, None, [])["errors"]
    assert errors == ["stable.subset: subset 'stable' is not defined in any DestinationRule for host "
                      "dubbo3-provider in namespace dubbo",
                      "canary.subset: subset 'canary' is not defined in any DestinationRule for host "
                      "dubbo3-provider in namespace dubbo"]


def test_route_names_must_not_take_argo_managed_names_or_repeat():
    errors = errors_of(dict(SEED000, header_routes=[{"name": "header-route-1", "headers": {"a": "b"}}],
                            lanes=[{"name": "primary", "headers": {"a": "b"}}]))
    assert errors == [
        "header_routes[0].name: 'header-route-1' is listed in managed_routes (owned by Argo Rollouts); choose another name",
        "lanes[0].name: 'primary' is already used by route_name",
    ]


def test_other_option_errors():
    assert errors_of(dict(name="x", namespace="n", stable={"host": "a"}, lanes=[{"name": "l", "headers": {"a": "b"}}])) == [
        "lanes[0]: a lane routes to the canary, but no canary is defined"]
    assert errors_of(dict(name="x", namespace="n", stable={"host": "a", "subset": "s"}, canary={"subset": "s"})) == [
        "canary: same destination as stable (a/s); give another host or subset"]
    assert errors_of(dict(SEED004, stable={"host": "reviews-v1"}, canary={"host": "x", "port": 1, "subset": "s"})) == [
        "stable.port: required with kind=httproute (backendRefs to a Service need a port)",
        "canary.subset: HTTPRoute backendRefs name Services, not subsets; use one Service per version"]
    assert errors_of(dict(SEED000, gateways=["a/b/c"])) == [
        "gateways[0]: 'a/b/c' is neither 'mesh' nor a Gateway name ('name' or 'namespace/name')"]
    assert errors_of(dict(SEED000, parent_refs=[{"name": "gw"}], stable={"host": "a", "port": 0})) == [
        "stable.port: must be from 1 to 65535, got 0",
        "canary.port: must be from 1 to 65535, got 0",  # the canary inherits the stable port
        "parent_refs: only with kind=httproute (a VirtualService uses gateways)"]
    assert errors_of(dict(SEED004, header_routes=[{"name": "t", "headers": {"x": {"prefix": "a"}}}])) == [
        "header_routes[0].headers.x.prefix: HTTPRoute header matches support only exact and regex"]
    assert errors_of(dict(name="Bad_Name", namespace="n", state="absent")) == [
        "name: 'Bad_Name' is not a valid object name (DNS-1123 subdomain)"]


# --------------------------------------------------------------------------
# evaluation


def hosts_and_weights(result):
    return [(d.get("host"), d.get("subset"), w) for d, w in result]


def test_seed001_env_header_gray():
    vs = load("seed001_mouse")["VirtualService"]
    assert hosts_and_weights(evaluate(vs, {"env": "gray"})) == [("mouse-svc", "gray", 100)]
    assert hosts_and_weights(evaluate(vs, {"env": "prod"})) == [("mouse-svc", "prod", 100)]
    assert hosts_and_weights(evaluate(vs, {})) == [("mouse-svc", "prod", 100), ("mouse-svc", "gray", 0)]
    assert hosts_and_weights(evaluate(vs, {"env": "daily"})) == [("mouse-svc", "prod", 100), ("mouse-svc", "gray", 0)]
    assert hosts_and_weights(evaluate(vs, {"ENV": "gray"})) == [("mouse-svc", "gray", 100)]  # names are case-insensitive
    assert evaluate(vs, {"env": "gray"}, gateway="istio-system/ingressgateway") == []  # mesh-only VirtualService


def test_seed000_x_canary_header_route():
    vs = load("seed000_after_argo")["VirtualService"]
    assert hosts_and_weights(evaluate(vs, {"x-canary": "test-user"}, gateway="helloworld-gateway")) == [
        ("helloworld-svc-canary", None, 100)]
    assert hosts_and_weights(evaluate(vs, {"X-canary": "someone"}, gateway="helloworld-gateway")) == [
        ("helloworld-svc-stable", None, 80), ("helloworld-svc-canary", None, 20)]
    # gateway given as namespace/name; and a sidecar is not bound to this VirtualService
    assert evaluate(vs, {}, gateway="helloworld-rollout/helloworld-gateway")[0][1] == 80
    assert evaluate(vs, {}) == []


def test_seed002_lane_header_and_weights():
    vs = load("seed002_during_rollout")["VirtualService"]
    assert hosts_and_weights(evaluate(vs, {"lane": "test-v2"})) == [("dubbo3-provider", "canary", 100)]
    assert hosts_and_weights(evaluate(vs, {"lane": "test-v1"})) == [
        ("dubbo3-provider", "stable", 95), ("dubbo3-provider", "canary", 5)]


def test_seed003_weights():
    vs = load("seed003_gray_demo")["VirtualService"]
    result = evaluate(vs, gateway="gray-demo-gateway")
    assert [(d["subset"], d["port"]["number"], w) for d, w in result] == [("v1", 5000, 80), ("v2", 5000, 20)]


def test_source_labels_lane():
    p = spec_of(dict(SEED001, header_routes=[], lanes=[
        {"name": "lane", "headers": {"X-canary": "test-user"}, "source_labels": {"lane": "canary", "app": "gw"}}]))
    vs = virtual_service(p)
    assert hosts_and_weights(evaluate(vs, source_labels={"lane": "canary", "app": "gw", "x": "y"})) == [
        ("mouse-svc", "gray", 100)]
    # only some of the lane's labels: the primary route, prod 100
    assert hosts_and_weights(evaluate(vs, source_labels={"lane": "canary"})) == [
        ("mouse-svc", "prod", 100), ("mouse-svc", "gray", 0)]
    assert evaluate(vs, headers={"x-canary": "test-user"})[0][0]["subset"] == "gray"


def test_match_semantics_and_or_prefix_regex_gateways():
    vs = {"metadata": {"namespace": "n"}, "spec": {"gateways": ["mesh", "gw"], "http": [
        {"name": "and", "match": [{"headers": {"a": {"exact": "1"}, "b": {"prefix": "x"}}}],
         "route": [{"destination": {"host": "and"}}]},
        {"name": "or", "match": [{"headers": {"c": {"regex": "v[0-9]+"}}}, {"headers": {"d": {}}}],
         "route": [{"destination": {"host": "or"}}]},
        {"name": "gw-only", "match": [{"gateways": ["gw"]}], "route": [{"destination": {"host": "gw"}}]},
        {"name": "uri", "match": [{"uri": {"prefix": "/api"}}], "route": [{"destination": {"host": "api"}}]},
        {"name": "query", "match": [{"queryParams": {"q": {"exact": "1"}}}], "route": [{"destination": {"host": "q"}}]},
        {"name": "rest", "route": [{"destination": {"host": "rest"}}]},
    ]}}

    def host(**kw):
        return evaluate(vs, **kw)[0][0]["host"]

    assert host(headers={"a": "1", "b": "xyz"}) == "and"
    assert host(headers={"a": "1"}) == "rest"
    assert host(headers={"c": "v12"}) == "or"
    assert host(headers={"c": "xv12"}) == "rest"  # regex must match the whole value
    assert host(headers={"d": ""}) == "or"  # {} checks presence
    assert host(headers={}, gateway="gw") == "gw"
    assert host(headers={}, gateway="n/gw") == "gw"
    assert host(headers={}, uri="/api/v1") == "api"
    assert host(headers={}, uri="/web") == "rest"
    assert evaluate(vs, gateway="other") == []


def test_http_route_evaluation():
    got = evaluate_http_route(load("seed004_reviews_httproute")["HTTPRoute"])
    assert [(r["name"], w) for r, w in got] == [("reviews-v1", 50), ("reviews-v3", 50)]


def test_routing_summary_probes_each_match_block():
    p = spec_of(dict(SEED001, lanes=[{"name": "lane", "source_labels": {"lane": "canary"}}]))
    summary = routing_summary(virtual_service(p))
    assert [(s["probe"], s["route"], [(d["subset"], d["weight"]) for d in s["destinations"]]) for s in summary] == [
        ("no header", "primary", [("prod", 100), ("gray", 0)]),
        ("gray match[0]", "gray", [("gray", 100)]),
        ("prod match[0]", "prod", [("prod", 100)]),
        ("lane match[0]", "lane", [("gray", 100)]),
    ]
    assert summary[1]["headers"] == {"env": "gray"} and summary[1]["gateway"] == "mesh"
    assert summary[3]["source_labels"] == {"lane": "canary"}


def test_routing_summary_on_gateway_and_http_route():
    summary = routing_summary(load("seed000_after_argo")["VirtualService"])
    assert summary[0]["gateway"] == "helloworld-gateway"
    assert summary[1]["probe"] == "header-route-1 match[0]"
    assert summary[1]["destinations"] == [{"host": "helloworld-svc-canary", "weight": 100}]
    p = spec_of(dict(SEED004, header_routes=[{"name": "t", "headers": {"X-canary": "test-user"}}]))
    summary = routing_summary(http_route(p))
    assert [[d["name"] for d in s["destinations"]] for s in summary] == [["reviews-v1", "reviews-v3"], ["reviews-v3"]]


@pytest.mark.parametrize("host, want", [
    ("helloworld", "helloworld.ns.svc.cluster.local"),
    ("helloworld.gray-demo", "helloworld.gray-demo.svc.cluster.local"),
    ("helloworld.gray-demo.svc", "helloworld.gray-demo.svc.cluster.local"),
    ("helloworld.gray-demo.svc.cluster.local", "helloworld.gray-demo.svc.cluster.local"),
    ("*", "*"),
])
def test_fqdn(host, want):
    assert fqdn(host, "ns") == want


def test_short_and_long_host_are_the_same_destination_for_weights():
    existing = load("seed003_gray_demo")["VirtualService"]
    p = spec_of(dict(SEED003, canary_weight=None, stable=dict(SEED003["stable"], host="helloworld")))
    http = virtual_service(p, existing)["spec"]["http"]
    assert [d["weight"] for d in http[0]["route"]] == [80, 20]


def test_http_route_with_server_defaults_is_unchanged():
    """A re-run against what the Gateway API server holds (our spec plus its defaults) changes nothing."""
    p = spec_of(SEED004)
    applied = plan(p, None)["route"]
    live = copy.deepcopy(applied)
    for ref in live["spec"].get("parentRefs") or []:
        ref.setdefault("group", "gateway.networking.k8s.io")
        ref.setdefault("kind", "Gateway")
    for rule in live["spec"]["rules"]:
        rule.setdefault("matches", [{"path": {"type": "PathPrefix", "value": "/"}}])
        for ref in rule["backendRefs"]:
            ref.setdefault("group", "")
            ref.setdefault("kind", "Service")
    assert plan(p, live)["changed"]["route"] is False
    live["spec"]["rules"][0]["backendRefs"][1]["weight"] = 10
    assert plan(spec_of(SEED004), live)["changed"]["route"] is True
