# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rollout_promote's run against members in memory: every member read before any write, one way to fail."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.multicluster.canary.plugins.module_utils import promote_runner
from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError
from tests.unit.fleet_fake import SequentialRun
from ansible_collections.multicluster.canary.plugins.module_utils.runner import Run, RunError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rollouts"


def paused_rollout():
    return yaml.safe_load((FIXTURES / "paused_step1.yaml").read_text())


class Member(object):
    def __init__(self, name, rollout, status_subresource=True, objects=None):
        self.name = name
        self.rollout = rollout
        self.status_subresource = status_subresource
        self.objects = objects or {}
        self.patches = []
        self.reads = []

    def get(self, k, namespace, name, subresource=None):
        self.reads.append((k.kind, name))
        if k.kind == "Rollout":
            return copy.deepcopy(self.rollout)
        return copy.deepcopy(self.objects.get((k.kind, name)))

    def patch(self, k, namespace, name, patch, subresource=None, dry_run=False, **kw):
        if subresource == "status" and not self.status_subresource:
            raise FleetError("{0}: PATCH .../status: the server could not find the requested resource".format(
                self.name), status=404)
        self.patches.append((subresource, patch, dry_run))


class Fleet(SequentialRun):
    def __init__(self, members):
        self.members = dict((m.name, m) for m in members)

    def clusters(self):
        return dict((n, True) for n in self.members)

    def resolve(self, requested=None, field="clusters", known=None):
        return list(requested or sorted(self.members))

    def placement(self, kind_name, namespace, name):
        return sorted(self.members)

    def member(self, name):
        return self.members[name]


def promote(fleet, check_mode=False, **params):
    options = dict(name="helloworld-stable", namespace="helloworld-rollout", action="promote", clusters=None,
                   require_same_step=True, wait=False, wait_timeout=5, abort_on_degraded=False)
    options.update(params)
    run = Run(options, check_mode=check_mode, fleet=fleet, clusters=[], patches={})
    try:
        promote_runner.promote(run)
    except RunError as e:
        return run.outcome(msg=e.msg, failed=True, **e.fields)
    except InputError as e:
        return run.outcome(msg=str(e), failed=True, field=e.field)
    return run.outcome()


def test_promote_sends_the_clis_status_patch_to_each_member():
    fleet = Fleet([Member("beijing", paused_rollout()), Member("shanghai", paused_rollout())])
    result = promote(fleet)
    assert not result.get("failed") and result["changed"] is True
    for m in fleet.members.values():
        assert m.patches == [("status", {"status": {"pauseConditions": None}}, False)]
    assert result["message"].startswith("promoted in 2 cluster(s)")


def test_a_member_without_the_rollout_stops_everything_before_a_write():
    fleet = Fleet([Member("beijing", paused_rollout()), Member("shanghai", None)])
    result = promote(fleet)
    assert result["failed"] and "not found in: shanghai" in result["msg"]
    assert result["failed_clusters"] == {"shanghai": "Rollout not found"}
    assert fleet.members["beijing"].patches == [] and result["changed"] is False


def test_members_at_different_steps_are_refused_unless_asked():
    moved = paused_rollout()
    moved["status"]["currentStepIndex"] = 3
    fleet = Fleet([Member("beijing", paused_rollout()), Member("shanghai", moved)])
    refused = promote(fleet)
    assert refused["failed"] and refused["msg"].startswith("refusing to promote")
    assert all(m.patches == [] for m in fleet.members.values())
    assert not promote(fleet, require_same_step=False).get("failed")


def test_from_step_promotes_the_members_at_it_and_leaves_those_past_it():
    # a workflow's approval at step 1, retried after one member's timed pause ended by itself (now at step 3)
    moved = paused_rollout()
    moved["status"]["currentStepIndex"] = 3
    fleet = Fleet([Member("beijing", paused_rollout()), Member("shanghai", moved)])
    result = promote(fleet, from_step=1)
    assert not result.get("failed"), result
    assert fleet.members["beijing"].patches == [("status", {"status": {"pauseConditions": None}}, False)]
    assert fleet.members["shanghai"].patches == []
    assert result["past_step"] == ["shanghai"]


