# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a ResourceBinding says its workload runs as placed (and when a stale report must not pass)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.karmada_placement import binding_name, placement


def binding(assigned, reported, replicas=None, generation=3, observed_generation=3):
    return {
        "metadata": {"name": "app-rollout", "generation": generation},
        "spec": {"replicas": sum(assigned.values()) if replicas is None else replicas,
                 "clusters": [{"name": c, "replicas": n} for c, n in assigned.items()]},
        "status": {"schedulerObservedGeneration": observed_generation, "aggregatedStatus": [
            {"clusterName": c, "applied": True,
             "status": {"replicas": n, "readyReplicas": r, "generation": 4, "observedGeneration": "4"}}
            for c, (n, r) in reported.items()]},
    }


def test_settled():
    out = placement(binding({"a": 2, "b": 1}, {"a": (2, 2), "b": (1, 1)}), 3)
    assert out["settled"] and out["message"] == "3 replicas running as placed: a=2, b=1"
    assert out["clusters"]["a"] == {"assigned": 2, "replicas": 2, "ready": 2, "applied": True, "observed": True,
                                    "settled": True}


def test_a_report_from_before_the_new_count_does_not_pass():
    out = placement(binding({"a": 3, "b": 2}, {"a": (2, 2), "b": (2, 2)}), 5)
    assert not out["settled"] and "a: 2/2 ready of 3 assigned" in out["message"]


def test_replicas_not_ready_yet():
    out = placement(binding({"a": 2}, {"a": (2, 1)}), 2)
    assert not out["settled"] and "a: 1/2 ready of 2 assigned" in out["message"]


def test_karmada_has_not_taken_the_template_s_count():
    out = placement(binding({"a": 1}, {"a": (1, 1)}), 4)
    assert not out["settled"] and "template's 4 replicas" in out["message"]


def test_not_scheduled_for_the_latest_generation():
    out = placement(binding({"a": 1}, {"a": (1, 1)}, generation=4, observed_generation=3), 1)
    assert not out["settled"] and "not scheduled yet" in out["message"]


def test_not_observed_by_the_member_s_controller():
    b = binding({"a": 1}, {"a": (1, 1)})
    b["status"]["aggregatedStatus"][0]["status"]["observedGeneration"] = "3"
    out = placement(b, 1)
    assert not out["settled"] and "not observed by its controller" in out["message"]


def test_a_cluster_assigned_nothing_needs_no_copy():
    out = placement(binding({"a": 1, "b": 0}, {"a": (1, 1)}), 1)
    assert out["settled"]


def test_no_binding():
    assert placement(None, 1) == {"settled": False, "replicas": 1, "clusters": {},
                                  "message": "Karmada has no ResourceBinding for it yet"}
    assert not placement({"metadata": {}, "spec": {}, "status": {}}, None)["settled"]


def test_binding_name():
    assert binding_name("ruoyi-vue", "Rollout") == "ruoyi-vue-rollout"
