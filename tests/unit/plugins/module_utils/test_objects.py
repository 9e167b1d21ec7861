# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""objects: what counts as a difference between an object we send and the one a server holds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from pathlib import Path

import yaml

from ansible_collections.multicluster.canary.plugins.module_utils.objects import comparable, is_subset, project

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "karmada"


def fixture(name):
    return yaml.safe_load((FIXTURES / name).read_text())


def test_subset_ignores_webhook_additions():
    desired = fixture("helloworld-stable-policy.yml")
    live = copy.deepcopy(desired)
    live["metadata"]["labels"] = {"propagationpolicy.karmada.io/permanent-id": "x"}
    for sel in live["spec"]["resourceSelectors"]:
        sel["namespace"] = "helloworld-rollout"
    live["spec"]["conflictResolution"] = "Abort"
    live["spec"]["placement"]["clusterTolerations"] = [{"key": "cluster.karmada.io/not-ready"}]
    assert is_subset(desired["spec"], live["spec"])
    live["spec"]["placement"]["replicaScheduling"]["weightPreference"]["staticWeightList"][0]["weight"] = 2
    assert not is_subset(desired["spec"], live["spec"])


def test_subset_lists_must_match_in_length_and_types():
    assert not is_subset({"a": [1, 2]}, {"a": [1, 2, 3]})
    assert not is_subset({"a": True}, {"a": 1})
    assert is_subset({"a": 1}, {"a": 1.0})


def test_comparable_ignores_what_the_server_maintains():
    a = {"metadata": {"name": "x", "resourceVersion": "1", "managedFields": [1]}, "spec": {"a": 1}}
    b = {"metadata": {"name": "x", "resourceVersion": "2", "generation": 3}, "spec": {"a": 1}, "status": {"x": 1}}
    assert comparable(a) == comparable(b)
    b["spec"]["a"] = 2
    assert comparable(a) != comparable(b)
    assert comparable(None) == {}
    assert a["metadata"]["resourceVersion"] == "1"  # the input is left alone


def test_project_keeps_only_the_fields_we_send():
    """Karmada's labels and annotations on the live policy are not ours: a diff must not show them removed."""
    sent = fixture("helloworld-stable-policy.yml")
    live = copy.deepcopy(sent)
    live["metadata"].update(labels={"propagationpolicy.karmada.io/permanent-id": "x"}, uid="u", resourceVersion="9")
    live["spec"]["conflictResolution"] = "Abort"
    assert project(live, sent) == sent


def test_project_matches_named_items_by_name_and_others_by_position():
    shape = [{"name": "b", "v": 1}, {"name": "a", "v": 2}]
    have = [{"name": "a", "v": 2, "default": True}, {"name": "b", "v": 1}, {"name": "c", "v": 3}]
    assert project(have, shape) == [{"name": "b", "v": 1}, {"name": "a", "v": 2}]
    # backendRefs have no names; the server's defaults (kind, group) are not a difference
    refs = [{"name": "reviews-v1", "port": 9080, "weight": 50}]
    served = [{"group": "", "kind": "Service", "name": "reviews-v1", "port": 9080, "weight": 50}]
    assert project(served, refs) == refs
    # the same name twice (a Rollout and a Service selected by one policy): by position, never mixed up
    sels = [{"kind": "Rollout", "name": "hw"}, {"kind": "Service", "name": "hw"}]
    served_sels = [dict(s, namespace="ns") for s in sels]
    assert project(served_sels, sels) == sels
    # a list of another length is shown whole
    assert project([1, 2, 3], [1, 2]) == [1, 2, 3]
