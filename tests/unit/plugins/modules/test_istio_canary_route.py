# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's read -> check everywhere -> write flow, against in-memory API servers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicluster.canary.plugins.module_utils import runner
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError
from tests.unit.fleet_fake import SequentialRun
from ansible_collections.multicluster.canary.plugins.modules import istio_canary_route


class Exit(Exception):
    def __init__(self, result, failed):
        super(Exit, self).__init__(result.get("msg"))
        self.result = result
        self.failed = failed


class FakeEndpoint(object):
    """One API server in memory: objects by (plural, namespace, name); apply merges nothing (whole object)."""

    def __init__(self, name):
        self.name = name
        self.dry_run_supported = True
        self.objects = {}
        self.writes = []
        self.conflicts = 0  # how many applies to answer with 409 (and an Argo-like change)
        self.rv = 1

    def get(self, k, namespace, name, subresource=None):
        obj = self.objects.get((k.plural, namespace, name))
        return copy.deepcopy(obj)

    def list(self, k, namespace=None, label_selector=None):
        return [copy.deepcopy(o) for key, o in sorted(self.objects.items())
                if key[0] == k.plural and key[1] == namespace]

    def apply(self, k, obj, dry_run=False, **kw):
        meta = obj["metadata"]
        key = (k.plural, meta["namespace"], meta["name"])
        if self.conflicts:
            self.conflicts -= 1
            current = self.objects[key]
            current["spec"]["http"][-1]["route"][1]["weight"] = 30  # Argo moved the weights meanwhile
            current["spec"]["http"][-1]["route"][0]["weight"] = 70
            self.bump(current)
            raise FleetError("{0}: PATCH: the object has been modified".format(self.name), status=409)
        current = self.objects.get(key)
        if current and meta.get("resourceVersion") not in (None, current["metadata"]["resourceVersion"]):
            raise FleetError("{0}: PATCH: the object has been modified".format(self.name), status=409)
        new = copy.deepcopy(obj)
        new["metadata"].pop("resourceVersion", None)
        if current:
            merged = copy.deepcopy(current)
            for key_ in ("labels", "annotations"):
                if key_ in new["metadata"]:
                    merged["metadata"].setdefault(key_, {}).update(new["metadata"][key_])
            merged["spec"] = new["spec"]
            new = merged
        if dry_run:
            return new
        self.bump(new)
        self.objects[key] = new
        self.writes.append(key)
        return copy.deepcopy(new)

    def bump(self, obj):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)

    def delete(self, k, namespace, name, dry_run=False):
        if dry_run:
            return self.objects.get((k.plural, namespace, name))
        self.writes.append(("delete", k.plural, name))
        return self.objects.pop((k.plural, namespace, name), None)


class FakeFleet(SequentialRun):
    def __init__(self, members=("beijing", "shanghai")):
        self.control = FakeEndpoint("karmada")
        self.members = dict((m, FakeEndpoint(m)) for m in members)

    def resolve(self, requested=None, field="clusters"):
        return list(requested or sorted(self.members))


@pytest.fixture
def fleet(monkeypatch):
    f = FakeFleet()
    monkeypatch.setattr(runner, "fleet_for", lambda params: f)
    return f


def run(args, check=False, diff=False):
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True

    def exit_json(self, **kw):
        raise Exit(kw, False)

    def fail_json(self, msg, **kw):
        kw["msg"] = msg
        raise Exit(kw, True)

    with patch_module_args(args):
        mp = pytest.MonkeyPatch()
        mp.setattr(istio_canary_route.AnsibleModule, "exit_json", exit_json)
        mp.setattr(istio_canary_route.AnsibleModule, "fail_json", fail_json)
        try:
            with pytest.raises(Exit) as e:
                istio_canary_route.main()
        finally:
            mp.undo()
    return e.value.result, e.value.failed


SEED000 = dict(
    name="helloworld-vsvc", namespace="helloworld-rollout",
    gateways=["helloworld-gateway"], hosts=["helloworld.huanghuanhui.cloud"],
    stable={"host": "helloworld-svc-stable"}, canary={"host": "helloworld-svc-canary"},
    managed_routes=["header-route-1"],
)
VS = ("virtualservices", "helloworld-rollout", "helloworld-vsvc")


def test_create_then_rerun_is_unchanged(fleet):
    result, failed = run(SEED000)
    assert not failed and result["changed"] is True
    assert fleet.control.writes == [VS]
    assert result["virtual_service"]["spec"]["http"][0]["name"] == "primary"
    assert result["routing"][0]["destinations"] == [
        {"host": "helloworld-svc-stable", "weight": 100}, {"host": "helloworld-svc-canary", "weight": 0}]
    assert json.dumps(result)  # all plain data
    result, failed = run(SEED000)
    assert not failed and result["changed"] is False
    assert fleet.control.writes == [VS]


def test_check_mode_writes_nothing_and_returns_the_would_be_object(fleet):
    result, failed = run(dict(SEED000, canary_weight=10), check=True, diff=True)
    assert not failed and result["changed"] is True
    assert fleet.control.writes == [] and fleet.control.objects == {}
    assert [d["weight"] for d in result["virtual_service"]["spec"]["http"][0]["route"]] == [90, 10]
    assert result["diff"][0]["before"] == {}
    assert result["diff"][0]["after"]["spec"]["http"][0]["name"] == "primary"


