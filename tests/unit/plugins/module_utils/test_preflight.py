# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight check's plumbing: reading the user's YAML, discovery, Secrets as names and types only,
the findings' order and outcome, and the table printed per cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.multicluster.canary.plugins.module_utils import preflight as pf
from ansible_collections.multicluster.canary.plugins.module_utils import preflight_reader as reader
from ansible_collections.multicluster.canary.plugins.module_utils.preflight_model import (
    finding,
    load_manifests,
    selector_matches,
    sort_findings,
)
from ansible_collections.multicluster.canary.plugins.module_utils.preflight_report import render

from tests.unit.plugins.module_utils.test_preflight_references import NS, federation, fixed, seed000


# --- the user's YAML -----------------------------------------------------------------------


def test_a_directory_of_multi_document_files(tmp_path):
    (tmp_path / "app.yml").write_text("---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n"
                                      "# a comment only\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n")
    (tmp_path / "list.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n"
                                        "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "broken.yml").write_text("apiVersion: v1\nkind: Service\n  metadata: {name: x\n")
    items, problems, files = reader.load_files(str(tmp_path))
    assert [s for s, _o in items] == ["app.yml#1", "app.yml#2", "list.yaml#1"]
    assert [f.rsplit("/", 1)[1] for f in files] == ["app.yml", "broken.yml", "list.yaml"]
    assert problems[0][0] == "broken.yml" and problems[0][1].startswith("not YAML line ")
    manifests, findings = load_manifests(items, "demo")
    assert [(m.label, m.source) for m in manifests] == [
        ("Service/demo/a", "app.yml#1"), ("Service/demo/b", "app.yml#2"), ("ConfigMap/demo/c", "list.yaml#1 items[0]")]
    assert findings == []


def test_objects_that_are_not_objects():
    manifests, findings = load_manifests([("a.yml#1", {"kind": "Service", "metadata": {}}), ("a.yml#2", "text"),
                                          ("b.yml#1", {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "x"}}),
                                          ("c.yml#1", {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "x"}})])
    assert [(f["severity"], f["source"], f["field"]) for f in findings] == [
        ("error", "a.yml#1", "apiVersion"), ("error", "a.yml#2", ""), ("warning", "c.yml#1", "metadata.name")]
    assert "the object has no apiVersion, metadata.name" in findings[0]["message"]
    assert manifests[0].namespace == ""  # cluster-scoped


def test_label_selectors():
    assert selector_matches({"matchLabels": {"app": "web"}}, {"app": "web", "x": "y"})
    assert not selector_matches({"matchLabels": {"app": "web"}}, {"app": "api"})
    expr = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]},
                                 {"key": "legacy", "operator": "DoesNotExist"}]}
    assert selector_matches(expr, {"tier": "front"})
    assert not selector_matches(expr, {"tier": "front", "legacy": "1"})
    assert not selector_matches(expr, {})


# --- discovery and Secrets -----------------------------------------------------------------


def test_aggregated_and_legacy_discovery_agree():
    aggregated = {"kind": "APIGroupDiscoveryList", "items": [
        {"metadata": {"name": "networking.istio.io"}, "versions": [
            {"version": "v1", "resources": [{"resource": "virtualservices", "scope": "Namespaced",
                                             "responseKind": {"kind": "VirtualService"}}]},
            {"version": "v1beta1", "resources": [{"resource": "virtualservices", "scope": "Namespaced",
                                                  "responseKind": {"kind": "VirtualService"}}]}]}]}
    core = {"kind": "APIGroupDiscoveryList", "items": [{"metadata": {}, "versions": [
        {"version": "v1", "resources": [{"resource": "namespaces", "scope": "Cluster",
                                         "responseKind": {"kind": "Namespace"}}]}]}]}
    legacy = reader.parse_legacy(
        {"groups": [{"name": "networking.istio.io", "preferredVersion": {"version": "v1"}}]},
        {"networking.istio.io/v1": {"resources": [{"name": "virtualservices", "kind": "VirtualService",
                                                   "namespaced": True},
                                                  {"name": "virtualservices/status", "kind": "VirtualService"}]},
         "networking.istio.io/v1beta1": {"resources": [{"name": "virtualservices", "kind": "VirtualService",
                                                        "namespaced": True}]},
         "v1": {"resources": [{"name": "namespaces", "kind": "Namespace", "namespaced": False}]}})
    assert reader.parse_aggregated(aggregated, core) == legacy
    path, _info = reader.path_for(legacy, "networking.istio.io", "VirtualService", "ns", "web")
    assert path == "/apis/networking.istio.io/v1/namespaces/ns/virtualservices/web"
    assert reader.path_for(legacy, "", "Namespace", "", "ns")[0] == "/api/v1/namespaces/ns"
    assert reader.path_for(legacy, "argoproj.io", "Rollout", "ns", "x") == (None, None)


