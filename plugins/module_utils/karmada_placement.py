# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether Karmada's placement of a workload runs as scheduled, from its ResourceBinding (no I/O).

A ResourceBinding (``work.karmada.io/v1alpha2``, named ``NAME-KIND``) holds the replica count Karmada took
from the template (``spec.replicas``), the assignment per cluster (``spec.clusters``) once the scheduler has
observed that generation (``status.schedulerObservedGeneration``), and each cluster's copy as the member
reports it (``status.aggregatedStatus[].status``, through the resource interpreter's status reflection: for a
Rollout the collection's keeps ``replicas``, ``readyReplicas``, ``generation``, ``observedGeneration``...).

A placement is settled when the binding carries the template's replica count, is scheduled, and every
assigned cluster reports exactly its replicas, all ready, for the generation its controller observed. A
reflection from before Karmada pushed a new count shows the old count, so it never passes for the new one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def binding_name(name, kind):
    return "{0}-{1}".format(name, kind.lower())


def placement(binding, template_replicas):
    """{settled, replicas, clusters: {name: {...}}, message} for a binding and the template's replica count."""
    out = {"settled": False, "replicas": template_replicas, "clusters": {}, "message": ""}
    if not binding:
        out["message"] = "Karmada has no ResourceBinding for it yet"
        return out
    spec = binding.get("spec") or {}
    status = binding.get("status") or {}
    problems = []
    if template_replicas is not None and _int(spec.get("replicas"), None) != template_replicas:
        problems.append("Karmada has not taken the template's {0} replicas yet (binding: {1})".format(
            template_replicas, spec.get("replicas")))
    generation = (binding.get("metadata") or {}).get("generation")
    if generation is not None and _int(status.get("schedulerObservedGeneration"), None) != _int(generation):
        problems.append("not scheduled yet")
    items = dict((i.get("clusterName"), i) for i in status.get("aggregatedStatus") or [])
    for target in spec.get("clusters") or []:
        name, assigned = target.get("name"), _int(target.get("replicas"))
        item = items.get(name) or {}
        st = item.get("status") or {}
        entry = {
            "assigned": assigned,
            "replicas": _int(st.get("replicas")),
            "ready": _int(st.get("readyReplicas")),
            "applied": bool(item.get("applied")),
            "observed": st.get("generation") is not None and str(st.get("observedGeneration")) == str(st.get("generation")),
        }
        # a cluster assigned none may have no copy at all
        entry["settled"] = assigned == 0 or (entry["applied"] and entry["observed"] and
                                             entry["replicas"] == assigned and entry["ready"] == assigned)
        out["clusters"][name] = entry
        if not entry["settled"]:
            problems.append("{0}: {1}/{2} ready of {3} assigned{4}{5}".format(
                name, entry["ready"], entry["replicas"], assigned, "" if entry["applied"] else ", not applied",
                "" if entry["observed"] else ", not observed by its controller"))
    if not out["clusters"] and not problems:
        problems.append("no cluster assigned")
    out["settled"] = not problems
    out["message"] = "; ".join(problems) if problems else "{0} replicas running as placed: {1}".format(
        sum(c["assigned"] for c in out["clusters"].values()),
        ", ".join("{0}={1}".format(n, c["assigned"]) for n, c in sorted(out["clusters"].items())))
    return out