def test_bad_input_fails_naming_the_field_before_any_call(fleet):
    result, failed = run(dict(SEED000, header_routes=[{"name": "x", "headers": {"X canary": "a"}}]))
    assert failed
    assert "header_routes[0].headers.X canary" in result["msg"]
    assert fleet.control.writes == []


def test_unknown_subset_in_one_member_writes_nowhere(fleet):
    dr = {"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
          "metadata": {"name": "hw", "namespace": "helloworld-rollout", "resourceVersion": "1"},
          "spec": {"host": "helloworld", "subsets": [{"name": "v1"}, {"name": "v2"}]}}
    fleet.members["beijing"].objects[("destinationrules", "helloworld-rollout", "hw")] = dr
    args = dict(SEED000, target="members", stable={"host": "helloworld", "subset": "v1"}, canary={"subset": "v2"})
    result, failed = run(args)
    assert failed
    assert result["msg"].startswith("nothing was written: shanghai: stable.subset: subset 'v1' is not defined")
    assert fleet.members["beijing"].writes == [] and fleet.members["shanghai"].writes == []
    fleet.members["shanghai"].objects[("destinationrules", "helloworld-rollout", "hw")] = copy.deepcopy(dr)
    result, failed = run(args)
    assert not failed and result["changed"] is True
    assert sorted(result["clusters"]) == ["beijing", "shanghai"]
    for m in fleet.members.values():
        assert m.writes == [VS]
    assert fleet.control.writes == []


def test_conflict_with_argo_rereads_and_keeps_argo_weights(fleet):
    run(SEED000)
    fleet.control.conflicts = 1
    lane = {"name": "lane", "headers": {"X-canary": "test-user"}}
    result, failed = run(dict(SEED000, lanes=[lane]))
    assert not failed and result["changed"] is True
    http = fleet.control.objects[VS]["spec"]["http"]
    assert [r["name"] for r in http] == ["lane", "primary"]
    assert [d["weight"] for d in http[1]["route"]] == [70, 30]


def test_absent_deletes_route_and_destination_rule(fleet):
    args = dict(SEED000, stable={"host": "helloworld", "subset": "stable"}, canary={"subset": "canary"},
                destination_rule={"name": "helloworld", "subsets": [{"name": "stable"}, {"name": "canary"}]})
    result, failed = run(args)
    assert not failed and len(fleet.control.objects) == 2
    result, failed = run(dict(args, state="absent"), check=True)
    assert result["changed"] is True and len(fleet.control.objects) == 2
    result, failed = run(dict(args, state="absent"))
    assert result["changed"] is True and fleet.control.objects == {}
    result, failed = run(dict(args, state="absent"))
    assert result["changed"] is False


def test_http_route_kind(fleet):
    args = dict(kind="httproute", name="reviews", namespace="default", hosts=["reviews"], gateways=["mesh"],
                stable={"host": "reviews-v1", "port": 9080}, canary={"host": "reviews-v3", "port": 9080},
                canary_weight=50)
    result, failed = run(args)
    assert not failed and result["changed"] is True
    assert list(fleet.control.objects) == [("httproutes", "default", "reviews")]
    assert [d["weight"] for d in result["routing"][0]["destinations"]] == [50, 50]


def test_a_member_named_karmada_is_a_member(monkeypatch):
    f = FakeFleet(members=("karmada", "shanghai"))
    monkeypatch.setattr(runner, "fleet_for", lambda params: f)
    result, failed = run(dict(SEED000, target="members", clusters=["karmada"]))
    assert not failed and result["changed"] is True
    assert f.members["karmada"].writes == [VS]  # the member, not the control plane
    assert f.control.writes == [] and f.members["shanghai"].writes == []
    result, failed = run(dict(SEED000, target="karmada"))
    assert not failed and f.control.writes == [VS] and f.members["karmada"].writes == [VS]


def test_the_diff_shows_only_what_the_module_changes(fleet):
    run(SEED000)
    # what Karmada and other managers put on the template since: not ours, so never shown as removed
    vs = fleet.control.objects[VS]
    vs["metadata"]["labels"] = {"propagationpolicy.karmada.io/permanent-id": "x"}
    vs["metadata"]["annotations"]["resourcetemplate.karmada.io/generation"] = "3"
    result, failed = run(dict(SEED000, canary_weight=30), diff=True)
    assert not failed and result["changed"] is True
    entry, = result["diff"]
    assert entry["before_header"] == "karmada: VirtualService helloworld-rollout/helloworld-vsvc"
    for side in ("before", "after"):
        assert "labels" not in entry[side]["metadata"]
        assert list(entry[side]["metadata"]["annotations"]) == ["multicluster.canary/owned-routes"]
    assert [d["weight"] for d in entry["before"]["spec"]["http"][0]["route"]] == [100, 0]
    assert [d["weight"] for d in entry["after"]["spec"]["http"][0]["route"]] == [70, 30]
    again, failed = run(dict(SEED000, canary_weight=30), diff=True)
    assert again["changed"] is False and again["diff"] == []