def test_secrets_are_names_and_types_only():
    table = {"kind": "Table", "columnDefinitions": [{"name": "Name"}, {"name": "Type"}, {"name": "Data"}],
             "rows": [{"cells": ["web-tls", "kubernetes.io/tls", 2],
                       "object": {"metadata": {"name": "web-tls", "namespace": "istio-system"}}}]}
    assert reader.secret_summaries(table, "istio-system") == [
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
         "metadata": {"name": "web-tls", "namespace": "istio-system", "labels": {}}}]
    # a server that ignores the Table request sends Secrets: their data is dropped on the spot
    full = {"items": [{"metadata": {"name": "web-tls"}, "type": "kubernetes.io/tls", "data": {"tls.key": "S0VZ"}}]}
    assert "S0VZ" not in repr(reader.secret_summaries(full, "istio-system"))


def test_lease_age():
    now = datetime.datetime(2026, 1, 1, 12, 0, 30)
    assert reader._lease_age({"spec": {"renewTime": "2026-01-01T12:00:00.123456Z"}}, now) == 30
    assert reader._lease_age({"spec": {}}, now) is None


# --- outcome and output --------------------------------------------------------------------


def test_findings_are_sorted_errors_first_and_deduplicated():
    a = finding("warning", "x", "k8s-master-beijing", "VirtualService/ns/a", "spec", "m", "f")
    b = finding("error", "x", "k8s-master-shanghai", "VirtualService/ns/a", "spec", "m", "f")
    c = finding("error", "x", "karmada", "PropagationPolicy/ns/p", "spec", "m", "f")
    d = finding("warning", "x", "manifests", "Rollout/ns/r", "spec", "m", "f")
    assert sort_findings([a, b, c, d, dict(a)]) == [c, b, d, a]


def test_fail_on():
    warning = [finding("warning", "x", "karmada", "o", "f", "m", "fix")]
    error = [finding("error", "x", "karmada", "o", "f", "m", "fix")]
    assert not pf.fails(warning, "error") and pf.fails(error, "error")
    assert pf.fails(warning, "warning") and not pf.fails([], "warning")
    assert not pf.fails(error, "never")
    assert pf.failure_message(error, "error") == \
        "preflight: 1 error(s), 0 warning(s), nothing was written: karmada o f: m (fix: fix)"


def test_the_report_is_one_table_per_cluster():
    findings = [f for f in federation().check(seed000()) if f["cluster"] in ("manifests", "karmada")]
    lines = render(findings, ["k8s-master-beijing", "k8s-master-shanghai"])
    assert lines[0] == ("preflight: 2 error(s), 2 warning(s) in Karmada and 2 member(s): k8s-master-beijing, "
                        "k8s-master-shanghai")
    titles = [line for line in lines if line.startswith("in ")]
    assert titles == ["in the manifests (2)", "in Karmada (2)"]
    i = lines.index("in Karmada (2)")
    assert lines[i + 1].split() == ["SEVERITY", "OBJECT", "FIELD", "MESSAGE"]
    assert lines[i + 2].split()[:3] == ["error", "PropagationPolicy/helloworld-rollout/helloworld-stable-propagation-vs",
                                        "spec.resourceSelectors[0].apiVersion"]
    assert lines[i + 3].strip().startswith("fix: select apiVersion: networking.istio.io/v1")
    assert lines[i + 3].endswith("[helloworld-stable-vs-policy.yml#1]")
    assert render([], ["k8s-master-beijing"]) == ["preflight: no finding in Karmada and 1 member(s): k8s-master-beijing"]


def test_the_seeds_frontend_end_to_end():
    """Everything the check finds in the user's frontend canary files, and nothing else."""
    findings = federation().check(seed000())
    assert sorted((f["severity"], f["check"], f["cluster"], f["field"]) for f in findings) == sorted([
        ("error", "placement", "karmada", "spec.resourceSelectors[0].apiVersion"),
        ("error", "placement", "karmada", "spec.resourceSelectors[1].apiVersion"),
        ("warning", "strategy", "manifests", "spec.strategy.canary.steps[0]"),
        ("warning", "strategy", "manifests", "spec.strategy.canary.steps"),
    ] + [("error", "references", m, "spec.servers[0].tls.credentialName") for m in (
        "k8s-master-beijing", "k8s-master-guangzhou", "k8s-master-shanghai", "k8s-master-shenzhen")])
    assert pf.summary(findings) == {"errors": 6, "warnings": 2}
    fed = federation()
    fed.check(fixed(seed000()))
    assert pf.unknown_reads(fed.observed) == []
    assert [o["metadata"]["namespace"] for _s, o in fixed(seed000())] == [NS] * 7
