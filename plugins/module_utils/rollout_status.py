# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an Argo Rollout stands, and what Argo's own CLI would patch to move it.

Plain functions on Rollout dicts (as the API returns them); no I/O, so they
are unit-tested against fixtures and shared by modules and roles.

The phase follows the CLI (``utils/rollout/rolloututil.go`` ``GetRolloutPhase``
and ``CalculateRolloutPhase``), with one addition: a rollout whose
``status.abort`` the controller has acted on is ``Aborted`` rather than
``Degraded``, since for a release the two call for different actions.
The patches follow ``kubectl argo rollouts promote|abort|retry|pause`` (Argo
Rollouts v1.x ``pkg/kubectl-argo-rollouts/cmd``), except that a verb with
nothing to do sends nothing, so that re-running a task never skips a step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

ACTIONS = ("status", "promote", "promote_full", "abort", "retry", "pause", "resume")

HEALTHY = "Healthy"
PAUSED = "Paused"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
ABORTED = "Aborted"

# conditions.RolloutAbortedReason and conditions.TimedOutReason in Argo Rollouts
_DEGRADED_REASONS = ("RolloutAborted", "ProgressDeadlineExceeded")


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _strategy(rollout):
    strategy = (rollout.get("spec") or {}).get("strategy") or {}
    if strategy.get("blueGreen") is not None:
        return "blueGreen", strategy["blueGreen"] or {}
    if strategy.get("canary") is not None:
        return "canary", strategy["canary"] or {}
    return None, {}


def _steps(rollout):
    name, canary = _strategy(rollout)
    return (canary.get("steps") or []) if name == "canary" else []


def current_step(rollout):
    """(step dict or None, index or None) like replicasetutil.GetCurrentCanaryStep."""
    steps = _steps(rollout)
    if not steps:
        return None, None
    index = _int((rollout.get("status") or {}).get("currentStepIndex"), 0)
    if index >= len(steps):
        return None, index
    return steps[index], index


def _fully_promoted(status):
    return bool(status.get("stableRS")) and status.get("stableRS") == status.get("currentPodHash")


def set_weight(rollout):
    """The desired canary weight (replicasetutil.GetCurrentSetWeight)."""
    status = rollout.get("status") or {}
    if status.get("abort"):
        return 0
    step, index = current_step(rollout)
    if step is None:
        return 100
    steps = _steps(rollout)
    for i in range(index, -1, -1):
        if steps[i].get("setWeight") is not None:
            return _int(steps[i]["setWeight"], 0)
    return 0


def canary_weight(rollout):
    """The weight the canary has: what the controller last set in the router, else the desired weight."""
    name, canary = _strategy(rollout)
    if name != "canary":
        return None
    status = rollout.get("status") or {}
    if canary.get("trafficRouting"):
        weights = (status.get("canary") or {}).get("weights") or {}
        if (weights.get("canary") or {}).get("weight") is not None:
            return _int(weights["canary"]["weight"], 0)
    if _fully_promoted(status) and not status.get("abort"):
        return 100
    return set_weight(rollout)


def generation_observed(rollout):
    """status.observedGeneration (a string in Argo's status) has caught up with metadata.generation."""
    observed = _int((rollout.get("status") or {}).get("observedGeneration"))
    generation = _int((rollout.get("metadata") or {}).get("generation"))
    if observed is None or generation is None:
        return True  # pre-v0.10 hashes, or a hand-made object: nothing to compare
    return observed >= generation