def test_from_step_retried_after_every_member_moved_on_changes_nothing():
    moved = paused_rollout()
    moved["status"]["currentStepIndex"] = 3
    fleet = Fleet([Member("beijing", copy.deepcopy(moved)), Member("shanghai", moved)])
    result = promote(fleet, from_step=1)
    assert not result.get("failed") and result["changed"] is False
    assert all(m.patches == [] for m in fleet.members.values())
    assert "past step 1" in result["message"] and result["past_step"] == ["beijing", "shanghai"]


def test_from_step_refuses_a_member_not_there_yet_before_any_write():
    fleet = Fleet([Member("beijing", paused_rollout()), Member("shanghai", paused_rollout())])
    result = promote(fleet, from_step=3)
    assert result["failed"] and result["msg"].startswith("refusing to promote from step 3")
    assert set(result["failed_clusters"]) == {"beijing", "shanghai"}
    assert all(m.patches == [] for m in fleet.members.values())
    wrong = promote(fleet, action="abort", from_step=1)
    assert wrong["failed"] and wrong["field"] == "from_step"


def test_without_a_status_subresource_the_whole_object_is_patched_on_the_404_status():
    fleet = Fleet([Member("beijing", paused_rollout(), status_subresource=False)])
    result = promote(fleet)
    assert result["patches"] == {"beijing": [{"subresource": None, "patch": {"status": {"pauseConditions": None}}}]}


def test_check_mode_sends_dry_runs_and_says_what_would_happen():
    fleet = Fleet([Member("beijing", paused_rollout())])
    result = promote(fleet, check_mode=True)
    assert result["message"] == "would be promoted in 1 cluster(s): beijing"
    assert fleet.members["beijing"].patches[0][2] is True  # dry run


def test_a_member_that_refuses_the_patch_is_named_with_what_was_sent_elsewhere():
    class Refusing(Member):
        def patch(self, *a, **kw):
            raise FleetError("shanghai: PATCH: forbidden", status=403)

    fleet = Fleet([Member("beijing", paused_rollout()), Refusing("shanghai", paused_rollout())])
    result = promote(fleet)
    assert result["failed"] and result["changed"] is True
    assert result["msg"] == "promote failed in shanghai: shanghai: PATCH: forbidden (sent to beijing)"
    assert result["failed_clusters"] == {"shanghai": "shanghai: PATCH: forbidden"}


@pytest.mark.parametrize("action", ["status"])
def test_status_reports_the_members_that_answer_and_names_the_others(action):
    class Down(Member):
        def get(self, *a, **kw):
            raise FleetError("shanghai: GET: connection refused")

    fleet = Fleet([Member("beijing", paused_rollout()), Down("shanghai", None)])
    result = promote(fleet, action=action)
    assert not result.get("failed") and list(result["rollouts"]) == ["beijing"]
    assert result["unreachable_clusters"] == {"shanghai": "shanghai: GET: connection refused"}
    assert result["fleet"]["state"] == "degraded"
    assert result["message"].startswith("shanghai could not be read (shanghai: GET: connection refused)")


def routed_rollout():
    ro = paused_rollout()
    ro["spec"]["strategy"]["canary"].update(
        canaryService="helloworld-canary", stableService="helloworld-stable",
        trafficRouting={"istio": {"virtualService": {"name": "helloworld", "routes": ["primary"]}}})
    return ro


def virtual_service(stable, canary):
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "helloworld", "namespace": "helloworld-rollout"},
            "spec": {"hosts": ["helloworld"], "http": [{"name": "primary", "route": [
                {"destination": {"host": "helloworld-stable"}, "weight": stable},
                {"destination": {"host": "helloworld-canary"}, "weight": canary}]}]}}


