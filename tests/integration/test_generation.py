"""A release through Karmada costs each member's Rollout exactly one generation.

The canary app is shaped like the catalogue's backends (Rollout without container resources,
stable and canary Services, a mesh VirtualService, one PropagationPolicy 1:1:1:1), created in
Karmada with this checkout's interpreter customizations. What a user checks, in every member:
``metadata.generation`` grows by one per image change on the Karmada template (Argo Rollouts'
typed write-back on a new revision, followed by Karmada writing its template back, made it
three), ``status.observedGeneration`` catches up, and the Rollout's aggregated status in
Karmada says ``abort: false`` again after an abort followed by a retry or a new image.
"""

import json
import time

import pytest

pytestmark = pytest.mark.lab

NAME = "gen"
ROLLOUT = "rollouts.argoproj.io"
PORT = 8080
WAIT = 150  # seconds, for one transition of all four members
SETTLE = 8  # seconds a member must keep its generation once it has observed it
STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]


def manifests(namespace, image):
    meta = {"namespace": namespace, "labels": {"app": NAME}}

    def svc(name):
        return {"apiVersion": "v1", "kind": "Service", "metadata": dict(meta, name=name),
                "spec": {"type": "ClusterIP", "selector": {"app": NAME},
                         "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}]}}

    services = [svc(NAME + "-stable"), svc(NAME + "-canary"), svc(NAME)]
    vs = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": dict(meta, name=NAME),
          "spec": {"gateways": ["mesh"], "hosts": [NAME], "http": [{"name": "primary", "route": [
              {"destination": {"host": NAME + "-stable"}, "weight": 100},
              {"destination": {"host": NAME + "-canary"}, "weight": 0}]}]}}
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": dict(meta, name=NAME, annotations={"multicluster.canary/app": NAME}),
        "spec": {
            "replicas": 4,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": {"app": NAME}},
            # no `resources` on the container, as in the catalogue: Argo adds `resources: {}`
            "template": {"metadata": {"labels": {"app": NAME}},
                         "spec": {"containers": [{"name": NAME, "image": image, "ports": [
                             {"name": "http", "containerPort": PORT, "protocol": "TCP"}]}]}},
            "strategy": {"canary": {
                "stableService": NAME + "-stable", "canaryService": NAME + "-canary",
                "canaryMetadata": {"labels": {"lane": "canary"}},
                "trafficRouting": {"istio": {"virtualService": {"name": NAME, "routes": ["primary"]}}},
                "steps": STEPS}},
        },
    }
    return services, vs, rollout


def policy_args(namespace, lab):
    kinds = [("v1", "Service", NAME + "-stable"), ("v1", "Service", NAME + "-canary"), ("v1", "Service", NAME),
             ("networking.istio.io/v1", "VirtualService", NAME), ("argoproj.io/v1alpha1", "Rollout", NAME)]
    return {"name": NAME, "namespace": namespace,
            "resource_selectors": [{"api_version": a, "kind": k, "name": n} for a, k, n in kinds],
            "weights": dict((m, 1) for m in lab.members)}


def ok(result):
    assert not result.get("failed"), result.get("msg") or result.get("_stdout", "")[-3000:]
    return result


def members(lab, namespace):
    """{member: (generation, observedGeneration, phase, currentStepIndex, abort, image)}."""
    out = {}
    for m in lab.members:
        ro = lab.get(m, ROLLOUT, NAME, namespace) or {}
        st = ro.get("status") or {}
        observed = st.get("observedGeneration")
        out[m] = ((ro.get("metadata") or {}).get("generation"), int(observed) if observed else None,
                  st.get("phase"), st.get("currentStepIndex"), bool(st.get("abort")),
                  ro and ro["spec"]["template"]["spec"]["containers"][0]["image"])
    return out


def wait_members(lab, namespace, predicate, what):
    def check():
        now = members(lab, namespace)
        if not all(predicate(s) for s in now.values()):
            raise AssertionError(now)  # kept by wait_for: a timeout shows every member
        return now
    return lab.wait_for(check, timeout=WAIT, what="{0} in every member".format(what))


def observed(s):
    return s[0] is not None and s[1] == s[0]