def _calculate_phase(rollout):
    """CalculateRolloutPhase, for controllers that leave status.phase empty."""
    spec = rollout.get("spec") or {}
    status = rollout.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "InvalidSpec":
            return DEGRADED, "InvalidSpec: {0}".format(cond.get("message", ""))
        if cond.get("reason") in _DEGRADED_REASONS:
            return DEGRADED, "{0}: {1}".format(cond["reason"], cond.get("message", ""))
    if spec.get("paused"):
        return PAUSED, "manually paused"
    for pause in status.get("pauseConditions") or []:
        return PAUSED, pause.get("reason", "")
    desired = _int(spec.get("replicas"), 1)
    if _int(status.get("updatedReplicas"), 0) < desired:
        return PROGRESSING, "more replicas need to be updated"
    if _int(status.get("availableReplicas"), 0) < _int(status.get("updatedReplicas"), 0):
        return PROGRESSING, "updated replicas are still becoming available"
    name, strategy = _strategy(rollout)
    if name == "blueGreen":
        active = (status.get("blueGreen") or {}).get("activeSelector")
        if not active or active != status.get("currentPodHash"):
            return PROGRESSING, "active service cutover pending"
        if not _fully_promoted(status):
            return PROGRESSING, "waiting for post-promotion verification to complete"
    elif name == "canary":
        if not strategy.get("trafficRouting") and _int(status.get("replicas"), 0) > _int(status.get("updatedReplicas"), 0):
            return PROGRESSING, "old replicas are pending termination"
        if not _fully_promoted(status):
            return PROGRESSING, "waiting for all steps to complete"
    return HEALTHY, ""


def phase(rollout):
    """(phase, message): Healthy, Paused, Progressing, Degraded or Aborted.

    A verb the controller has not acted on yet reads as Progressing, so that
    a wait never mistakes the state before a patch for its outcome.
    """
    status = rollout.get("status") or {}
    if not generation_observed(rollout):
        return PROGRESSING, "waiting for rollout spec update to be observed"
    if status.get("controllerPause") and not status.get("pauseConditions"):
        return PROGRESSING, "waiting for rollout to unpause"
    message = status.get("message") or ""
    if status.get("abort"):
        if status.get("abortedAt") or status.get("phase") == DEGRADED:
            return ABORTED, message or "rollout aborted"
        return PROGRESSING, "waiting for rollout to abort"
    if status.get("phase"):
        if status["phase"] == DEGRADED and message.startswith("RolloutAborted"):
            # retry cleared status.abort; the controller has not recomputed the phase yet
            return PROGRESSING, "waiting for rollout to retry"
        return status["phase"], message
    return _calculate_phase(rollout)


def container_names(template):
    """The names of a pod template's containers, in order."""
    return [c.get("name") for c in ((template or {}).get("spec") or {}).get("containers") or []]


def released_container(template, container=None, app=None):
    """The container a release changes: ``container`` when given, else the one named after the app, else the
    first (the catalogue's rule, so a sidecar listed first is never taken for the app); None when the pod
    template has no such container."""
    names = container_names(template)
    if container:
        return container if container in names else None
    if app in names:
        return app
    return names[0] if names else None


def _container_image(template, container=None, app=None):
    """The image of the released container (:func:`released_container`) in a pod template."""
    name = released_container(template, container, app)
    for c in ((template or {}).get("spec") or {}).get("containers") or []:
        if name is not None and c.get("name") == name:
            return c.get("image")
    return None


def summarize(rollout, stable_replicaset=None, container=None):
    """Where one Rollout stands, as a flat dict (the module returns it per cluster).

    ``stable_replicaset`` (the ReplicaSet named after ``status.stableRS``), when
    given, supplies the stable image; without it the stable image is known only
    when the rollout is fully promoted. ``container`` names the app's container
    (default: the one named after the Rollout, else the first one).
    """
    meta = rollout.get("metadata") or {}
    spec = rollout.get("spec") or {}
    status = rollout.get("status") or {}
    strategy = _strategy(rollout)[0]
    the_phase, message = phase(rollout)
    steps = _steps(rollout)
    index = _int(status.get("currentStepIndex")) if steps else None
    reasons = [p.get("reason") for p in status.get("pauseConditions") or [] if p.get("reason")]
    if spec.get("paused"):
        reasons.insert(0, "manual")
    app = meta.get("name")
    current_image = _container_image(spec.get("template"), container, app)
    stable_image = None
    if stable_replicaset:
        stable_image = _container_image((stable_replicaset.get("spec") or {}).get("template"), container, app)
    elif _fully_promoted(status):
        stable_image = current_image
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "strategy": strategy,
        "phase": the_phase,
        "message": message,
        "paused": bool(spec.get("paused") or status.get("pauseConditions")),
        "pause_reasons": reasons,
        "pause_reason": reasons[0] if reasons else None,
        "aborted": bool(status.get("abort")),
        "step": index,
        "step_count": len(steps) if steps else None,
        "step_text": "{0}/{1}".format(index, len(steps)) if steps and index is not None else None,
        "set_weight": set_weight(rollout) if strategy == "canary" else None,
        "canary_weight": canary_weight(rollout),
        "current_image": current_image,
        "stable_image": stable_image,
        "stable_rs": status.get("stableRS"),
        "canary_rs": status.get("currentPodHash"),
        "fully_promoted": _fully_promoted(status),
        "generation": _int(meta.get("generation")),
        "observed_generation": _int(status.get("observedGeneration")),
        "observed": generation_observed(rollout),
        "replicas": {
            "desired": _int(spec.get("replicas"), 1),
            "current": _int(status.get("replicas"), 0),
            "updated": _int(status.get("updatedReplicas"), 0),
            "ready": _int(status.get("readyReplicas"), 0),
            "available": _int(status.get("availableReplicas"), 0),
        },
    }


