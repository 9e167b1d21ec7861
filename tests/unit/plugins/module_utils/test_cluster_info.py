# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""karmada_cluster_info's pure parts: reading /apis discovery and wording each member's problem."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.cluster_info import assess, served_versions

# What a member with Argo Rollouts and Istio 1.24 CRDs answers on GET /apis (trimmed).
DISCOVERY = {
    "kind": "APIGroupList",
    "apiVersion": "v1",
    "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]},
        {"name": "argoproj.io", "versions": [{"groupVersion": "argoproj.io/v1alpha1", "version": "v1alpha1"}]},
        {"name": "networking.istio.io", "versions": [
            {"groupVersion": "networking.istio.io/v1", "version": "v1"},
            {"groupVersion": "networking.istio.io/v1beta1", "version": "v1beta1"},
            {"groupVersion": "networking.istio.io/v1alpha3", "version": "v1alpha3"}]},
    ],
}
REQUIRED = ["argoproj.io/v1alpha1", "networking.istio.io/v1beta1"]


def test_served_versions_lists_every_group_version():
    assert served_versions(DISCOVERY) == [
        "apps/v1", "argoproj.io/v1alpha1", "networking.istio.io/v1",
        "networking.istio.io/v1alpha3", "networking.istio.io/v1beta1"]


def test_served_versions_of_nothing():
    assert served_versions(None) == []
    assert served_versions({"groups": None}) == []


def test_a_healthy_fleet_has_no_problem():
    versions = served_versions(DISCOVERY)
    clusters, problems = assess(["a", "b"], {"a": True, "b": True, "c": False},
                                {"a": (True, versions), "b": (True, versions)}, REQUIRED)
    assert problems == []
    assert clusters["a"] == dict(known=True, ready=True, api_versions=versions, missing_api_versions=[], error=None)
    assert set(clusters) == {"a", "b"}  # c is not an inventory member: not checked


def test_each_problem_names_the_member_and_what_to_do():
    clusters, problems = assess(
        ["new", "down", "no-argo", "refused"],
        {"down": False, "no-argo": True, "refused": True},
        {"no-argo": (True, ["apps/v1", "networking.istio.io/v1beta1"]),
         "refused": (False, "refused: GET /apis: connection refused")},
        REQUIRED)
    assert problems == [
        "new: unknown to Karmada (join it first: karmadactl join new)",
        "down: not Ready in Karmada (check its Cluster conditions and its API server)",
        "no-argo: does not serve argoproj.io/v1alpha1",
        "refused: cannot read its APIs: refused: GET /apis: connection refused",
    ]
    assert clusters["new"]["known"] is False
    assert clusters["down"] == dict(known=True, ready=False, api_versions=[], missing_api_versions=[], error=None)
    assert clusters["no-argo"]["missing_api_versions"] == ["argoproj.io/v1alpha1"]
    assert clusters["refused"]["error"].startswith("refused:")