def settled(lab, namespace, predicate, what):
    """Wait for predicate, then check that no member's generation moves for SETTLE seconds."""
    first = wait_members(lab, namespace, lambda s: observed(s) and predicate(s), what)
    time.sleep(SETTLE)
    again = wait_members(lab, namespace, lambda s: observed(s) and predicate(s), what + " (still)")
    assert dict((m, s[0]) for m, s in again.items()) == dict((m, s[0]) for m, s in first.items()), (
        "a member's Rollout generation kept moving after it was observed: {0} then {1}".format(first, again))
    return again


def set_image(lab, namespace, image):
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}]
    lab.kubectl("patch", ROLLOUT, NAME, "-n", namespace, "--type", "json", "-p", json.dumps(patch))


def aggregated_abort(lab, namespace):
    return ((lab.get(lab.karmada, ROLLOUT, NAME, namespace) or {}).get("status") or {}).get("abort")


def generations(state):
    return dict((m, s[0]) for m, s in state.items())


def test_one_generation_per_release_and_abort_clears(lab, namespace, run_module):
    replaced = []

    def ours(phase):
        """This checkout's scripts. They are cluster-wide: on a shared lab another checkout's tests or
        bootstrap may install theirs meanwhile, so they are installed again before each phase and a
        replacement is named in any failure."""
        if ok(run_module("karmada_interpreter", {}))["changed"] and phase != "start":
            replaced.append(phase)
        return "customizations replaced by another checkout before: {0}".format(replaced or "none")

    ours("start")
    services, vs, rollout = manifests(namespace, "ruoyi/gen:1.0.0")
    lab.apply(services + [vs])
    ok(run_module("karmada_propagation", policy_args(namespace, lab)))
    # The Services first, as app_onboard does: a Rollout without them is InvalidSpec in a member.
    lab.wait_for(lambda: all(lab.get(m, "service", NAME + "-canary", namespace) for m in lab.members),
                 timeout=WAIT, what="the Services in every member")
    lab.apply(rollout)

    onboarded = settled(lab, namespace, lambda s: s[2] == "Healthy", "onboarded, Healthy")
    base = generations(onboarded)

    def release(image, expected_step, step_what):
        set_image(lab, namespace, image)
        return settled(lab, namespace, lambda s: s[5] == image and s[2] == "Paused" and s[3] == expected_step,
                       step_what)

    # Release 1: exactly one generation more in every member, observed by its controller.
    ours("release 1")
    at_pause = release("ruoyi/gen:1.1.0", 1, "paused at step 1 on 1.1.0")
    assert generations(at_pause) == dict((m, g + 1) for m, g in base.items()), (base, at_pause, ours("check"))

    # Abort, then retry: the members' status.abort goes back to false, and so must Karmada's aggregate.
    ok(run_module("rollout_promote", {"name": NAME, "namespace": namespace, "action": "abort",
                                      "wait": True, "wait_timeout": WAIT}))
    lab.wait_for(lambda: aggregated_abort(lab, namespace) is True, timeout=60, what="abort: true in Karmada")
    ours("retry")
    ok(run_module("rollout_promote", {"name": NAME, "namespace": namespace, "action": "retry",
                                      "wait": True, "wait_timeout": WAIT}))
    retried = settled(lab, namespace, lambda s: s[2] == "Paused" and s[3] == 1 and not s[4], "retried, at step 1")
    lab.wait_for(lambda: aggregated_abort(lab, namespace) is False, timeout=60,
                 what="abort: false in Karmada's aggregated status after retry ({0})".format(ours("check")))
    assert generations(retried) == generations(at_pause)  # abort and retry are status changes

    # Abort again, then a new image: one more generation, and the aggregate is not aborted.
    ok(run_module("rollout_promote", {"name": NAME, "namespace": namespace, "action": "abort",
                                      "wait": True, "wait_timeout": WAIT}))
    lab.wait_for(lambda: aggregated_abort(lab, namespace) is True, timeout=60, what="abort: true in Karmada again")
    ours("release 2")
    second = release("ruoyi/gen:1.2.0", 1, "paused at step 1 on 1.2.0")
    assert generations(second) == dict((m, g + 2) for m, g in base.items()), (base, second, ours("check"))
    assert not any(s[4] for s in second.values())
    lab.wait_for(lambda: aggregated_abort(lab, namespace) is False, timeout=60,
                 what="abort: false in Karmada's aggregated status after a new image ({0})".format(ours("check")))
