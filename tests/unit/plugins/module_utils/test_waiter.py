"""FleetWaiter: one watch per member; a change is seen when the API server sends it, not at a poll."""

from __future__ import absolute_import, division, print_function

import copy
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, kind
from ansible_collections.multicluster.canary.plugins.module_utils.waiter import FleetWaiter

ROLLOUT = kind("Rollout")


def rollout(rv, step, paused):
    status = {"currentStepIndex": step}
    if paused:
        status["pauseConditions"] = [{"reason": "CanaryPauseStep"}]
    return {"metadata": {"name": "app", "namespace": "ns", "resourceVersion": str(rv)}, "status": status}


class WatchedEndpoint(object):
    """A member whose API server sends each change put on ``events`` to the open watch, at once."""

    def __init__(self, name, obj):
        self.name = name
        self.obj = obj
        self.events = queue.Queue()
        self.gets = 0
        self.watches = 0

    def change(self, obj):
        self.obj = obj
        self.events.put(("MODIFIED", copy.deepcopy(obj)))

    def get(self, k, namespace, name, subresource=None):
        self.gets += 1
        return copy.deepcopy(self.obj)

    def watch(self, k, namespace, name, resource_version, timeout):
        self.watches += 1
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return  # the server ends the watch after timeoutSeconds
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return
            if event[0] == "BREAK":
                raise FleetError("{0}: WATCH: connection reset".format(self.name))
            yield event


class Fleet(object):
    def __init__(self, endpoints):
        self.endpoints = dict((e.name, e) for e in endpoints)

    def run(self, names, fn):
        def one(name):
            try:
                return name, (True, fn(self.endpoints[name]))
            except FleetError as e:
                return name, (False, str(e))
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            return dict(pool.map(one, names))


def paused_at(step):
    return lambda _member, obj: obj["status"].get("currentStepIndex") == step and bool(obj["status"].get("pauseConditions"))


def never(_member, _obj):
    return False


def test_the_next_pause_is_seen_within_a_second_of_the_change():
    members = [WatchedEndpoint(n, rollout(1, 1, True)) for n in ("beijing", "shanghai")]
    waiter = FleetWaiter(Fleet(members), ROLLOUT, "ns", "app", window=30)
    changed_at = {}

    def controller():
        time.sleep(0.3)
        for m in members:
            m.change(rollout(2, 2, False))  # promoted: progressing
        time.sleep(1.2)
        for m in members:
            changed_at[m.name] = time.time()
            m.change(rollout(3, 3, True))  # the next pause, recorded by the controller

    t = threading.Thread(target=controller)
    t.start()
    results = waiter.wait(["beijing", "shanghai"], paused_at(3), never, timeout=20)
    returned = time.time()
    t.join()
    assert results == {"beijing": (True, None), "shanghai": (True, None)}
    for m in members:
        assert waiter.seen_at[m.name] - changed_at[m.name] < 1.0, (waiter.seen_at, changed_at)
        assert m.gets == 1 and m.watches == 1  # one read, then one watch: no polling
    assert returned - max(changed_at.values()) < 1.0
    assert waiter.latest["beijing"]["metadata"]["resourceVersion"] == "3"


def test_a_wait_from_a_written_object_watches_without_reading_first():
    members = [WatchedEndpoint(n, rollout(2, 1, False)) for n in ("beijing", "shanghai")]
    waiter = FleetWaiter(Fleet(members), ROLLOUT, "ns", "app", window=30)

    def controller():
        time.sleep(0.2)
        for m in members:
            m.change(rollout(3, 3, True))

    t = threading.Thread(target=controller)
    t.start()
    written = dict((m.name, rollout(2, 1, False)) for m in members)  # as the PATCH returned them
    results = waiter.wait(["beijing", "shanghai"], paused_at(3), never, timeout=20, start=written)
    t.join()
    assert results == {"beijing": (True, None), "shanghai": (True, None)}
    assert all(m.gets == 0 and m.watches == 1 for m in members), [(m.gets, m.watches) for m in members]
    assert waiter.latest["shanghai"]["metadata"]["resourceVersion"] == "3"


def test_a_bad_member_ends_every_wait():
    members = [WatchedEndpoint(n, rollout(1, 1, True)) for n in ("beijing", "shanghai")]
    waiter = FleetWaiter(Fleet(members), ROLLOUT, "ns", "app", window=0.5)

    def degraded(_member, obj):
        return obj["status"].get("phase") == "Degraded"

    def controller():
        time.sleep(0.3)
        bad = rollout(2, 1, False)
        bad["status"]["phase"] = "Degraded"
        members[0].change(bad)

    t = threading.Thread(target=controller)
    t.start()
    started = time.monotonic()
    waiter.wait(["beijing", "shanghai"], paused_at(3), degraded, timeout=30)
    t.join()
    # shanghai never settles: its wait ends at its next window once beijing is bad, not after 30 s
    assert time.monotonic() - started < 3
    assert waiter.stop.is_set()


