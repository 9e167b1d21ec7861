# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-memory federation for the preflight check's unit tests.

``FakeEndpoint`` answers the few requests ``preflight_reader`` makes (aggregated discovery, GET by
name, lists with a label selector, Secrets as a Table) from a list of objects, so the tests run the
check's whole pipeline - plan, read, judge - on manifests as users write them. The lab tests run the
same pipeline against real API servers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import yaml

from ansible_collections.multicluster.canary.plugins.module_utils import karmada_interpreter
from ansible_collections.multicluster.canary.plugins.module_utils import preflight_reader as reader
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError
from tests.unit.fleet_fake import SequentialRun

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")
MEMBERS = ("k8s-master-beijing", "k8s-master-guangzhou", "k8s-master-shanghai", "k8s-master-shenzhen")

ISTIO_KINDS = {"VirtualService": "virtualservices", "DestinationRule": "destinationrules", "Gateway": "gateways"}
COMMON = {
    "v1": {"Service": "services", "Secret": "secrets", "ConfigMap": "configmaps", "Namespace": "namespaces"},
    "apps/v1": {"Deployment": "deployments"},
    "coordination.k8s.io/v1": {"Lease": "leases"},
    "argoproj.io/v1alpha1": {"Rollout": "rollouts"},
    "networking.istio.io/v1": ISTIO_KINDS,
    "networking.istio.io/v1beta1": ISTIO_KINDS,
    "networking.istio.io/v1alpha3": ISTIO_KINDS,
    "gateway.networking.k8s.io/v1": {"HTTPRoute": "httproutes", "Gateway": "gateways"},
    "gateway.networking.k8s.io/v1beta1": {"HTTPRoute": "httproutes", "Gateway": "gateways"},
}
KARMADA_ONLY = {
    "policy.karmada.io/v1alpha1": {"PropagationPolicy": "propagationpolicies",
                                   "ClusterPropagationPolicy": "clusterpropagationpolicies",
                                   "OverridePolicy": "overridepolicies",
                                   "ClusterOverridePolicy": "clusteroverridepolicies"},
    "config.karmada.io/v1alpha1": {"ResourceInterpreterCustomization": "resourceinterpretercustomizations",
                                   "ResourceInterpreterWebhookConfiguration":
                                       "resourceinterpreterwebhookconfigurations"},
    "cluster.karmada.io/v1alpha1": {"Cluster": "clusters"},
    "work.karmada.io/v1alpha2": {"ResourceBinding": "resourcebindings"},
}
CLUSTER_SCOPED = {"Namespace", "ClusterPropagationPolicy", "ClusterOverridePolicy", "ResourceInterpreterCustomization",
                  "ResourceInterpreterWebhookConfiguration", "Cluster"}


def load(*names):
    """The objects of fixture files (``karmada/helloworld-vsvc.yml``), every document."""
    out = []
    for name in names:
        with open(os.path.join(FIXTURES, name)) as f:
            out += [d for d in yaml.safe_load_all(f) if d]
    return out


def docs(text):
    """The objects of a YAML text (several documents), as a user writes them."""
    return [d for d in yaml.safe_load_all(text) if d]


def apis(group_versions):
    """An aggregated discovery document (APIGroupDiscoveryList) for ``{group/version: {Kind: plural}}``."""
    groups = {}
    for gv, kinds in group_versions.items():
        group, version = gv.split("/", 1) if "/" in gv else ("", gv)
        groups.setdefault(group, []).append({"version": version, "resources": [
            {"resource": plural, "responseKind": {"group": group, "version": version, "kind": kind},
             "scope": "Cluster" if kind in CLUSTER_SCOPED else "Namespaced"} for kind, plural in kinds.items()]})
    return groups


class Response(object):
    def __init__(self, doc):
        self.data = json.dumps(doc).encode()