@pytest.mark.parametrize("params", [dict(), dict(check_mode=True), dict(action="status")])
def test_routes_are_read_from_each_member_when_asked(params):
    objects = {"beijing": {("VirtualService", "helloworld"): virtual_service(80, 20)},
               "shanghai": {("VirtualService", "helloworld"): virtual_service(100, 0)}}
    fleet = Fleet([Member(n, routed_rollout(), objects=objects[n]) for n in ("beijing", "shanghai")])
    result = promote(fleet, routes=True, **params)
    assert not result.get("failed"), result
    # as each member's own object says (shanghai's was edited by hand), not as the step implies
    assert result["routes"]["beijing"]["plain_text"] == "stable 80% / canary 20%"
    assert result["routes"]["shanghai"]["plain_text"] == "stable 100% / canary 0%"
    without = promote(Fleet([Member("beijing", routed_rollout(), objects=objects["beijing"])]), **params)
    assert "routes" not in without


def test_a_container_the_rollout_does_not_have_is_named_before_any_write():
    fleet = Fleet([Member("beijing", paused_rollout()), Member("shanghai", paused_rollout())])
    result = promote(fleet, container="web")
    assert result["failed"] and result["field"] == "container"
    assert result["msg"].startswith("container: no container 'web' in Rollout helloworld-rollout/helloworld-stable in "
                                    "beijing (containers: "), result["msg"]
    assert all(m.patches == [] for m in fleet.members.values())


class Controller(Member):
    """A member whose Argo Rollouts controller moves a promoted Rollout to its next pause (step 3), and whose API
    server streams each version of it to a watch (a watch without a resourceVersion starts with the Rollout as it
    is, and the bookmark that ends the initial events). ``refuse``: the answer to such a watch instead."""

    def __init__(self, name, rollout, refuse=None, **kw):
        super(Controller, self).__init__(name, rollout, **kw)
        self.rollout["metadata"]["resourceVersion"] = "10"
        self.history = []   # the versions written, in order
        self.watches = []
        self.streams = []
        self.refuse = refuse

    def patch(self, k, namespace, name, patch, subresource=None, dry_run=False, **kw):
        super(Controller, self).patch(k, namespace, name, patch, subresource, dry_run)
        self.rollout["status"]["pauseConditions"] = None
        self.rollout["metadata"]["resourceVersion"] = "11"
        returned = copy.deepcopy(self.rollout)
        self.history.append(copy.deepcopy(self.rollout))
        paused = copy.deepcopy(self.rollout)
        paused["status"].update(currentStepIndex=3, pauseConditions=[{"reason": "CanaryPauseStep"}])
        paused["metadata"]["resourceVersion"] = "12"
        self.rollout = paused
        self.history.append(copy.deepcopy(paused))
        return returned

    def watch(self, k, namespace, name, resource_version, timeout):
        self.watches.append(resource_version)
        if resource_version is None and self.refuse:
            raise FleetError(self.refuse, status=422)
        stream = self._events(resource_version)
        self.streams.append(stream)
        return stream

    def open_streams(self):
        """The watches started and not ended (a generator closed or run to its end has no frame)."""
        return [s for s in self.streams if s.gi_frame is not None]

    def _events(self, resource_version):
        if resource_version is None:
            seen = len(self.history)  # the state when the watch opened
            if self.rollout is not None:
                yield "ADDED", copy.deepcopy(self.rollout)
            yield "BOOKMARK", {"metadata": {"annotations": {"k8s.io/initial-events-end": "true"}}}
        else:
            seen = [v["metadata"]["resourceVersion"] for v in self.history].index(resource_version) + 1
        while seen < len(self.history):  # read lazily: versions written after the watch opened are sent too
            seen += 1
            yield "MODIFIED", copy.deepcopy(self.history[seen - 1])


ROUTED_OBJECTS = {("VirtualService", "helloworld"): virtual_service(50, 50),
                  ("ReplicaSet", "helloworld-stable-7c9d8b6f5d"): {"spec": {"template": {"spec": {"containers": [
                      {"name": "helloworld", "image": "helloworld:stable"}]}}}}}