def test_a_broken_watch_is_read_again_and_times_out_cleanly():
    member = WatchedEndpoint("beijing", rollout(1, 1, True))
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=0.3)
    member.events.put(("BREAK", None))
    started = time.monotonic()
    results = waiter.wait(["beijing"], paused_at(3), never, timeout=1.5)
    assert results == {"beijing": (True, None)}
    assert 1.4 < time.monotonic() - started < 4
    assert member.gets >= 2  # read again after the break and after each window
    assert waiter.watch_errors == {"beijing": "beijing: WATCH: connection reset"}
    assert "beijing" not in waiter.seen_at


def test_a_member_without_the_object_yet_is_read_until_it_appears():
    member = WatchedEndpoint("beijing", None)
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=5)

    def karmada():
        time.sleep(0.5)
        member.obj = rollout(1, 3, True)

    t = threading.Thread(target=karmada)
    t.start()
    waiter.wait(["beijing"], paused_at(3), never, timeout=10)
    t.join()
    assert "beijing" in waiter.seen_at and member.gets >= 2


def test_a_member_that_cannot_be_read_is_reported():
    class Down(WatchedEndpoint):
        def get(self, k, namespace, name, subresource=None):
            raise FleetError("beijing: GET: connection refused")

    waiter = FleetWaiter(Fleet([Down("beijing", None)]), ROLLOUT, "ns", "app")
    assert waiter.wait(["beijing"], paused_at(3), never, timeout=5) == {
        "beijing": (False, "beijing: GET: connection refused")}


def test_tick_runs_before_each_window():
    member = WatchedEndpoint("beijing", rollout(1, 1, True))
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=0.2)
    ticks = []
    waiter.wait(["beijing"], paused_at(3), never, timeout=1, tick=lambda m, o, now: ticks.append(m))
    assert len(ticks) >= 3 and set(ticks) == {"beijing"}


def test_a_watch_that_ends_at_once_is_not_a_busy_loop():
    class Silent(WatchedEndpoint):
        def watch(self, k, namespace, name, resource_version, timeout):
            self.watches += 1
            return iter(())  # a proxy that answers a watch with an empty body

    member = Silent("beijing", rollout(1, 1, True))
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=5)
    waiter.wait(["beijing"], paused_at(3), never, timeout=2.5)
    assert 2 <= member.watches <= 4 and member.gets <= 4, (member.gets, member.watches)


def test_an_error_event_is_reported_unless_the_version_is_only_too_old():
    member = WatchedEndpoint("beijing", rollout(1, 1, True))
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=5)
    member.events.put(("ERROR", {"kind": "Status", "code": 410, "message": "too old resource version"}))
    member.events.put(("ERROR", {"kind": "Status", "code": 500, "message": "internal error"}))
    member.events.put(("MODIFIED", rollout(3, 3, True)))
    member.obj = rollout(2, 2, False)
    waiter.wait(["beijing"], paused_at(3), never, timeout=10)
    assert waiter.watch_errors == {"beijing": "internal error"}
    assert "beijing" in waiter.seen_at and member.watches == 3


def test_without_stop_on_bad_a_bad_member_is_waited_for():
    # a rollback: the members start aborted, and only reaching the old image settles them
    aborted = rollout(1, 0, False)
    aborted["status"]["phase"] = "Aborted"
    member = WatchedEndpoint("shanghai", aborted)
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=5)

    def karmada():
        time.sleep(0.5)
        member.change(rollout(2, 4, False))  # the old image back: Healthy at the last step

    t = threading.Thread(target=karmada)
    t.start()
    waiter.wait(["shanghai"], lambda _m, o: o["status"]["currentStepIndex"] == 4,
                lambda _m, o: o["status"].get("phase") == "Aborted", timeout=10, stop_on_bad=False)
    t.join()
    assert "shanghai" in waiter.seen_at and not waiter.stop.is_set()
    assert waiter.latest["shanghai"]["metadata"]["resourceVersion"] == "2"


def test_wait_one_watches_a_single_endpoint_and_returns_what_it_saw():
    """The control plane (a binding Karmada rebuilds, say): one object on one endpoint, seen when it changes."""
    control = WatchedEndpoint("karmada", rollout(1, 1, True))
    waiter = FleetWaiter(Fleet([]), ROLLOUT, "ns", "app", window=30)
    ticks = []

    def controller():
        time.sleep(0.3)
        control.change(rollout(2, 3, True))

    t = threading.Thread(target=controller)
    t.start()
    started = time.monotonic()
    seen = waiter.wait_one(control, paused_at(3), timeout=20, tick=lambda *a: ticks.append(a[0]))
    t.join()
    assert time.monotonic() - started < 1.5
    assert seen["metadata"]["resourceVersion"] == "2"
    assert control.gets == 1 and control.watches == 1 and ticks == ["karmada"]
    # never settled: the last object seen, after the timeout
    stuck = FleetWaiter(Fleet([]), ROLLOUT, "ns", "app", window=0.2)
    assert stuck.wait_one(WatchedEndpoint("karmada", rollout(5, 1, True)), paused_at(3), timeout=0.5)[
        "metadata"]["resourceVersion"] == "5"