class FakeEndpoint(object):
    """One API server holding ``objects``, serving ``group_versions`` (the first version of a group is preferred)."""

    def __init__(self, name, objects=(), group_versions=None, forbidden=(), down=False):
        self.name = name
        self.prefix = ""
        self.group_versions = group_versions if group_versions is not None else dict(COMMON)
        self.objects = [copy.deepcopy(o) for o in objects]
        self.forbidden = list(forbidden)  # path fragments answered with 403
        self.down = down
        self.requests = []

    def _discovery(self):
        groups = apis(self.group_versions)
        return {"preferred": {}, "groups": groups}

    def _path_kind(self, path):
        for gv, kinds in self.group_versions.items():
            base = "/api/" + gv if "/" not in gv else "/apis/" + gv
            if not path.startswith(base + "/"):
                continue
            rest = path[len(base) + 1:].split("/")
            ns = None
            if rest[0] == "namespaces" and len(rest) >= 3:
                ns, rest = rest[1], rest[2:]
            for kind, plural in kinds.items():
                if rest[0] == plural and (kind != "Namespace" or ns is None):
                    return gv, kind, ns, rest[1] if len(rest) > 1 else None
        return None

    def _find(self, gv, kind, ns, name):
        group = gv.split("/", 1)[0] if "/" in gv else ""
        for o in self.objects:
            meta = o.get("metadata") or {}
            if o.get("kind") != kind or (o.get("apiVersion") or "").split("/", 1)[0] != group \
                    and not (group == "" and "/" not in (o.get("apiVersion") or "")):
                continue
            if kind not in CLUSTER_SCOPED and ns is not None and (meta.get("namespace") or "default") != ns:
                continue
            if name is not None and meta.get("name") != name:
                continue
            yield o

    def _check(self, path):
        self.requests.append(path)
        if self.down:
            raise FleetError("{0}: GET {1}: connection refused".format(self.name, path))
        for fragment in self.forbidden:
            if fragment in path:
                raise FleetError("{0}: GET {1}: forbidden (403)".format(self.name, path), status=403)

    def _call(self, method, path, query=None, body=None, content_type=None):
        assert method == "GET", "the preflight check only reads"
        self._check(path)
        found = self._path_kind(path)
        if found is None:
            return None
        gv, kind, ns, name = found
        if name:
            hits = list(self._find(gv, kind, ns, name))
            return copy.deepcopy(hits[0]) if hits else None
        items = list(self._find(gv, kind, ns, None))
        selector = (query or {}).get("labelSelector")
        if selector:
            want = dict(p.split("=", 1) for p in selector.split(","))
            items = [o for o in items if all(((o.get("metadata") or {}).get("labels") or {}).get(k) == v
                                             for k, v in want.items())]
        return {"kind": kind + "List", "items": copy.deepcopy(items)}

    def _send(self, method, path, query, headers, body=None, timeout=30):
        assert method == "GET"
        accept = headers.get("Accept", "")
        if path in ("/apis", "/api"):
            self._check(path)
            groups = apis(self.group_versions)
            items = [{"metadata": {"name": g}, "versions": v} for g, v in groups.items() if (g == "") == (
                path == "/api")]
            return Response({"kind": "APIGroupDiscoveryList", "items": items})
        if "as=Table" in accept:
            doc = self._call("GET", path, dict(query or []))
            if doc is None:
                from kubernetes.client.rest import ApiException
                raise ApiException(status=404, reason="Not Found")
            items = doc.get("items") if "items" in doc else [doc]
            return Response({"kind": "Table", "columnDefinitions": [
                {"name": "Name"}, {"name": "Type"}, {"name": "Data"}, {"name": "Age"}],
                "rows": [{"cells": [i["metadata"]["name"], i.get("type", "Opaque"), len(i.get("data") or {}), "1m"],
                          "object": {"kind": "PartialObjectMetadata", "metadata": i["metadata"]}} for i in items]})
        return Response(self._call("GET", path, dict(query or [])))


class FakeFleet(SequentialRun):
    def __init__(self, control, members):
        self.control = control
        self.members = members