def test_a_promotion_with_a_wait_reads_each_member_through_the_watch_it_waits_with():
    fleet = Fleet([Controller(n, routed_rollout(), objects=ROUTED_OBJECTS) for n in ("beijing", "shanghai")])
    result = promote(fleet, wait=True, routes=True)
    assert not result.get("failed"), result
    assert result["fleet"]["state"] == "aligned" and result["fleet"]["step"] == 3, result["fleet"]
    for m in fleet.members.values():
        # the Rollout read by one watch opened before the patch, which the wait goes on with; the final state is
        # that watch's event; the stable ReplicaSet and the VirtualService are read once, at the end
        assert m.reads == [("ReplicaSet", "helloworld-stable-7c9d8b6f5d"), ("VirtualService", "helloworld")], m.reads
        assert m.watches == [None] and len(m.patches) == 1
        assert result["rollouts"][m.name]["stable_image"] == "helloworld:stable"
        assert result["routes"][m.name]["plain_text"] == "stable 50% / canary 50%"
    assert result["message"].startswith("promoted in 2 cluster(s); all 2 cluster(s) step 3/")


def test_a_member_that_refuses_the_reading_watch_is_read_and_watched_from_the_patch():
    fleet = Fleet([Controller("beijing", routed_rollout(), objects=ROUTED_OBJECTS,
                              refuse="beijing: WATCH: sendInitialEvents is forbidden (422)"),
                   Controller("shanghai", routed_rollout(), objects=ROUTED_OBJECTS)])
    result = promote(fleet, wait=True, routes=True)
    assert not result.get("failed"), result
    beijing, shanghai = fleet.members["beijing"], fleet.members["shanghai"]
    assert beijing.reads[0] == ("Rollout", "helloworld-stable") and beijing.watches == [None, "11"]
    assert shanghai.watches == [None] and ("Rollout", "helloworld-stable") not in shanghai.reads
    assert result["fleet"]["step"] == 3 and not result.get("warnings")


def test_a_missing_rollout_is_known_from_the_watch_and_nothing_is_written():
    fleet = Fleet([Controller("beijing", routed_rollout(), objects=ROUTED_OBJECTS),
                   Controller("shanghai", routed_rollout(), objects=ROUTED_OBJECTS)])
    fleet.members["shanghai"].rollout = None
    result = promote(fleet, wait=True)
    assert result["failed"] and "Rollout helloworld-rollout/helloworld-stable not found in: shanghai" in result["msg"]
    assert all(m.patches == [] and m.reads == [] and m.open_streams() == [] for m in fleet.members.values())
    assert fleet.members["beijing"].watches == [None]  # its watch read the Rollout, and was closed


def test_every_watch_the_read_opened_is_closed_when_nothing_is_written():
    fleet = Fleet([Controller(n, routed_rollout(), objects=ROUTED_OBJECTS) for n in ("beijing", "shanghai")])
    for m in fleet.members.values():
        m.rollout["status"]["pauseConditions"] = None  # not paused: nothing to promote
    result = promote(fleet, wait=True)
    assert not result.get("failed") and not result["changed"], result
    assert all(m.watches == [None] and m.open_streams() == [] and m.patches == [] for m in fleet.members.values())


def test_a_member_past_the_step_is_not_waited_for_and_its_watch_is_closed():
    fleet = Fleet([Controller(n, routed_rollout(), objects=ROUTED_OBJECTS) for n in ("beijing", "shanghai")])
    fleet.members["shanghai"].rollout["status"]["currentStepIndex"] = 3  # past step 1: left alone
    result = promote(fleet, wait=True, from_step=1, require_same_step=False)
    assert not result.get("failed"), result
    assert result["past_step"] == ["shanghai"] and fleet.members["shanghai"].patches == []
    assert len(fleet.members["beijing"].patches) == 1 and result["rollouts"]["beijing"]["step"] == 3
    assert all(m.watches == [None] and m.open_streams() == [] for m in fleet.members.values())


def test_without_a_wait_the_rollout_is_read_and_not_watched():
    fleet = Fleet([Controller(n, routed_rollout(), objects=ROUTED_OBJECTS) for n in ("beijing", "shanghai")])
    result = promote(fleet, wait=False)
    assert not result.get("failed"), result
    assert all(m.watches == [] and m.reads[0] == ("Rollout", "helloworld-stable") for m in fleet.members.values())
