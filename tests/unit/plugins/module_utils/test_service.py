# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service layer's one rule for ``changed``, its diff and its conflict retries, against an in-memory server.

The fake server keeps what other managers own (Karmada's labels, defaults) apart from what we
applied, as server-side apply does: an apply replaces our fields, and drops one we set before and
no longer send; the resourceVersion moves only when the object changes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import service
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, kind

POLICY = kind("PropagationPolicy")


def merge(base, top):
    out = copy.deepcopy(base)
    for k, v in top.items():
        out[k] = merge(out.get(k) or {}, v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


class Server(object):
    def __init__(self, dry_run_supported=True):
        self.name = "karmada"
        self.dry_run_supported = dry_run_supported
        self.others = {}   # fields other managers own
        self.ours = None   # what we applied last
        self.rv = 0
        self.calls = []

    def current(self):
        if self.ours is None:
            return None
        obj = merge(self.others, self.ours)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        return obj

    def get(self, k, namespace, name, subresource=None):
        self.calls.append("get")
        return self.current()

    def apply(self, k, obj, dry_run=False, **kw):
        self.calls.append("dry-run" if dry_run else "apply")
        if dry_run and not self.dry_run_supported:
            return obj
        sent = copy.deepcopy(obj)
        rv = sent["metadata"].pop("resourceVersion", None)
        if rv is not None and rv != str(self.rv):
            raise FleetError("karmada: PATCH: the object has been modified", status=409)
        before = self.current()
        after = merge(self.others, sent)
        after["metadata"]["resourceVersion"] = str(self.rv)
        if dry_run:
            return after
        self.ours = sent
        if before is None or service.comparable(before) != service.comparable(after):
            self.rv += 1
        return self.current()

    def delete(self, k, namespace, name, dry_run=False):
        self.calls.append("dry-run delete" if dry_run else "delete")
        if not dry_run:
            self.ours = None


def policy(weight=1, priority=None):
    obj = {"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
           "metadata": {"name": "app", "namespace": "ns"},
           "spec": {"resourceSelectors": [{"apiVersion": "v1", "kind": "Service", "name": "app"}],
                    "placement": {"replicaScheduling": {"weight": weight}}}}
    if priority is not None:
        obj["spec"]["priority"] = priority
    return obj


@pytest.fixture
def server():
    s = Server()
    s.others = {"metadata": {"labels": {"propagationpolicy.karmada.io/permanent-id": "x"}},
                "spec": {"conflictResolution": "Abort"}}
    return s


def test_create_then_the_same_again_writes_once(server):
    first = service.apply_if_needed(server, POLICY, policy())
    assert first.changed and first.before is None and server.rv == 1
    server.calls = []
    again = service.apply_if_needed(server, POLICY, policy())
    assert not again.changed and again.diff is None
    assert server.calls == ["get", "dry-run"]  # asked, nothing written


def test_a_field_we_stopped_sending_is_seen_by_the_dry_run(server):
    service.apply_if_needed(server, POLICY, policy(priority=5))
    dropped = service.apply_if_needed(server, POLICY, policy())
    assert dropped.changed and "priority" not in dropped.after["spec"]


def test_check_mode_writes_nothing_and_predicts_from_a_dry_run(server):
    service.apply_if_needed(server, POLICY, policy())
    server.calls = []
    planned = service.apply_if_needed(server, POLICY, policy(weight=2), check_mode=True, want_diff=True)
    assert planned.changed and server.rv == 1 and "apply" not in server.calls
    assert planned.after["spec"]["placement"]["replicaScheduling"]["weight"] == 2


def test_check_mode_of_a_new_object_is_a_dry_run_or_where_its_namespace_is_missing_a_prediction(server):
    planned = service.apply_if_needed(server, POLICY, policy(), check_mode=True)
    assert planned.changed and server.calls == ["get", "dry-run"] and server.ours is None
    assert planned.after["metadata"]["labels"] == {"propagationpolicy.karmada.io/permanent-id": "x"}

    class NoNamespace(Server):
        def apply(self, k, obj, dry_run=False, **kw):
            raise FleetError('karmada: PATCH: namespaces "ns" not found', status=404)

    planned = service.apply_if_needed(NoNamespace(), POLICY, policy(), check_mode=True)
    assert planned.changed and planned.after == policy()


def test_check_mode_without_dry_run_predicts_with_the_object_we_send():
    member = Server(dry_run_supported=False)
    service.apply_if_needed(member, POLICY, policy())
    planned = service.apply_if_needed(member, POLICY, policy(weight=3), check_mode=True)
    assert planned.changed and member.rv == 1
    assert planned.after == policy(weight=3)


def test_the_diff_shows_only_what_we_send(server):
    service.apply_if_needed(server, POLICY, policy())
    changed = service.apply_if_needed(server, POLICY, policy(weight=2), want_diff=True)
    before, after = changed.diff["before"], changed.diff["after"]
    assert "labels" not in before["metadata"] and "conflictResolution" not in before["spec"]
    assert before["spec"]["placement"] == {"replicaScheduling": {"weight": 1}}
    assert after["spec"]["placement"] == {"replicaScheduling": {"weight": 2}}
    assert "resourceVersion" not in after["metadata"]
    assert changed.diff["before_header"] == "PropagationPolicy ns/app"


def test_same_replaces_the_default_test_and_guard_sends_the_version_read(server):
    service.apply_if_needed(server, POLICY, policy())
    before = server.current()
    skipped = service.apply_if_needed(server, POLICY, policy(weight=9), before=before, same=lambda b, o: True)
    assert not skipped.changed and server.rv == 1
    server.rv += 1  # someone else wrote since `before` was read
    with pytest.raises(FleetError) as e:
        service.apply_if_needed(server, POLICY, policy(weight=2), before=before, same=lambda b, o: False, guard=True)
    assert e.value.status == 409


def test_delete_if_present(server):
    assert not service.delete_if_present(server, POLICY, "ns", "app").changed
    service.apply_if_needed(server, POLICY, policy())
    planned = service.delete_if_present(server, POLICY, "ns", "app", check_mode=True, want_diff=True)
    assert planned.changed and server.ours is not None and "dry-run delete" in server.calls
    assert planned.diff["after"] == {} and "resourceVersion" not in planned.diff["before"]["metadata"]
    assert service.delete_if_present(server, POLICY, "ns", "app").changed and server.ours is None


def test_conflicts_are_retried_on_their_status_not_their_text():
    seen, pauses = [], []

    def attempt(number):
        seen.append(number)
        if number < 2:
            raise FleetError("member: PATCH: conflict", status=409)
        return "written"

    assert service.retry_on_conflict(attempt, sleep=pauses.append) == "written"
    assert seen == [0, 1, 2] and len(pauses) == 2

    def text_only(number):
        seen.append(number)
        raise FleetError("member: PATCH: Operation cannot be fulfilled (409)")  # no status: not a conflict

    seen[:] = []
    with pytest.raises(FleetError):
        service.retry_on_conflict(text_only, sleep=pauses.append)
    assert seen == [0]


def test_a_conflict_that_persists_is_raised_after_the_last_attempt():
    def always(number):
        raise FleetError("conflict", status=409)

    with pytest.raises(FleetError) as e:
        service.retry_on_conflict(always, attempts=3, sleep=lambda s: None)
    assert e.value.status == 409
