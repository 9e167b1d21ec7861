"""rollout_release lints the canary steps before it writes anything, against the lab's Karmada.

A header route missing from ``managedRoutes`` (Argo Rollouts would mark the Rollout InvalidSpec in
every member) fails the task, and Karmada still has no Rollout. Steps that lose the testers' header
route (canary scaled with the weight while the weight is 0) are written, with a warning that names
the step.
"""

import pytest

from tests.integration import test_generation as gen

pytestmark = pytest.mark.lab

HEADER = {"setHeaderRoute": {"name": "canary-header", "match": [
    {"headerName": "X-canary", "headerValue": {"exact": "test-user"}}]}}


def definition(namespace, steps, managed):
    rollout = gen.manifests(namespace, "ruoyi/gen:1.0.0")[2]
    canary = rollout["spec"]["strategy"]["canary"]
    canary["steps"] = steps
    canary["trafficRouting"]["managedRoutes"] = [{"name": n} for n in managed]
    return rollout


def test_a_route_argo_would_refuse_stops_before_any_write(lab, namespace, run_module):
    steps = [{"setCanaryScale": {"replicas": 1}}, HEADER, {"pause": {}}, {"setWeight": 20}]
    result = run_module("rollout_release", {"name": gen.NAME, "namespace": namespace,
                                            "definition": definition(namespace, steps, [])})
    assert result.get("failed"), result
    assert result["msg"].startswith("definition: nothing was written: error spec.strategy.canary.steps[1]"
                                    ".setHeaderRoute.name: route 'canary-header' is not in"), result["msg"]
    assert lab.get(lab.karmada, gen.ROLLOUT, gen.NAME, namespace) is None


def test_steps_that_lose_the_header_route_are_written_with_a_warning(lab, namespace, run_module):
    steps = [{"setCanaryScale": {"replicas": 1}}, HEADER, {"pause": {}},
             {"setCanaryScale": {"matchTrafficWeight": True}}, {"setWeight": 20}, {"pause": {}}]
    result = gen.ok(run_module("rollout_release", {"name": gen.NAME, "namespace": namespace,
                                                   "definition": definition(namespace, steps, ["canary-header"])}))
    assert [f["field"] for f in result["findings"]] == ["spec.strategy.canary.steps[3]"], result["findings"]
    assert any("route 'canary-header' (set at step 1) is gone from this step on" in w
               for w in result.get("warnings", [])), result.get("warnings")
    assert lab.get(lab.karmada, gen.ROLLOUT, gen.NAME, namespace)["spec"]["strategy"]["canary"]["steps"] == steps
