"""How soon a wait sees each member reach its next pause, measured on the lab.

A Rollout shaped like the catalogue's backends is released to its first pause; then
``rollout_promote action=promote wait=true`` (the automation identity's token, through Karmada's
cluster proxy) promotes it to the next pause. Meanwhile this test watches every member's Rollout
directly (the admin client certificate, straight to the member's API server) and notes when the
member's controller recorded the pause. The module returns ``settled_at``: when its own watch saw
it. The difference is the wait's lag behind the controller; a poll every 2 s (the old way) lagged by
about a second on average and up to two.
"""

import threading
import time

import pytest

from tests.integration import test_generation as gen

pytestmark = pytest.mark.lab

kubernetes = pytest.importorskip("kubernetes")

WINDOW = 5  # seconds a watch lasts before the waiter reads again (FleetWaiter's default window)


def at_pause(obj, step):
    st = obj.get("status") or {}
    return st.get("currentStepIndex") == step and bool(st.get("pauseConditions"))


def watch_member(lab, member, namespace, step, seen, ready, timeout):
    """Note time.time() when ``member``'s Rollout is seen at the pause of ``step`` (direct watch)."""
    client = kubernetes.config.new_client_from_config(config_file=lab.kubeconfig, context=member)
    api = kubernetes.client.CustomObjectsApi(client)
    first = api.list_namespaced_custom_object("argoproj.io", "v1alpha1", namespace, "rollouts",
                                              field_selector="metadata.name=" + gen.NAME)
    if any(at_pause(o, step) for o in first["items"]):
        seen[member] = time.time()
        return
    ready.release()
    w = kubernetes.watch.Watch()
    for event in w.stream(api.list_namespaced_custom_object, "argoproj.io", "v1alpha1", namespace, "rollouts",
                          field_selector="metadata.name=" + gen.NAME,
                          resource_version=first["metadata"]["resourceVersion"], timeout_seconds=timeout):
        if event["type"] in ("ADDED", "MODIFIED") and at_pause(event["object"], step):
            seen[member] = time.time()
            w.stop()
            return


def test_the_wait_sees_the_next_pause_through_its_watch(lab, namespace, run_module):
    ok = gen.ok
    ok(run_module("karmada_interpreter", {}))
    services, vs, rollout = gen.manifests(namespace, "ruoyi/gen:1.0.0")
    lab.apply(services + [vs])
    ok(run_module("karmada_propagation", gen.policy_args(namespace, lab)))
    lab.wait_for(lambda: all(lab.get(m, "service", gen.NAME + "-canary", namespace) for m in lab.members),
                 timeout=gen.WAIT, what="the Services in every member")
    lab.apply([rollout])
    gen.wait_members(lab, namespace, lambda s: s[2] == "Healthy", "Healthy")
    gen.set_image(lab, namespace, "ruoyi/gen:2.0.0")
    gen.wait_members(lab, namespace, lambda s: s[2] == "Paused" and s[3] == 1, "the first pause")

    seen, ready = {}, threading.Semaphore(0)
    watchers = [threading.Thread(target=watch_member, args=(lab, m, namespace, 3, seen, ready, 120), daemon=True)
                for m in lab.members]
    for t in watchers:
        t.start()
    for member in lab.members:
        assert ready.acquire(timeout=60), "a direct watch did not start ({0} or another)".format(member)

    result = ok(run_module("rollout_promote", {"name": gen.NAME, "namespace": namespace, "action": "promote",
                                               "wait": True, "wait_timeout": 120}))
    for t in watchers:
        t.join(timeout=30)
    assert sorted(result["settled_at"]) == sorted(lab.members), result
    # a watch refused (RBAC) or broken would have been replaced by a read every second, with a warning
    assert not result.get("warnings"), result["warnings"]
    assert sorted(seen) == sorted(lab.members), seen
    lags = dict((m, round(result["settled_at"][m] - seen[m], 3)) for m in lab.members)
    print("wait lag behind the controller, per member (s): {0}; the module waited {1}s".format(
        lags, result["waited"]))
    assert all(-0.5 < lag < WINDOW for lag in lags.values()), lags
    for m in lab.members:
        assert at_pause(lab.get(m, gen.ROLLOUT, gen.NAME, namespace), 3), m