def position(summary):
    """One cluster's place in a release, for messages: ``step 1/4 paused (CanaryPauseStep)``."""
    text = summary["phase"].lower()
    if summary.get("step_text") and summary["phase"] != HEALTHY:
        text = "step {0} {1}".format(summary["step_text"], text)
    if summary["phase"] == PAUSED and summary.get("pause_reason"):
        text += " ({0})".format(summary["pause_reason"])
    elif summary["phase"] in (DEGRADED, ABORTED) and summary.get("message"):
        text += " ({0})".format(summary["message"])
    return text


def describe(per_cluster):
    """``beijing: step 1/4 paused (CanaryPauseStep); shanghai: step 2/4 progressing``."""
    return "; ".join("{0}: {1}".format(name, position(per_cluster[name])) for name in sorted(per_cluster))


def _place(summary):
    return (summary["phase"], summary.get("step"), summary.get("pause_reason"))


def fleet_summary(per_cluster, unreachable=None):
    """The fleet at a glance: state ``aligned``, ``aborted``, ``mixed`` or ``degraded``, and a one-line message.

    ``aborted`` is every cluster aborted (a deliberate, consistent state: roll back or retry);
    ``degraded`` is any cluster Degraded, or aborted while others are not, or any cluster of
    ``unreachable`` (``{name: why it could not be read}``), which the message names first.
    """
    result = _summary(per_cluster)
    if unreachable:
        result.update(state="degraded", message="{0}: {1}".format("; ".join(
            "{0} could not be read ({1})".format(n, unreachable[n]) for n in sorted(unreachable)), result["message"]))
    return result


def _summary(per_cluster):
    by_phase = {}
    for name in sorted(per_cluster):
        by_phase.setdefault(per_cluster[name]["phase"], []).append(name)
    result = {"clusters": len(per_cluster), "by_phase": by_phase, "step": None, "phase": None}
    if not per_cluster:
        result.update(state="empty", message="no cluster to report on")
        return result
    if all(s["phase"] == ABORTED for s in per_cluster.values()):
        result.update(state="aborted", phase=ABORTED,
                      message="all {0} cluster(s) aborted: back on the stable version".format(len(per_cluster)))
        return result
    bad = dict((n, s) for n, s in per_cluster.items() if s["phase"] in (DEGRADED, ABORTED))
    if bad:
        result.update(state="degraded", message="degraded: {0}".format(describe(bad)))
        return result
    places = set(_place(s) for s in per_cluster.values())
    if len(places) == 1:
        sample = next(iter(per_cluster.values()))
        result.update(state="aligned", step=sample.get("step"), phase=sample["phase"],
                      message="all {0} cluster(s) {1}".format(len(per_cluster), position(sample)))
        return result
    result.update(state="mixed", message="mixed: {0}".format(describe(per_cluster)))
    return result