class StreamingEndpoint(WatchedEndpoint):
    """A member whose API server answers a watch without a resourceVersion as a WatchList server does: the
    object as it is (ADDED), the bookmark that ends the initial events, then each change put on ``events``."""

    def __init__(self, name, obj, refuse=None):
        super(StreamingEndpoint, self).__init__(name, obj)
        self.refuse = refuse
        self.versions = []  # the resourceVersion each watch was asked for

    def watch(self, k, namespace, name, resource_version, timeout):
        self.versions.append(resource_version)
        if resource_version is None:
            if self.refuse:
                self.watches += 1
                raise FleetError(self.refuse, status=422)
            return self._initial(k, namespace, name, timeout)
        return super(StreamingEndpoint, self).watch(k, namespace, name, resource_version, timeout)

    def _initial(self, k, namespace, name, timeout):
        self.watches += 1
        if self.obj is not None:
            yield "ADDED", copy.deepcopy(self.obj)
        yield "BOOKMARK", {"metadata": {"resourceVersion": "99", "annotations": {"k8s.io/initial-events-end": "true"}}}
        self.watches -= 1  # the rest is the same watch
        yield from super(StreamingEndpoint, self).watch(k, namespace, name, None, timeout)


def test_open_reads_through_a_watch_the_wait_goes_on_with_from_the_written_version():
    member = StreamingEndpoint("beijing", rollout(10, 1, True))
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=30)
    opened = waiter.open(["beijing"])
    obj, watch = opened["beijing"][1]
    assert obj["metadata"]["resourceVersion"] == "10" and member.gets == 0 and member.watches == 1
    # between the read and the write, a version that would settle the wait if it were taken for the result
    member.change(rollout(11, 3, True))
    written = rollout(12, 1, False)  # the patch, as the API server returned it
    member.change(written)
    member.change(rollout(13, 2, False))
    member.change(rollout(14, 3, True))  # the controller's next pause, after the write
    results = waiter.wait(["beijing"], paused_at(3), never, timeout=5, start={"beijing": written},
                          opened={"beijing": watch})
    assert results == {"beijing": (True, None)}
    assert waiter.latest["beijing"]["metadata"]["resourceVersion"] == "14"
    assert member.gets == 0 and member.watches == 1 and member.versions == [None]
    assert watch.events is None  # handed to the wait, which closed it


def test_open_knows_a_missing_object_from_the_bookmark_without_reading():
    member = StreamingEndpoint("beijing", None)
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=30)
    assert waiter.open(["beijing"]) == {"beijing": (True, (None, None))}
    assert member.gets == 0 and member.watches == 1


def test_open_reads_a_member_that_refuses_the_watch_and_the_wait_watches_from_the_write():
    member = StreamingEndpoint("beijing", rollout(10, 1, True),
                               refuse="sendInitialEvents is forbidden unless the WatchList feature gate is enabled")
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=30)
    opened = waiter.open(["beijing"])
    assert opened["beijing"][1][0]["metadata"]["resourceVersion"] == "10" and opened["beijing"][1][1] is None
    assert member.gets == 1
    member.events.put(("MODIFIED", rollout(12, 3, True)))
    waiter.wait(["beijing"], paused_at(3), never, timeout=5, start={"beijing": rollout(11, 1, False)})
    assert member.versions == [None, "11"] and member.gets == 1
    assert waiter.latest["beijing"]["metadata"]["resourceVersion"] == "12"
    assert waiter.watch_errors == {}  # the refusal is the open's, not the wait's


def test_an_open_watch_left_unused_is_closed():
    member = StreamingEndpoint("beijing", rollout(10, 3, True))
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=30)
    watch = waiter.open(["beijing"])["beijing"][1][1]
    events = watch.events
    watch.close()
    assert watch.events is None and events.gi_frame is None  # the generator ended: its connection released


def test_an_opened_watch_the_server_ended_before_the_wait_is_read_again_and_watched_from_the_write():
    class Ended(StreamingEndpoint):
        def _initial(self, k, namespace, name, timeout):
            self.watches += 1
            yield "ADDED", copy.deepcopy(self.obj)
            yield "BOOKMARK", {"metadata": {"annotations": {"k8s.io/initial-events-end": "true"}}}
            # then the server's timeoutSeconds: the watch ends before the wait takes it

    member = Ended("beijing", rollout(10, 1, True))
    waiter = FleetWaiter(Fleet([member]), ROLLOUT, "ns", "app", window=30)
    watch = waiter.open(["beijing"])["beijing"][1][1]
    written = rollout(11, 1, False)
    member.obj = written
    member.events.put(("MODIFIED", rollout(12, 3, True)))
    results = waiter.wait(["beijing"], paused_at(3), never, timeout=5, start={"beijing": written},
                          opened={"beijing": watch})
    assert results == {"beijing": (True, None)}
    # the opened watch ended with nothing after the bookmark: the member is read, then watched from that version
    assert member.versions == [None, "11"] and member.gets == 1
    assert waiter.latest["beijing"]["metadata"]["resourceVersion"] == "12"