class Counted(object):
    """A member's real Endpoint with its GETs and watches counted (each still goes to the API server)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.name = endpoint.name
        self.gets = 0
        self.watches = []

    def get(self, *args, **kwargs):
        self.gets += 1
        return self.endpoint.get(*args, **kwargs)

    def watch(self, k, namespace, name, resource_version, timeout):
        self.watches.append(resource_version)
        return self.endpoint.watch(k, namespace, name, resource_version, timeout)


class CountedFleet(object):
    """The collection's Fleet (the automation identity's token, members through Karmada's cluster proxy) whose
    member endpoints are :class:`Counted`."""

    def __init__(self, fleet, names):
        self.fleet = fleet
        self.members = dict((n, Counted(fleet.member(n))) for n in names)

    def member(self, name):
        return self.members[name]

    def run(self, names, fn):
        return self.fleet.run(names, lambda endpoint: fn(self.members[endpoint.name]))


def test_a_read_through_a_watch_is_the_waits_watch_on_real_members(lab, namespace):
    """What rollout_promote does with ``wait``: each member's Rollout is read by a watch that starts with it as it
    is (sendInitialEvents) and stays open; the wait goes on with that watch after a write. No GET, one watch per
    member; a Rollout a member does not have is known from the watch's bookmark, without a read."""
    from ansible_collections.multicluster.canary.plugins.module_utils.fleet import fleet_for, kind
    from ansible_collections.multicluster.canary.plugins.module_utils.waiter import FleetWaiter

    _services, _vs, rollout = gen.manifests(namespace, "ruoyi/gen:1.0.0")
    rollout = dict(rollout, spec=dict(rollout["spec"], strategy={"canary": {"steps": [{"pause": {}}]}}))
    for m in lab.members:
        lab.apply([rollout], context=m)
    fleet = CountedFleet(fleet_for({"kubeconfig": lab.kubeconfig_for("automation"), "validate_certs": True}),
                         lab.members)
    # a window longer than the four `kubectl annotate` below take: the wait starts on the watches the read opened
    waiter = FleetWaiter(fleet, kind("Rollout"), namespace, gen.NAME, window=60)
    opened = waiter.open(lab.members)
    assert all(ok for ok, _v in opened.values()), opened
    for m in lab.members:
        obj, watch = opened[m][1]
        assert watch is not None, "{0} refused the watch: it was read instead".format(m)
        assert obj["metadata"]["uid"] == lab.get(m, gen.ROLLOUT, gen.NAME, namespace)["metadata"]["uid"]

    # a change made in every member after the read reaches the wait through the watch opened by the read
    for m in lab.members:
        lab.kubectl("annotate", "rollout", gen.NAME, "-n", namespace, "mcc-test/seen=yes", context=m)
    results = waiter.wait(lab.members, lambda _m, o: (o["metadata"].get("annotations") or {}).get("mcc-test/seen"),
                          lambda _m, _o: False, timeout=60, opened=dict((m, opened[m][1][1]) for m in lab.members))
    assert results == dict((m, (True, None)) for m in lab.members), results
    assert sorted(waiter.seen_at) == sorted(lab.members) and not waiter.watch_errors, waiter.watch_errors
    for m in lab.members:
        assert fleet.members[m].gets == 0 and fleet.members[m].watches == [None], (m, fleet.members[m].watches)

    missing = FleetWaiter(fleet, kind("Rollout"), namespace, "no-such-rollout")
    assert missing.open(lab.members) == dict((m, (True, (None, None))) for m in lab.members)
    assert all(fleet.members[m].gets == 0 for m in lab.members)  # the bookmark said so: no read after the watch
