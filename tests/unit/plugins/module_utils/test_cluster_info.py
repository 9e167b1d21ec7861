# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""karmada_cluster_info's pure parts: reading /apis discovery and wording each member's problem."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils.cluster_info import (
    assess,
    check_expected,
    outdated,
    served_versions,
)
from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError

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


def _cluster(name, endpoint, labels=None, region=None):
    spec = {"apiEndpoint": endpoint, "syncMode": "Push"}
    if region:
        spec["region"] = region
    return {"metadata": {"name": name, "labels": dict(labels or {})}, "spec": spec}


KARMADA = {
    "k8s-master-beijing": _cluster("k8s-master-beijing", "https://10.0.0.1:6443",
                                   {"wave": "1", "cluster.karmada.io/managed": "true"}, region="north"),
    "k8s-master-shanghai": _cluster("k8s-master-shanghai", "https://10.0.0.2:6443/"),
}


def test_a_member_as_the_inventory_says_is_not_outdated():
    expected = {
        # the endpoint without its trailing slash, labels one by one (Karmada's own label is not the inventory's),
        # a number as the label's text
        "k8s-master-beijing": {"api_endpoint": "https://10.0.0.1:6443/", "labels": {"wave": 1}, "region": "north"},
        # blank: the inventory does not say (the endpoint comes from the member's kubeconfig context)
        "k8s-master-shanghai": {"api_endpoint": "", "labels": {}, "region": ""},
        "k8s-master-guangzhou": {"api_endpoint": "https://10.0.0.3:6443"},  # not joined yet: a join, not an update
        "k8s-master-shenzhen": None,
    }
    assert outdated(expected, KARMADA) == {}


def test_a_member_that_moved_or_was_relabelled_is_outdated_with_what_differs():
    expected = {
        "k8s-master-beijing": {"labels": {"wave": "2", "region": "north"}, "region": "east"},
        "k8s-master-shanghai": {"api_endpoint": "https://10.0.0.12:6443"},
    }
    assert outdated(expected, KARMADA) == {
        "k8s-master-beijing": ["label region=north (Karmada has none)", "label wave=2 (Karmada has 1)",
                               "region east (Karmada has north)"],
        "k8s-master-shanghai": ["apiEndpoint https://10.0.0.12:6443 (Karmada has https://10.0.0.2:6443/)"],
    }


@pytest.mark.parametrize("expected, words", [
    (["k8s-master-beijing"], "expected: a dictionary of cluster name"),
    ({"k8s-master-beijing": "https://10.0.0.1:6443"}, "expected: k8s-master-beijing: a dictionary with api_endpoint"),
    ({"k8s-master-beijing": {"labels": ["wave=1"]}}, "expected: k8s-master-beijing: labels must be a dictionary"),
])
def test_bad_expectations_fail_naming_the_field(expected, words):
    with pytest.raises(InputError) as err:
        check_expected(expected)
    assert words in str(err.value) and err.value.field == "expected"
