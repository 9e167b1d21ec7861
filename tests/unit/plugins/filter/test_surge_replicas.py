# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter reads Karmada's objects and the catalogue's count for the members that stay."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.multicluster.canary.plugins.filter.surge_replicas import FilterModule, surge_replicas

MEMBERS = ["a", "b", "c", "d", "e"]
POLICY = {"spec": {"placement": {"replicaScheduling": {"weightPreference": {"staticWeightList": [
    {"targetCluster": {"clusterNames": [m]}, "weight": 1} for m in MEMBERS]}}}}}


def binding(assigned):
    return {"spec": {"clusters": [{"name": m, "replicas": n} for m, n in assigned.items()]}}


def test_fixed_count():
    assigned = {"a": 1, "b": 2, "c": 1, "d": 2, "e": 1}
    assert surge_replicas(binding(assigned), POLICY, "e", {"replicas": 7}) == 10


def test_replicas_per_weight():
    ones = dict((m, 1) for m in MEMBERS)
    assert surge_replicas(binding(ones), POLICY, "e", {"replicas_per_weight": 1}) == 0
    assert surge_replicas(binding(ones), POLICY, "e", {}) == 0
    twos = dict((m, 2) for m in MEMBERS)
    assert surge_replicas(binding(twos), POLICY, "e", {"replicas_per_weight": 2}) == 0


def test_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="surge_replicas"):
        surge_replicas(binding({"e": 1}), {"spec": {"placement": {"replicaScheduling": {"weightPreference": {
            "staticWeightList": [{"targetCluster": {"clusterNames": ["e"]}, "weight": 1}]}}}}}, "e", {"replicas": 1})
    with pytest.raises(AnsibleFilterError):
        surge_replicas(binding({"a": 1}), POLICY, "a", {"replicas": "many"})


def test_registered():
    assert FilterModule().filters()["surge_replicas"] is surge_replicas