def cluster(name, ready=True, labels=None):
    return {"apiVersion": "cluster.karmada.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"syncMode": "Push"},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def namespace(name, injection=True):
    labels = {"istio-injection": "enabled"} if injection else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def tls_secret(name, ns="istio-system", kind="kubernetes.io/tls"):
    return {"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": {"name": name, "namespace": ns},
            "data": {"tls.crt": "Q0VSVA==", "tls.key": "S0VZ"}}


def argo_deployment(available=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "argo-rollouts", "namespace": "argo-rollouts"},
            "status": {"availableReplicas": available}}


def interpreters():
    """What the bootstrap role installs in Karmada (the Rollout replica interpreter among them)."""
    return karmada_interpreter.build_customizations(karmada_interpreter.read_scripts())


class Federation(object):
    """Karmada and four members, healthy: joined and Ready, with Argo Rollouts and Istio's CRDs, the
    namespaces labelled for injection, a running Argo controller and the Rollout interpreter."""

    def __init__(self, namespaces=("helloworld-rollout",), members=MEMBERS):
        self.members = list(members)
        self.karmada = FakeEndpoint("karmada", group_versions=dict(COMMON, **KARMADA_ONLY))
        self.karmada.objects += [cluster(m) for m in self.members] + interpreters()
        self.karmada.objects += [namespace(ns) for ns in namespaces] + [namespace("istio-system", False)]
        self.member = {}
        for m in self.members:
            ep = FakeEndpoint(m)
            ep.objects += [namespace(ns) for ns in namespaces] + [argo_deployment()]
            self.member[m] = ep

    def in_karmada(self, *objs):
        self.karmada.objects += [copy.deepcopy(o) for o in objs]
        return self

    def in_members(self, *objs, **kw):
        for m in kw.get("only") or self.members:
            self.member[m].objects += [copy.deepcopy(o) for o in objs]
        return self

    def fleet(self):
        return FakeFleet(self.karmada, self.member)

    def check(self, manifests, **options):
        """Findings for the manifests, as the preflight module computes them."""
        options.setdefault("namespace", "default")
        findings, members, observed = reader.check_fleet(self.fleet(), manifests, options)
        self.members_checked, self.observed = members, observed
        return findings


def policy(name, namespace, selectors, clusters=MEMBERS, divided=False, api_version="policy.karmada.io/v1alpha1"):
    """A PropagationPolicy as users write it: ``selectors`` are ``(apiVersion, kind, name)``."""
    spec = {"resourceSelectors": [{"apiVersion": a, "kind": k, "name": n} for a, k, n in selectors],
            "placement": {"clusterAffinity": {"clusterNames": list(clusters)}}}
    if divided:
        spec["placement"]["replicaScheduling"] = {
            "replicaSchedulingType": "Divided", "replicaDivisionPreference": "Weighted",
            "weightPreference": {"staticWeightList": [
                {"targetCluster": {"clusterNames": [c]}, "weight": 1} for c in clusters]}}
    return {"apiVersion": api_version, "kind": "PropagationPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def selecting(name, objs, **kw):
    """A policy selecting every one of ``objs`` by name, at their own apiVersion (Istio's at v1)."""
    namespace = objs[0]["metadata"].get("namespace", "default")
    sels = []
    for o in objs:
        api = o["apiVersion"]
        if api.startswith("networking.istio.io/"):
            api = "networking.istio.io/v1"
        if api.startswith("gateway.networking.k8s.io/"):
            api = "gateway.networking.k8s.io/v1"
        sels.append((api, o["kind"], o["metadata"]["name"]))
    return policy(name, namespace, sels, **kw)


def service(name, namespace, selector=None, port=80):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"ports": [{"name": "http", "port": port}], "selector": selector or {"app": name}}}


def found(findings, severity=None, check=None, cluster=None, field=None, contains=None):
    """The findings matching every given property (``contains`` is a piece of the message)."""
    return [f for f in findings
            if (severity is None or f["severity"] == severity) and (check is None or f["check"] == check)
            and (cluster is None or f["cluster"] == cluster) and (field is None or f["field"] == field)
            and (contains is None or contains in f["message"])]


def errors(findings):
    return [f for f in findings if f["severity"] == "error"]
