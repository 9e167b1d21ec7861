# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether Karmada and each member can take what is about to be written.

Pure code:

- Karmada serves every kind of the manifests at the version they are written in, and their namespaces exist;
- each member Karmada places templates on answers, and serves each template's kind at the version Karmada
  writes it in (the group's preferred version in Karmada); a Rollout routed by Istio needs Istio's CRDs there;
- an Argo Rollouts controller runs in each member that gets a Rollout: its Deployment has an available
  replica, or its leader Lease is being renewed, or it has reconciled the Rollout's current generation;
- the namespace of each workload is labelled for Istio's sidecar injection (``istio-injection=enabled`` or
  ``istio.io/rev``), in the manifests, in Karmada (which propagates namespaces) or in the member.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.preflight_model import (
    ERROR,
    KARMADA,
    WARNING,
    could_not_check,
    describe,
    finding,
    is_unknown,
    okey,
)
from ansible_collections.multicluster.canary.plugins.module_utils.preflight_placement import (
    preferred,
)

CHECK = "readiness"
WORKLOADS = (("argoproj.io", "Rollout"), ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"))
INSTALL = {
    "argoproj.io": "install Argo Rollouts' CRDs (and its controller)",
    "networking.istio.io": "install Istio's CRDs (istioctl install, or the base chart)",
    "gateway.networking.k8s.io": "install the Gateway API CRDs",
}


def served_kinds(discovery, api_version):
    """The kinds a cluster serves at ``api_version`` (``{}`` when not at all), or None when unknown."""
    if not discovery or is_unknown(discovery):
        return None
    if "/" not in api_version:
        return None  # the core group: always there
    return (discovery.get("resources") or {}).get(api_version) or {}


def _versions(discovery, group):
    return sorted(v.split("/", 1)[1] for v in (discovery.get("resources") or {}) if v.split("/", 1)[0] == group)


def check_karmada(world, manifests, observed):
    out = []
    state = observed.get(KARMADA) or {}
    discovery = state.get("discovery")
    if state.get("error"):
        return out
    if is_unknown(discovery):
        return [could_not_check(CHECK, KARMADA, "", "", discovery, "the APIs Karmada serves")]
    reported = set()
    for m in manifests:
        kinds = served_kinds(discovery, m.api_version)
        if kinds is None or m.kind in kinds:
            continue
        if (m.api_version, m.kind) in reported:
            continue
        reported.add((m.api_version, m.kind))
        versions = _versions(discovery, m.group)
        message = "Karmada does not serve {0} {1}{2}: writing it fails".format(
            m.api_version, m.kind, " (it serves {0} at {1})".format(m.group, ", ".join(versions)) if versions else "")
        fix = ("write it at {0}/{1}".format(m.group, preferred(discovery, m.group))
               if versions else (INSTALL.get(m.group, "install the CRD of " + m.kind) + " in Karmada: templates "
                                 "live there"))
        out.append(finding(ERROR, CHECK, KARMADA, m.label, "apiVersion", message, fix, m.source))
    namespaces = sorted(set(m.namespace for m in manifests if m.namespace))
    for ns in namespaces:
        if any(m.kind == "Namespace" and m.name == ns for m in manifests):
            continue
        found = world.template("", "Namespace", "", ns)
        if is_unknown(found):
            out.append(could_not_check(CHECK, KARMADA, describe("Namespace", "", ns), "", found,
                                       "whether namespace {0} exists".format(ns)))
        elif not found:
            first = [m for m in manifests if m.namespace == ns][0]
            out.append(finding(ERROR, CHECK, KARMADA, describe("Namespace", "", ns), "metadata.namespace",
                               "namespace {0} does not exist in Karmada, and the manifests do not create it: every "
                               "write to it fails (first: {1})".format(ns, first.label),
                               "create it labelled istio-injection=enabled (bootstrap.yml does), or add a "
                               "Namespace to the manifests", first.source))
    return out


def _argo_evidence(argo, reconciled=()):
    """``(True, how)``, ``(False, why)``, or ``(None, unknown)`` from what the reader saw of the controller.

    ``reconciled``: the Rollouts of the manifests the member runs at their current generation.
    """
    argo = argo or {}
    deployment, lease = argo.get("deployment"), argo.get("lease")
    namespace = argo.get("namespace") or "argo-rollouts"
    if isinstance(deployment, dict) and not is_unknown(deployment):
        available = (deployment.get("status") or {}).get("availableReplicas") or 0
        if available > 0:
            return True, "Deployment {0} has {1} available replica(s)".format(describe("", namespace, (
                deployment.get("metadata") or {}).get("name")), available)
        return False, "Deployment {0} has no available replica".format(
            describe("", namespace, (deployment.get("metadata") or {}).get("name")))
    if isinstance(lease, dict) and not is_unknown(lease):
        spec = lease.get("spec") or {}
        age = lease.get("age_seconds")
        duration = spec.get("leaseDurationSeconds") or 15
        # Clocks of the reader and the controller differ: a lease renewed within a few durations is alive.
        if age is not None and age <= max(60, 4 * duration):
            return True, "leader Lease {0} renewed {1:.0f} s ago by {2}".format(
                describe("", namespace, (lease.get("metadata") or {}).get("name")), max(age, 0),
                spec.get("holderIdentity") or "?")
    if reconciled:
        return True, "it reconciled Rollout {0}".format(reconciled[0])
    unknowns = [v for v in (deployment, lease) if is_unknown(v)]
    if len(unknowns) == 2:
        return None, unknowns[0]
    return False, ("no available Deployment argo-rollouts and no renewed Lease argo-rollouts-controller-lock in "
                   "{0}, no Rollout here reconciled by one".format(namespace))


def _injection(labels):
    labels = labels or {}
    if labels.get("istio-injection") == "enabled" or labels.get("istio.io/rev"):
        return True
    if labels.get("istio-injection") == "disabled":
        return False
    return None


def _namespace_labels(world, member, ns):
    """The namespace's labels after the write, for sidecar injection: manifests or Karmada, else the member."""
    key = okey("", "Namespace", "", ns)
    if world.manifest(key) is not None:
        return world.manifest(key).labels, "the manifests"
    in_karmada = world.template("", "Namespace", "", ns)
    in_member = world.lookup(member, "", "Namespace", "", ns)
    if isinstance(in_member, dict) and not is_unknown(in_member) and _injection(
            (in_member.get("metadata") or {}).get("labels")):
        return (in_member.get("metadata") or {}).get("labels"), member
    if isinstance(in_karmada, dict) and not is_unknown(in_karmada):
        return (in_karmada.get("metadata") or {}).get("labels") or {}, "Karmada"
    if is_unknown(in_member):
        return in_member, member
    return None, member


def check_member(world, manifests, observed, member):
    out = []
    state = observed.get(member) or {}
    if state.get("error"):
        return [finding(ERROR, CHECK, member, "", "", "cannot read {0}: {1}".format(member, state["error"]),
                        "check its API server and Karmada's cluster proxy (karmadactl get clusters), then run the "
                        "check again")]
    discovery = state.get("discovery")
    karmada_discovery = (observed.get(KARMADA) or {}).get("discovery")
    placed = [m for m in manifests if member in world.placed(m.key)]
    if is_unknown(discovery):
        out.append(could_not_check(CHECK, member, "", "", discovery, "the APIs {0} serves".format(member)))
        discovery = None
    reported = set()
    for m in placed:
        version = preferred(karmada_discovery, m.group)
        if not version or not discovery or not m.group:
            continue
        api_version = "{0}/{1}".format(m.group, version)
        kinds = served_kinds(discovery, api_version)
        if m.kind in kinds or (api_version, m.kind) in reported:
            continue
        reported.add((api_version, m.kind))
        versions = _versions(discovery, m.group)
        if versions:
            message = ("{0} serves {1} only at {2}, and Karmada writes {3} there at {4}: it cannot apply it".format(
                member, m.group, ", ".join(versions), m.kind, version))
            fix = "upgrade the CRDs of {0} in {1} to serve {2}".format(m.group, member, version)
        else:
            message = "{0} does not serve {1} {2}: Karmada cannot apply it there".format(member, api_version, m.kind)
            fix = INSTALL.get(m.group, "install the CRD of " + m.kind) + " in " + member
        out.append(finding(ERROR, CHECK, member, m.label, "apiVersion", message, fix, m.source))
    rollouts = [m for m in placed if (m.group, m.kind) == ("argoproj.io", "Rollout")]
    for m in rollouts:
        istio = ((((m.spec.get("strategy") or {}).get("canary") or {}).get("trafficRouting") or {}).get("istio"))
        if istio and discovery and not _versions(discovery, "networking.istio.io") and \
                ("networking.istio.io", "istio") not in reported:
            reported.add(("networking.istio.io", "istio"))
            out.append(finding(ERROR, CHECK, member, m.label, "spec.strategy.canary.trafficRouting.istio",
                               "{0} does not serve networking.istio.io: Argo Rollouts cannot route the canary "
                               "there".format(member),
                               INSTALL["networking.istio.io"] + " in " + member + ", before the Argo Rollouts "
                               "controller starts (it looks for them only at start)", m.source))
    if rollouts:
        reconciled = []
        for m in rollouts:
            live = (state.get("objects") or {}).get(m.key)
            if isinstance(live, dict) and not is_unknown(live) and live.get("status") and str(
                    live["status"].get("observedGeneration")) == str((live.get("metadata") or {}).get("generation")):
                reconciled.append(m.label)
        ok, how = _argo_evidence(state.get("argo"), reconciled)
        if ok is None:
            out.append(could_not_check(CHECK, member, rollouts[0].label, "", how,
                                       "whether the Argo Rollouts controller runs", rollouts[0].source))
        elif not ok:
            out.append(finding(WARNING, CHECK, member, rollouts[0].label, "",
                               "no sign of a running Argo Rollouts controller ({0}): without one the Rollout "
                               "never starts".format(how),
                               "install Argo Rollouts in {0}, or set argo_rollouts_namespace to where it "
                               "runs".format(member), rollouts[0].source))
    workloads = [m for m in placed if (m.group, m.kind) in WORKLOADS]
    for ns in sorted(set(m.namespace for m in workloads)):
        pods = [m for m in workloads if m.namespace == ns]
        if all(((m.spec.get("template") or {}).get("metadata") or {}).get("labels", {}).get(
                "sidecar.istio.io/inject") == "true" for m in pods):
            continue
        labels, where = _namespace_labels(world, member, ns)
        if is_unknown(labels):
            out.append(could_not_check(CHECK, member, describe("Namespace", "", ns), "metadata.labels", labels,
                                       "the sidecar injection label of namespace {0}".format(ns)))
            continue
        if labels is None:
            continue  # the namespace itself is missing: check_karmada says so
        if not _injection(labels):
            out.append(finding(WARNING, CHECK, member, describe("Namespace", "", ns), "metadata.labels",
                               "namespace {0} is not labelled for Istio's sidecar injection ({1}: {2}): the pods "
                               "of {3} get no sidecar, so mesh routing to and from them ignores the "
                               "VirtualServices".format(ns, where, "istio-injection=" + labels["istio-injection"]
                                                        if labels.get("istio-injection") else "no label",
                                                        ", ".join(m.label for m in pods)),
                               "label it in Karmada: kubectl label namespace {0} istio-injection=enabled "
                               "(bootstrap.yml does)".format(ns), pods[0].source))
    return out


def check(world, manifests, observed, members):
    out = check_karmada(world, manifests, observed)
    for member in members:
        out += check_member(world, manifests, observed, member)
    return out
