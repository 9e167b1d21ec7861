# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Karmada PropagationPolicy and wave OverridePolicy synthesis (pure functions, no I/O).

Everything here takes and returns plain dicts, so the whole policy a module would
write can be checked in unit tests without an API server. Field names and limits
follow karmada-io/karmada ``pkg/apis/policy/v1alpha1`` (v1.14):

- ``StaticClusterWeight.weight`` has ``Minimum=1``: a cluster of weight 0 stays in
  ``clusterAffinity`` (so replica-less resources such as Services still reach it)
  but gets no ``staticWeightList`` entry, hence no replicas of a Divided workload.
- ``imageOverrider`` edits one image component at a time (Registry, Repository,
  Tag), parsing images like Karmada's ``imageparser`` (host = text before the first
  ``/``); a Rollout needs ``predicate.path`` because Karmada only knows where the
  containers of built-in workload kinds are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError

POLICY_API_VERSION = "policy.karmada.io/v1alpha1"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "multicluster.canary"
WAVE_LABEL = "multicluster.canary/wave"

# Workload kinds a wave hold applies to: their pods come from spec.template.
WORKLOAD_KINDS = ("Rollout", "Deployment", "StatefulSet", "DaemonSet")

OVERRIDE_KIND_FOR = {
    "PropagationPolicy": "OverridePolicy",
    "ClusterPropagationPolicy": "ClusterOverridePolicy",
}


class PolicyError(InputError):
    """Invalid input, raised before anything is written; ``field`` names the option at fault."""

    def __init__(self, field, message):
        super(PolicyError, self).__init__("{0}: {1}".format(field, message), field)


class AmbiguousCluster(PolicyError):
    """A short cluster name that several Karmada clusters end with."""


# --- clusters, weights, waves ------------------------------------------------


