# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a member's Rollout stuck with a spec its controller has not observed?

A Rollout's ``metadata.generation`` grows with every change of its spec; the Argo
Rollouts controller copies it into ``status.observedGeneration`` (a string) when it
reconciles. While the controller is busy (canary replicas moving, a step running) a
gap closes by itself within seconds. A paused or finished Rollout, though, is only
reconciled again on an event or at the controller's resync: when the controller
missed the last change (Argo Rollouts before 1.10 could overwrite its cache with an
older copy right after its own write, argo-rollouts issues 4073 and 4694), the gap
stays, and every tool that waits for the spec to be observed waits forever.

``stuck_unobserved`` is a pure function: the caller says how long the member has
shown the same generation and observedGeneration, and gets a verdict with a message
that says why and what to do. The remedy, ``NUDGE_ANNOTATION``, is a metadata-only
patch: it does not change ``metadata.generation``, Karmada keeps annotations a member
adds (and does not rewrite the member for a metadata-only change), and it gives the
controller the update event it missed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Annotation whose change (any value; a timestamp) makes the controller reconcile.
NUDGE_ANNOTATION = "multicluster.canary/reconcile-requested-at"
# Long enough for a busy controller on a loaded machine; far below Argo's default resync (15 min).
DEFAULT_THRESHOLD = 60

OBSERVED = "observed"
CATCHING_UP = "catching_up"
STUCK = "stuck_unobserved"
UNKNOWN = "unknown"

_IDLE_PHASES = ("Paused", "Healthy")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _facts(rollout):
    """(name, generation, observedGeneration, idle, why idle) of a Rollout object or a rollout_status summary."""
    if "metadata" in rollout or "status" in rollout or "spec" in rollout:
        meta = rollout.get("metadata") or {}
        spec = rollout.get("spec") or {}
        status = rollout.get("status") or {}
        reasons = [p.get("reason") for p in status.get("pauseConditions") or [] if p.get("reason")]
        if spec.get("paused"):
            why = "paused by hand (spec.paused)"
        elif reasons:
            why = "paused ({0})".format(", ".join(reasons))
        elif status.get("controllerPause"):
            why = "paused by the controller"
        elif status.get("phase") in _IDLE_PHASES:
            why = "idle (phase {0})".format(status["phase"])
        else:
            why = None
        return (meta.get("name"), _int(meta.get("generation")), _int(status.get("observedGeneration")),
                why is not None, why)
    # a summary from rollout_status.summarize
    if rollout.get("paused"):
        why = "paused ({0})".format(rollout["pause_reason"]) if rollout.get("pause_reason") else "paused"
    elif rollout.get("fully_promoted"):
        why = "idle (fully promoted)"
    else:
        why = None
    return (rollout.get("name"), _int(rollout.get("generation")), _int(rollout.get("observed_generation")),
            why is not None, why)


def stuck_unobserved(rollout, seconds, threshold=DEFAULT_THRESHOLD, cluster=None):
    """Say whether a member's Rollout is stuck with an unobserved spec.

    ``rollout``: the member's Rollout as the API returns it, or its
    ``rollout_status.summarize()`` dict. ``seconds``: how long the member has shown this
    same generation and observedGeneration. ``threshold``: seconds after which a paused or
    idle Rollout that has not observed its generation is called stuck. ``cluster``: named in
    the message.

    Returns a dict: ``state`` (``observed``, ``catching_up``, ``stuck_unobserved`` or
    ``unknown``), ``stuck`` (bool), ``generation``, ``observed_generation``, ``behind``
    (generations not yet observed), ``seconds``, ``message`` and, when stuck, ``nudge``: the
    annotation to set on the member's Rollout (``nudge_patch(now)`` is the merge patch).
    """
    if threshold is None or threshold < 0:
        raise ValueError("threshold: must be a number of seconds >= 0, got {0!r}".format(threshold))
    if seconds is None or seconds < 0:
        raise ValueError("seconds: must be a number of seconds >= 0, got {0!r}".format(seconds))
    name, generation, observed, idle, why = _facts(rollout or {})
    where = "Rollout {0}".format(name or "?")
    if cluster:
        where += " in {0}".format(cluster)
    result = {"state": UNKNOWN, "stuck": False, "generation": generation, "observed_generation": observed,
              "behind": None, "seconds": seconds, "message": ""}
    if generation is None or observed is None:
        result["message"] = "{0}: no generation or status.observedGeneration yet; nothing to compare".format(where)
        return result
    behind = generation - observed
    result["behind"] = max(behind, 0)
    if behind <= 0:
        result.update(state=OBSERVED, message="{0}: generation {1} observed".format(where, generation))
        return result
    if not idle or seconds <= threshold:
        result.update(state=CATCHING_UP, message=(
            "{0}: generation {1}, observed {2}, for {3:.0f}s; the controller has not reconciled the latest "
            "change yet".format(where, generation, observed, seconds)))
        return result
    result.update(state=STUCK, stuck=True, nudge=NUDGE_ANNOTATION, message=(
        "{0}: stuck unobserved - generation {1} but status.observedGeneration {2} for {3:.0f}s while {4}. "
        "The Argo Rollouts controller missed the last change of the spec and reconciles a paused or idle "
        "Rollout only on its next event, so what it reports (step, weights, phase) is about an older spec. "
        "Nudge it: annotate the member's Rollout with {5}=<now> (a metadata change: the generation stays, "
        "Karmada keeps the annotation); if it stays behind, check that member's Argo Rollouts controller "
        "(running, its log) and upgrade it to 1.10 or later.".format(
            where, generation, observed, seconds, why, NUDGE_ANNOTATION)))
    return result


def nudge_patch(now):
    """The merge patch that makes the controller reconcile: ``now`` is any fresh string (a timestamp)."""
    if not now:
        raise ValueError("now: a non-empty string (a timestamp) is needed so that the annotation changes")
    return {"metadata": {"annotations": {NUDGE_ANNOTATION: str(now)}}}
