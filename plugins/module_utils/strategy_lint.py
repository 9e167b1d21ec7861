# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a canary strategy will do, against what its author meant: findings before anything is written.

Pure logic on a Rollout as a dict. :func:`lint` walks ``spec.strategy.canary.steps`` the way the Argo
Rollouts controller does, keeping the canary's weight, its scale and the managed routes in force,
and returns findings ``{severity, field, message, fix}``:

* error: Argo Rollouts refuses the Rollout (a header or mirror route whose name is not in
  ``trafficRouting.managedRoutes`` makes it InvalidSpec);
* warning: Argo accepts it but does something else than the steps suggest - a managed route while
  the canary has no pod (Argo removes every managed route then, and does not put it back), canary
  scaling with no ``setWeight`` (plain traffic stays at 0%), a weight that goes down, ``setWeight``
  without traffic routing (only approximated by replica counts), a timed ``pause`` after the last
  ``setWeight`` with ``dynamicStableScale`` off (the release then ends by itself, the stable
  ReplicaSet at full size until then, and nobody gates the step to 100%).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STEPS = "spec.strategy.canary.steps"
ROUTE_STEPS = ("setHeaderRoute", "setMirrorRoute")


def _finding(severity, field, message, fix):
    return {"severity": severity, "field": field, "message": message, "fix": fix}


def _canary_has_pods(weight, scale, replicas):
    """Whether the canary ReplicaSet has a pod: ``scale`` is None (follows the weight) or (kind, value)."""
    if replicas is not None and replicas <= 0:
        return False
    if scale is None:
        return weight > 0
    return scale[1] > 0


def _scale(step, current):
    if step.get("matchTrafficWeight"):
        return None
    if step.get("replicas") is not None:
        return ("replicas", int(step["replicas"]))
    if step.get("weight") is not None:
        return ("weight", int(step["weight"]))
    return current


def _timed_end(canary, steps):
    """A timed pause after the last setWeight, with no human gate after it, when the stable does not shrink."""
    if canary.get("dynamicStableScale"):
        return []
    last = max([i for i, step in enumerate(steps) if "setWeight" in step] or [-1])
    if last < 0:
        return []
    after = [(i, step["pause"] or {}) for i, step in enumerate(steps[last + 1:], last + 1) if "pause" in step]
    if not after or any(not pause.get("duration") for _i, pause in after):
        return []
    i, pause = after[0]
    return [_finding(
        "warning", "{0}[{1}].pause.duration".format(STEPS, i),
        "after the last setWeight ({0}%), this pause ends by itself after {1}, and Argo Rollouts then sends "
        "100% to the new version with no one deciding; until then the stable ReplicaSet keeps its full size "
        "(dynamicStableScale is off)".format(
            steps[last]["setWeight"],
            "{0}s".format(pause["duration"]) if isinstance(pause["duration"], int) else pause["duration"]),
        "end with pause: {} so a human promotes to 100% (promote.yml), or set dynamicStableScale: true if the "
        "timed end is meant")]


def lint(rollout):
    """Findings for the Rollout's canary steps (an empty list when there is nothing to say)."""
    spec = (rollout or {}).get("spec") or {}
    canary = (spec.get("strategy") or {}).get("canary")
    if not canary:
        return []
    steps = canary.get("steps") or []
    routing = canary.get("trafficRouting") or {}
    managed = set(r.get("name") for r in routing.get("managedRoutes") or [] if r.get("name"))
    replicas = spec.get("replicas")
    findings = []
    weight, scale, top = 0, None, 0
    active = {}  # managed routes in force: name -> index of the step that set them
    lost = set()
    any_weight, any_scale = False, False
    for i, step in enumerate(steps):
        field = "{0}[{1}]".format(STEPS, i)
        if "setWeight" in step:
            any_weight = True
            weight = int(step["setWeight"])
            if weight < top:
                findings.append(_finding(
                    "warning", field + ".setWeight",
                    "the canary weight goes down from {0}% to {1}%".format(top, weight),
                    "keep the weights rising; abort (abort.yml) to send traffic back to the stable version"))
            top = max(top, weight)
            if not routing:
                findings.append(_finding(
                    "warning", field + ".setWeight",
                    "setWeight without trafficRouting: the split is only approximated by the number of pods",
                    "add trafficRouting (istio) so the weight is set in the VirtualService"))
        if "setCanaryScale" in step:
            any_scale = True
            scale = _scale(step["setCanaryScale"] or {}, scale)
        for kind in ROUTE_STEPS:
            if kind not in step:
                continue
            name = (step[kind] or {}).get("name")
            if name and name not in managed:
                findings.append(_finding(
                    "error", "{0}.{1}.name".format(field, kind),
                    "route {0!r} is not in trafficRouting.managedRoutes ({1}): Argo Rollouts marks the Rollout "
                    "InvalidSpec".format(name, ", ".join(sorted(managed)) or "none"),
                    "add {{name: {0}}} to spec.strategy.canary.trafficRouting.managedRoutes".format(name)))
            if name and (step[kind] or {}).get("match"):
                active[name] = i
            elif name:
                active.pop(name, None)  # a route step without match removes the route
        if active and not _canary_has_pods(weight, scale, replicas):
            for name in sorted(active):
                if name in lost:
                    continue
                lost.add(name)
                findings.append(_finding(
                    "warning", field,
                    "the canary has no pod here (weight {0}%{1}), and Argo Rollouts removes every managed route "
                    "then: route {2!r} (set at step {3}) is gone from this step on".format(
                        weight, ", scaled with the weight" if scale is None else "", name, active[name]),
                    "give the canary a pod first: setCanaryScale {replicas: 1} before the route, and "
                    "setCanaryScale {matchTrafficWeight: true} only after a setWeight above 0"))
            active.clear()
    findings += _timed_end(canary, steps)
    if any_scale and not any_weight and routing:
        findings.append(_finding(
            "warning", STEPS,
            "setCanaryScale steps but no setWeight: the canary gets pods, and 0% of plain traffic until the end",
            "add setWeight steps to move plain traffic (setCanaryScale only sizes the canary)"))
    return findings


def describe(findings):
    """One line per finding: ``severity field: message (fix)``."""
    return ["{0} {1}: {2} ({3})".format(f["severity"], f["field"], f["message"], f["fix"]) for f in findings]