def resolve_cluster(name, known, field):
    """A Karmada cluster name for ``name``: exact, else the one known cluster named ``*-name``.

    So ``beijing`` means ``k8s-master-beijing`` when that is the only match.
    """
    known = list(known)
    if name in known:
        return name
    matches = [k for k in known if k.endswith("-" + name)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise AmbiguousCluster(field, "cluster {0!r} is ambiguous: it could be {1}".format(name, ", ".join(sorted(matches))))
    raise PolicyError(field, "unknown cluster(s) {0}; Karmada knows: {1}".format(
        name, ", ".join(sorted(known)) or "none"))


def resolve_clusters(names, known, field):
    """Resolve every name, reporting all unknown ones at once; keeps order, drops duplicates."""
    resolved, unknown = [], []
    for name in names or []:
        try:
            full = resolve_cluster(name, known, field)
        except AmbiguousCluster:
            raise
        except PolicyError:
            unknown.append(name)
            continue
        if full not in resolved:
            resolved.append(full)
    if unknown:
        raise PolicyError(field, "unknown cluster(s) {0}; Karmada knows: {1}".format(
            ", ".join(unknown), ", ".join(sorted(known)) or "none"))
    return resolved


def check_weights(weights, field="weights"):
    """Weights must be non-negative integers with at least one above zero."""
    if not weights:
        return {}
    checked = {}
    for cluster, weight in weights.items():
        if isinstance(weight, bool):
            raise PolicyError(field, "weight of {0} must be an integer, got {1!r}".format(cluster, weight))
        try:
            value = int(weight)
        except (TypeError, ValueError):
            raise PolicyError(field, "weight of {0} must be an integer, got {1!r}".format(cluster, weight))
        if str(weight).strip() != str(value):
            raise PolicyError(field, "weight of {0} must be an integer, got {1!r}".format(cluster, weight))
        if value < 0:
            raise PolicyError(field, "weight of {0} must not be negative, got {1}".format(cluster, value))
        checked[cluster] = value
    if not any(v > 0 for v in checked.values()):
        raise PolicyError(field, "at least one weight must be above zero (got {0})".format(
            ", ".join("{0}={1}".format(k, v) for k, v in checked.items())))
    return checked


def waves_from(waves, field="waves"):
    """Waves as a list of lists of clusters, from that or from {cluster: wave number}; [] for a single wave."""
    if not waves:
        return []
    if isinstance(waves, dict):
        numbers = {}
        for cluster, number in waves.items():
            try:
                numbers.setdefault(int(number), []).append(cluster)
            except (TypeError, ValueError):
                raise PolicyError(field, "the wave of {0} must be a number, got {1!r}".format(cluster, number))
        if len(numbers) < 2:
            return []
        return [sorted(numbers[n]) for n in sorted(numbers)]
    if not isinstance(waves, list):
        raise PolicyError(field, "must be a list of lists of clusters or a dict of cluster: wave, got {0!r}".format(
            waves))
    return waves


def check_waves(waves, current_wave, field="waves"):
    """Waves are non-empty lists of cluster names, each cluster in one wave; current_wave is 1-based."""
    if not waves:
        if current_wave not in (None, 1):
            raise PolicyError("current_wave", "there is one wave only (no waves given), got wave {0}".format(
                current_wave))
        return
    seen = {}
    for i, wave in enumerate(waves, 1):
        if not isinstance(wave, (list, tuple)) or not wave:
            raise PolicyError(field, "wave {0} must be a non-empty list of clusters, got {1!r}".format(i, wave))
        for cluster in wave:
            if cluster in seen:
                raise PolicyError(field, "cluster {0} is in wave {1} and wave {2}".format(cluster, seen[cluster], i))
            seen[cluster] = i
    if current_wave is None:
        raise PolicyError("current_wave", "is required with waves (1 to {0})".format(len(waves)))
    if isinstance(current_wave, bool) or not isinstance(current_wave, int) or not 1 <= current_wave <= len(waves):
        raise PolicyError("current_wave", "must be between 1 and {0}, got {1!r}".format(len(waves), current_wave))


def wave_plan(waves, current_wave):
    """(released, held): clusters of waves 1..current_wave, and those of the later waves."""
    released, held = [], []
    for i, wave in enumerate(waves or [], 1):
        (released if i <= current_wave else held).extend(wave)
    return released, held


# --- PropagationPolicy ------------------------------------------------------


def selector(sel, field="resource_selectors"):
    """One resourceSelector in Karmada's camelCase, from the module's snake_case."""
    api_version = sel.get("api_version") or sel.get("apiVersion")
    kind = sel.get("kind")
    if not api_version or not kind:
        raise PolicyError(field, "every selector needs api_version and kind, got {0!r}".format(sel))
    out = {"apiVersion": api_version, "kind": kind}
    if sel.get("namespace"):
        out["namespace"] = sel["namespace"]
    if sel.get("name"):
        out["name"] = sel["name"]
    label_selector = sel.get("label_selector") or sel.get("labelSelector")
    if label_selector:
        out["labelSelector"] = copy.deepcopy(label_selector)
    return out


def selectors(sels, field="resource_selectors"):
    if not sels:
        raise PolicyError(field, "must name at least one resource (api_version, kind and name or label_selector)")
    return [selector(s, field) for s in sels]


def api_group(api_version):
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def preferred_selectors(sels, preferred):
    """Selectors moved to each group's preferred version, and a note for each one moved.

    Karmada's detector sees a resource template only at its group's preferred version
    (networking.istio.io/v1 for Istio >= 1.22 CRDs), and matches selectors by exact
    apiVersion, so a selector for networking.istio.io/v1beta1 never matches anything.
    """
    out, notes = [], []
    for i, sel in enumerate(sels):
        sel = dict(sel)
        group = api_group(sel["apiVersion"])
        want = preferred.get(group)
        if want is not None:
            target = "{0}/{1}".format(group, want) if group else want
            if target != sel["apiVersion"]:
                notes.append("resource_selectors[{0}]: Karmada matches {1} only at its preferred version {2}; "
                             "selecting {2} instead of {3}".format(i, sel["kind"], target, sel["apiVersion"]))
                sel["apiVersion"] = target
        out.append(sel)
    return out, notes


def placement(clusters=None, weights=None, scheduling=None, division_preference=None,
              dynamic_weight=None, spread_constraints=None, cluster_tolerations=None):
    """The ``placement`` block. ``clusters`` and ``weights`` hold resolved (full) names.

    ``scheduling`` defaults to Divided when weights or a dynamic weight are given,
    else Duplicated. Divided without weights weighs every cluster 1.
    """
    clusters = list(clusters or [])
    weights = dict(weights or {})
    for name in weights:
        if name not in clusters:
            clusters.append(name)
    if scheduling is None:
        scheduling = "Divided" if (weights or dynamic_weight) else "Duplicated"
    scheduling = scheduling[:1].upper() + scheduling[1:].lower()
    out = {}
    if clusters:
        out["clusterAffinity"] = {"clusterNames": clusters}
    if scheduling == "Divided":
        if dynamic_weight and weights:
            raise PolicyError("dynamic_weight", "cannot be combined with weights")
        preference = division_preference or "Weighted"
        preference = preference[:1].upper() + preference[1:].lower()
        rs = {"replicaDivisionPreference": preference, "replicaSchedulingType": "Divided"}
        if preference == "Weighted":
            if dynamic_weight:
                rs["weightPreference"] = {"dynamicWeight": dynamic_weight}
            elif clusters:
                if not weights:
                    weights = dict((c, 1) for c in clusters)
                static = [{"targetCluster": {"clusterNames": [c]}, "weight": weights[c]}
                          for c in clusters if weights.get(c, 0) > 0]
                rs["weightPreference"] = {"staticWeightList": static}
        elif weights or dynamic_weight:
            raise PolicyError("division_preference", "weights need division_preference Weighted, not {0}".format(preference))
        out["replicaScheduling"] = rs
    elif scheduling == "Duplicated":
        if weights or dynamic_weight:
            raise PolicyError("replica_scheduling", "weights need replica_scheduling divided, not duplicated")
        out["replicaScheduling"] = {"replicaSchedulingType": "Duplicated"}
    else:
        raise PolicyError("replica_scheduling", "must be duplicated or divided, got {0!r}".format(scheduling))
    if spread_constraints:
        out["spreadConstraints"] = copy.deepcopy(spread_constraints)
    if cluster_tolerations:
        out["clusterTolerations"] = copy.deepcopy(cluster_tolerations)
    return out


def propagation_policy(name, namespace, resource_selectors, placement_spec, kind="PropagationPolicy",
                       priority=None, preemption=None, conflict_resolution=None, propagate_deps=None,
                       failover=None, labels=None, annotations=None):
    """A whole (Cluster)PropagationPolicy object; only the fields given are set."""
    if kind not in OVERRIDE_KIND_FOR:
        raise PolicyError("kind", "must be PropagationPolicy or ClusterPropagationPolicy, got {0!r}".format(kind))
    metadata = {"name": name}
    if kind == "PropagationPolicy":
        if not namespace:
            raise PolicyError("namespace", "is required for a PropagationPolicy")
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    spec = {"resourceSelectors": copy.deepcopy(resource_selectors), "placement": copy.deepcopy(placement_spec)}
    if priority is not None:
        spec["priority"] = int(priority)
    if preemption is not None:
        spec["preemption"] = preemption
    if conflict_resolution is not None:
        spec["conflictResolution"] = conflict_resolution
    if propagate_deps is not None:
        spec["propagateDeps"] = bool(propagate_deps)
    if failover:
        spec["failover"] = copy.deepcopy(failover)
    return {"apiVersion": POLICY_API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


# --- wave hold (OverridePolicy) ------------------------------------------------


def split_image(image):
    """(registry, repository, tag_or_digest) the way Karmada's imageparser splits an image.

    Like Karmada's ``imageparser.SplitHostname``, the part before the first ``/`` is a registry
    only when it has a ``.`` or ``:`` or is ``localhost``: ``team/app:1`` has no registry and
    the repository ``team/app``.
    """
    if not image or not isinstance(image, str) or re.search(r"\s", image):
        raise PolicyError("hold_image.image", "is not an image reference: {0!r}".format(image))
    name, tag = image, ""
    if "@" in name:
        name, digest = name.split("@", 1)
        tag = digest
        if ":" in name.rsplit("/", 1)[-1]:
            name, tag = name.rsplit(":", 1)  # Karmada keeps the tag when both are given
    elif ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    first, slash, rest = name.partition("/")
    if slash and rest and (any(c in first for c in ".:") or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = "", name
    if not repository:
        raise PolicyError("hold_image.image", "is not an image reference: {0!r}".format(image))
    return registry, repository, tag


def image_overriders(image, path):
    """imageOverrider entries that turn any image at ``path`` into ``image``."""
    registry, repository, tag = split_image(image)
    out = []
    for component, value in (("Registry", registry), ("Repository", repository), ("Tag", tag)):
        entry = {"predicate": {"path": path}, "component": component}
        if value:
            entry.update(operator="replace", value=value)
        else:
            entry["operator"] = "remove"
        out.append(entry)
    return out


def container_path(index):
    return "/spec/template/spec/containers/{0}/image".format(index)


def container_index(workload, container, field="hold_image.container"):
    """Index of ``container`` (a name, or an index as int or digit string) in a workload's pod template."""
    containers = (((workload or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    if isinstance(container, int) and not isinstance(container, bool):
        index = container
    elif isinstance(container, str) and container.isdigit():
        index = int(container)
    else:
        names = [c.get("name") for c in containers]
        if container is None:
            if len(containers) == 1 or not workload:
                return 0
            raise PolicyError(field, "is required: {0} has containers {1}".format(
                workload["metadata"]["name"], ", ".join(names)))
        if container not in names:
            raise PolicyError(field, "no container named {0!r} (containers: {1})".format(
                container, ", ".join(n for n in names if n) or "none"))
        return names.index(container)
    if workload and not 0 <= index < len(containers):
        raise PolicyError(field, "index {0} is out of range: {1} has {2} container(s)".format(
            index, workload["metadata"]["name"], len(containers)))
    return index


def container_image(workload, index):
    try:
        return workload["spec"]["template"]["spec"]["containers"][index]["image"]
    except (KeyError, IndexError, TypeError):
        return None


def workload_selectors(resource_selectors, default_namespace=None):
    """The selectors a wave hold applies to: named workloads."""
    out = []
    for sel in resource_selectors:
        if sel.get("kind") in WORKLOAD_KINDS and sel.get("name"):
            item = dict(sel)
            if default_namespace and not item.get("namespace"):
                item["namespace"] = default_namespace
            out.append(item)
    return out


def hold_override(name, namespace, held_clusters, holds, kind="OverridePolicy", policy_name=None, wave=None):
    """An OverridePolicy keeping each workload of ``holds`` at its previous image in ``held_clusters``.

    ``holds``: list of dicts {selector, index, image}. Karmada applies every overrider
    of a policy to every resource the policy selects, so workloads may share the
    policy only when they hold the same image at the same container index; anything
    else needs one policy per workload (reported as an error).
    """
    if not held_clusters:
        raise PolicyError("waves", "nothing to hold: every cluster is released")
    if not holds:
        raise PolicyError("resource_selectors", "a wave needs a named workload ({0}) to hold".format(
            ", ".join(WORKLOAD_KINDS)))
    images = {}
    for h in holds:
        images.setdefault(h["index"], set()).add(h["image"])
    for index, found in images.items():
        if len(found) > 1:
            raise PolicyError("hold_image.image", "the workloads hold different images at container {0} ({1}); "
                              "use one policy per workload".format(index, ", ".join(sorted(found))))
    overriders = []
    for index in sorted(images):
        overriders.extend(image_overriders(next(iter(images[index])), container_path(index)))
    metadata = {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}
    if kind == "OverridePolicy":
        metadata["namespace"] = namespace
    if policy_name:
        metadata["annotations"] = {"multicluster.canary/propagation-policy": policy_name}
    if wave is not None:
        metadata["labels"][WAVE_LABEL] = str(wave)
    sels = []
    for h in holds:
        s = {"apiVersion": h["selector"]["apiVersion"], "kind": h["selector"]["kind"], "name": h["selector"]["name"]}
        if kind == "ClusterOverridePolicy" and h["selector"].get("namespace"):
            s["namespace"] = h["selector"]["namespace"]
        if s not in sels:
            sels.append(s)
    return {
        "apiVersion": POLICY_API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "spec": {
            "resourceSelectors": sels,
            "overrideRules": [{
                "targetCluster": {"clusterNames": list(held_clusters)},
                "overriders": {"imageOverrider": overriders},
            }],
        },
    }