def gate(per_cluster, action):
    """May ``action`` go ahead on this fleet? (ok, message).

    Only ``promote`` is gated: it moves every cluster one pause further, which
    keeps the fleet in step only if every cluster is paused at the same step.
    A fleet where nothing is paused passes (promote is then a no-op).
    """
    if action != "promote":
        return True, ""
    paused = [n for n, s in per_cluster.items() if s["paused"]]
    if not paused:
        return True, "nothing to promote: no cluster is paused ({0})".format(describe(per_cluster))
    steps = set(per_cluster[n].get("step") for n in per_cluster)
    if len(paused) == len(per_cluster) and len(steps) == 1:
        return True, "all {0} cluster(s) paused at step {1}".format(
            len(paused), next(iter(per_cluster.values())).get("step_text"))
    return False, ("refusing to promote: the clusters are not all paused at the same step: {0} "
                   "(promote them to the same pause first, or set require_same_step=false)").format(
        describe(per_cluster))


def split_from_step(per_cluster, from_step):
    """Each member against the step a promotion was decided at: (at, past, behind), lists of names.

    ``at``: at step ``from_step`` (paused there, or on its way into the pause: the gate judges those);
    ``past``: beyond it (a later step, or fully promoted) - a retried promotion, or a timed pause that
    ended by itself, must not move these once more; ``behind``: before it (an aborted member is back
    at step 0). A member without canary steps counts as ``at``.
    """
    at, past, behind = [], [], []
    for name in sorted(per_cluster):
        step = per_cluster[name].get("step")
        if step is None or step == from_step:
            at.append(name)
        elif step > from_step:
            past.append(name)
        else:
            behind.append(name)
    return at, past, behind


def patches(rollout, action):
    """The merge patches Argo's CLI sends for ``action``, as [(subresource or None, patch)].

    Status patches come first and target the ``status`` subresource, as the CLI
    does; when a member serves no status subresource, send :func:`unified_patch`
    to the object instead. An empty list means there is nothing to do.
    """
    if action not in ACTIONS:
        raise ValueError("unknown action {0!r}".format(action))
    spec = rollout.get("spec") or {}
    status = rollout.get("status") or {}
    if action == "status":
        return []
    if action == "promote":
        # The CLI also promotes a rollout that is not paused by skipping its current
        # step (e.g. an analysis); re-running a playbook would then skip steps, so a
        # rollout that is not paused is left alone.
        if not (spec.get("paused") or status.get("pauseConditions")):
            return []
        result = []
        if status.get("pauseConditions"):
            result.append(("status", {"status": {"pauseConditions": None}}))
        elif _strategy(rollout)[0] == "canary":
            # paused by spec.paused alone: the CLI clears the pause and moves one step on
            index = current_step(rollout)[1]
            if index is not None:
                steps = len(_steps(rollout))
                result.append(("status", {"status": {"pauseConditions": None,
                                                     "currentStepIndex": min(index + 1, steps)}}))
        if spec.get("paused"):
            result.append((None, {"spec": {"paused": False}}))
        return result
    if action == "promote_full":
        if status.get("promoteFull") or status.get("currentPodHash") == status.get("stableRS"):
            return []
        return [("status", {"status": {"promoteFull": True}})]
    if action == "abort":
        if status.get("abort") or _fully_promoted(status):
            return []
        return [("status", {"status": {"abort": True}})]
    if action == "retry":
        if not status.get("abort"):
            return []
        return [("status", {"status": {"abort": False}})]
    if action == "pause":
        return [] if spec.get("paused") else [(None, {"spec": {"paused": True}})]
    # resume
    return [(None, {"spec": {"paused": False}})] if spec.get("paused") else []


def unified_patch(patch_list):
    """All of ``patches()`` as one patch of the object, for members without a status subresource."""
    merged = {}
    for patch in (pair[1] for pair in patch_list):
        for part, fields in patch.items():
            merged.setdefault(part, {}).update(copy.deepcopy(fields))
    return merged


def reached_next_pause(before, after):
    """Has a rollout settled since ``before`` (both :func:`summarize` results)?

    Settled means the controller has acted and the rollout is Healthy, Degraded,
    Aborted, or paused at another step than before (or paused when it was not).
    """
    if not after.get("observed", True):
        return False
    if after["phase"] in (HEALTHY, DEGRADED, ABORTED):
        return True
    if after["phase"] != PAUSED:
        return False
    if not before.get("paused"):
        return True
    return after.get("step") != before.get("step")
