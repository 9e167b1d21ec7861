"""strategy_lint: what a canary strategy does, against what its steps suggest (pure logic)."""

from __future__ import absolute_import, division, print_function

import copy

from ansible_collections.multicluster.canary.plugins.module_utils.strategy_lint import describe, lint

HEADER = {"setHeaderRoute": {"name": "canary-header", "match": [
    {"headerName": "X-canary", "headerValue": {"exact": "test-user"}}]}}


def rollout(steps, managed=("canary-header",), routing=True, replicas=4):
    canary = {"stableService": "s", "canaryService": "c", "steps": steps}
    if routing:
        canary["trafficRouting"] = {"istio": {"virtualService": {"name": "vs", "routes": ["primary"]}},
                                    "managedRoutes": [{"name": n} for n in managed]}
    return {"kind": "Rollout", "spec": {"replicas": replicas, "strategy": {"canary": canary}}}


def severities(findings):
    return [(f["severity"], f["field"]) for f in findings]


# the lab catalogue's ruoyi-vue steps, before and after the fix
OLD_FRONTEND = [{"setCanaryScale": {"replicas": 1}}, HEADER, {"pause": {}},
                {"setCanaryScale": {"matchTrafficWeight": True}}, {"setWeight": 20}, {"pause": {}},
                {"setWeight": 50}, {"pause": {}}, {"setWeight": 80}, {"pause": {}}]
FRONTEND = [{"setCanaryScale": {"replicas": 1}}, HEADER, {"pause": {}},
            {"setWeight": 20}, {"setCanaryScale": {"matchTrafficWeight": True}}, {"pause": {}},
            {"setWeight": 50}, {"pause": {}}, {"setWeight": 80}, {"pause": {}}]


def test_the_catalogue_frontend_keeps_its_header_route():
    assert lint(rollout(FRONTEND)) == []


def test_scaling_with_the_weight_at_zero_loses_the_header_route():
    findings = lint(rollout(OLD_FRONTEND))
    assert severities(findings) == [("warning", "spec.strategy.canary.steps[3]")]
    assert "route 'canary-header' (set at step 1) is gone from this step on" in findings[0]["message"]
    assert "after a setWeight above 0" in findings[0]["fix"]


def test_a_header_route_before_any_canary_pod():
    # the user's first try: the header route first, while the canary has no pod
    findings = lint(rollout([HEADER, {"pause": {}}, {"setWeight": 20}, {"pause": {}}]))
    assert severities(findings) == [("warning", "spec.strategy.canary.steps[0]")]
    # with a pod first it stays
    assert lint(rollout([{"setCanaryScale": {"replicas": 1}}, HEADER, {"pause": {}}, {"setWeight": 20}])) == []
    # a weight gives the canary pods too
    assert lint(rollout([{"setWeight": 10}, HEADER, {"pause": {}}])) == []


def test_a_route_not_in_managed_routes_is_an_error():
    findings = lint(rollout([{"setCanaryScale": {"replicas": 1}}, HEADER, {"setWeight": 20}], managed=()))
    assert severities(findings) == [("error", "spec.strategy.canary.steps[1].setHeaderRoute.name")]
    assert "InvalidSpec" in findings[0]["message"]
    mirror = {"setMirrorRoute": {"name": "mirror", "percentage": 10, "match": [{"method": {"exact": "GET"}}]}}
    assert severities(lint(rollout([{"setWeight": 10}, mirror], managed=("mirror",)))) == []


def test_a_removed_route_is_not_reported_lost():
    remove = {"setHeaderRoute": {"name": "canary-header"}}  # no match: Argo removes the route
    steps = [{"setCanaryScale": {"replicas": 1}}, HEADER, {"pause": {}}, remove,
             {"setCanaryScale": {"matchTrafficWeight": True}}, {"setWeight": 20}]
    assert lint(rollout(steps)) == []


def test_canary_scale_without_set_weight_moves_no_plain_traffic():
    steps = [{"setCanaryScale": {"weight": 20}}, {"pause": {}}, {"setCanaryScale": {"weight": 60}}, {"pause": {}}]
    findings = lint(rollout(steps, managed=()))
    assert severities(findings) == [("warning", "spec.strategy.canary.steps")]
    assert "0% of plain traffic" in findings[0]["message"]


def test_a_weight_that_goes_down():
    findings = lint(rollout([{"setWeight": 50}, {"pause": {}}, {"setWeight": 20}], managed=()))
    assert severities(findings) == [("warning", "spec.strategy.canary.steps[2].setWeight")]
    assert lint(rollout([{"setWeight": 20}, {"setWeight": 50}], managed=())) == []


def test_set_weight_without_traffic_routing():
    findings = lint(rollout([{"setWeight": 20}, {"pause": {}}], routing=False))
    assert severities(findings) == [("warning", "spec.strategy.canary.steps[0].setWeight")]


def test_nothing_to_say_about_other_strategies_and_the_input_is_left_alone():
    assert lint({"spec": {"strategy": {"blueGreen": {}}}}) == []
    assert lint({}) == []
    r = rollout(OLD_FRONTEND)
    before = copy.deepcopy(r)
    lines = describe(lint(r))
    assert r == before
    assert lines[0].startswith("warning spec.strategy.canary.steps[3]: the canary has no pod here")


def test_a_timed_pause_after_the_last_weight_ends_the_release_by_itself():
    # Argo's getting-started strategy: 80% then 10 seconds, then 100% with nobody deciding
    steps = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 80}, {"pause": {"duration": 10}}]
    findings = lint(rollout(steps, managed=()))
    assert severities(findings) == [("warning", "spec.strategy.canary.steps[3].pause.duration")]
    assert "after the last setWeight (80%), this pause ends by itself after 10s" in findings[0]["message"]
    assert "pause: {}" in findings[0]["fix"]
    # seed 002: 50% then 10 minutes
    findings = lint(rollout([{"setWeight": 5}, {"pause": {"duration": "10m"}}, {"setWeight": 50},
                             {"pause": {"duration": "10m"}}], managed=()))
    assert "after 10m" in findings[0]["message"]
    # a human gate after the last weight, or a stable that shrinks with the weight: nothing to say
    assert lint(rollout(steps[:3] + [{"pause": {}}], managed=())) == []
    assert lint(rollout(steps[:3] + [{"pause": {"duration": 10}}, {"pause": {}}], managed=())) == []
    shrinking = rollout(steps, managed=())
    shrinking["spec"]["strategy"]["canary"]["dynamicStableScale"] = True
    assert lint(shrinking) == []
    # timed pauses before the last weight are the strategy's own pace
    assert lint(rollout([{"setWeight": 20}, {"pause": {"duration": 10}}, {"setWeight": 100}, {"pause": {}}],
                        managed=())) == []


def test_seed000s_frontend_canary():
    # setHeaderRoute first (no canary pod: Argo removes it at once), then setCanaryScale 20/40/60/80 only
    steps = [{"setHeaderRoute": HEADER["setHeaderRoute"]}, {"pause": {"duration": 10}},
             {"setCanaryScale": {"weight": 20}}, {"pause": {}}, {"setCanaryScale": {"weight": 40}},
             {"pause": {"duration": 10}}, {"setCanaryScale": {"weight": 60}}, {"pause": {"duration": 10}},
             {"setCanaryScale": {"weight": 80}}, {"pause": {"duration": 10}}]
    findings = lint(rollout(steps))
    assert severities(findings) == [("warning", "spec.strategy.canary.steps[0]"),
                                    ("warning", "spec.strategy.canary.steps")]
    assert "0% of plain traffic until the end" in findings[1]["message"]
