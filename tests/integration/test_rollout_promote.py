"""rollout_promote against the local federation: one Rollout per member, moved by one module run.

The Rollout is applied to each member directly (not through Karmada), as a
release would find it after propagation; KWOK makes its pods Ready, and each
member's Argo Rollouts controller runs the canary.
"""

import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.lab

NAME = "helloworld"
STEPS = [{"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]
WAIT = 120  # seconds, for any one transition of all four members


def rollout_manifest(namespace, image):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {
            "replicas": 4,
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": {"app": NAME}},
            "strategy": {"canary": {"steps": STEPS}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {"containers": [{"name": NAME, "image": image}]},
            },
        },
    }


def rollout(lab, member, namespace):
    return lab.get(member, "rollouts.argoproj.io", NAME, namespace)


def states(lab, namespace):
    """{member: (phase, currentStepIndex, paused, abort)} straight from each member's API."""
    result = {}
    for m in lab.members:
        ro = rollout(lab, m, namespace) or {}
        st = ro.get("status", {})
        result[m] = (st.get("phase"), st.get("currentStepIndex"), bool(st.get("pauseConditions")), bool(st.get("abort")))
    return result


def wait_all(lab, namespace, predicate, what):
    def check():
        s = states(lab, namespace)
        if not all(predicate(v) for v in s.values()):
            raise AssertionError(s)  # kept by wait_for, so a timeout shows where each member was
        return s
    return lab.wait_for(check, timeout=WAIT, interval=1.0, what="{0} (Rollout in every member)".format(what))


def paused_at(step):
    return lambda s: s[0] == "Paused" and s[1] == step and s[2]


def assert_ok(result, changed):
    assert not result.get("failed"), result.get("msg") or result["_stdout"][-3000:]
    assert result["changed"] is changed, result.get("message")


@pytest.fixture
def canary_at_step_1(lab, namespace):
    """A Rollout in every member, updated to a new image and paused at its first pause (step 1)."""
    for m in lab.members:
        lab.apply(rollout_manifest(namespace, "helloworld:stable"), context=m)
    wait_all(lab, namespace, lambda s: s[0] == "Healthy", "Healthy")
    image = json.dumps({"spec": {"template": {"spec": {"containers": [{"name": NAME, "image": "helloworld:canary"}]}}}})
    for m in lab.members:
        lab.kubectl("patch", "rollouts.argoproj.io", NAME, "-n", namespace, "--type", "merge", "-p", image, context=m)
    wait_all(lab, namespace, paused_at(1), "paused at step 1")
    return namespace


def test_fleet_release(lab, run_module, canary_at_step_1):
    ns = canary_at_step_1
    base = {"name": NAME, "namespace": ns}

    # status: every member at the same step, read in one run (through Karmada's cluster proxy)
    r = run_module("rollout_promote", base)
    assert_ok(r, False)
    assert sorted(r["clusters"]) == sorted(lab.members)
    assert r["fleet"]["state"] == "aligned" and r["fleet"]["step"] == 1, r["fleet"]
    for m in lab.members:
        s = r["rollouts"][m]
        assert (s["phase"], s["step"], s["step_count"], s["pause_reason"]) == ("Paused", 1, 4, "CanaryPauseStep")
        assert s["set_weight"] == 25
        assert s["current_image"] == "helloworld:canary"
        assert s["stable_image"] == "helloworld:stable"
        assert s["stable_rs"] and s["canary_rs"] and s["stable_rs"] != s["canary_rs"]
        assert s["observed"] is True

    # the same through one kubeconfig context per member
    r = run_module("rollout_promote", dict(base, member_access="kubeconfig", member_kubeconfig=lab.kubeconfig))
    assert_ok(r, False)
    assert r["fleet"]["step"] == 1

    # check mode: says what it would send, sends nothing
    r = run_module("rollout_promote", dict(base, action="promote"), check=True)
    assert_ok(r, True)
    assert sorted(r["patches"]) == sorted(lab.members)
    assert r["patches"][lab.members[0]] == [{"subresource": "status", "patch": {"status": {"pauseConditions": None}}}]
    assert all(v == ("Paused", 1, True, False) for v in states(lab, ns).values()), states(lab, ns)

    # promote and wait: all four reach the next pause (step 3) in one run
    r = run_module("rollout_promote", dict(base, action="promote", wait=True, wait_timeout=WAIT))
    assert_ok(r, True)
    assert r["fleet"]["state"] == "aligned" and r["fleet"]["step"] == 3, r["fleet"]
    assert all(r["rollouts"][m]["set_weight"] == 50 for m in lab.members)
    assert all(paused_at(3)(v) for v in states(lab, ns).values()), states(lab, ns)

    # abort: every member back to stable
    r = run_module("rollout_promote", dict(base, action="abort", wait=True, wait_timeout=WAIT))
    assert_ok(r, True)
    assert all(r["rollouts"][m]["phase"] == "Aborted" for m in lab.members), r["fleet"]
    assert all(v[3] for v in states(lab, ns).values())

    # promote with nothing paused: a no-op, not an error
    r = run_module("rollout_promote", dict(base, action="promote"))
    assert_ok(r, False)
    assert "nothing to promote" in r["message"]

    # retry: every member restarts the update and stops at its first pause again
    r = run_module("rollout_promote", dict(base, action="retry", wait=True, wait_timeout=WAIT))
    assert_ok(r, True)
    assert r["fleet"]["state"] == "aligned" and r["fleet"]["step"] == 1, r["fleet"]
    wait_all(lab, ns, paused_at(1), "paused at step 1 after retry")

    # one member promoted alone with Argo's CLI: the gated promote refuses, naming where each member is
    first, others = lab.members[0], lab.members[1:]
    subprocess.run([os.path.join(lab.bin, "kubectl-argo-rollouts"), "promote", NAME, "-n", ns,
                    "--kubeconfig", lab.kubeconfig, "--context", first],
                   check=True, capture_output=True, text=True, timeout=60)
    lab.wait_for(lambda: paused_at(3)(states(lab, ns)[first]), timeout=WAIT, what=first + " paused at step 3")
    r = run_module("rollout_promote", dict(base, action="promote"))
    assert r.get("failed"), r
    assert r["changed"] is False
    assert "{0}: step 3/4 paused (CanaryPauseStep)".format(first) in r["msg"], r["msg"]
    for m in others:
        assert "{0}: step 1/4 paused (CanaryPauseStep)".format(m) in r["msg"], r["msg"]
    assert r["fleet"]["state"] == "mixed"
    now = states(lab, ns)
    assert paused_at(3)(now[first]) and all(paused_at(1)(now[m]) for m in others), now


# Both identities users have: a token (the default, the lab's automation ServiceAccount) and a
# client certificate (the lab's admin); each reaches the members through Karmada's cluster proxy.
@pytest.mark.parametrize("identity", ["automation", "admin"])
def test_errors_before_any_write(lab, run_module, namespace, identity):
    base = {"name": NAME, "namespace": namespace, "action": "abort"}
    lab.apply(rollout_manifest(namespace, "helloworld:stable"), context=lab.members[0])

    r = run_module("rollout_promote", dict(base, clusters=[lab.members[0], "k8s-master-hongkong"]), identity=identity)
    assert r.get("failed") and r["changed"] is False
    assert "k8s-master-hongkong" in r["msg"] and lab.members[0] in r["msg"], r["msg"]

    r = run_module("rollout_promote", base, identity=identity)
    assert r.get("failed") and r["changed"] is False
    assert "not found in: {0}".format(", ".join(sorted(lab.members[1:]))) in r["msg"], r["msg"]
    assert sorted(r["failed_clusters"]) == sorted(lab.members[1:])
    assert not (rollout(lab, lab.members[0], namespace).get("status") or {}).get("abort")
