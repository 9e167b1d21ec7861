# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps of ``rollout_release``: check the input, read, plan, apply, wait; one result.

``run()`` returns ``(ok, result)``; the module exits with the result, or fails
with it (``result["msg"]`` says why). Nothing is written before every input is
checked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import kind
from ansible_collections.multicluster.canary.plugins.module_utils.release_state import (
    ReleaseError,
    check_image,
    pick_container,
    plan,
    reached,
)
from ansible_collections.multicluster.canary.plugins.module_utils.rollout_status import describe, fleet_summary
from ansible_collections.multicluster.canary.plugins.module_utils.rollouts import FleetRollout, RolloutReadError
from ansible_collections.multicluster.canary.plugins.module_utils.service import apply_if_needed
from ansible_collections.multicluster.canary.plugins.module_utils.strategy_lint import describe as describe_findings
from ansible_collections.multicluster.canary.plugins.module_utils.strategy_lint import lint


def check_definition(definition, name, namespace):
    """The definition must be this Rollout; raises ReleaseError naming the field."""
    if definition.get("kind") != "Rollout" or not str(definition.get("apiVersion", "")).startswith("argoproj.io/"):
        raise ReleaseError("definition: must be an argoproj.io Rollout, got {0} {1}".format(
            definition.get("apiVersion"), definition.get("kind")))
    meta = definition.get("metadata") or {}
    for field, want in (("name", name), ("namespace", namespace)):
        if meta.get(field, want) != want:
            raise ReleaseError("definition.metadata.{0}: {1!r} is not the {0} option's {2!r}".format(
                field, meta.get(field), want))


def common_stable_image(summaries):
    """The stable image every member reports, or None when they differ or one does not know it."""
    images = set(s.get("stable_image") for s in summaries.values())
    return images.pop() if len(images) == 1 else None


def _unobserved(summaries):
    lagging = dict((n, s) for n, s in summaries.items() if not s.get("observed", True))
    if not lagging:
        return ""
    return ("; the Argo Rollouts controller has not observed the latest spec in {0} "
            "(metadata.generation ahead of status.observedGeneration): look at its log in that member").format(
        ", ".join("{0} (generation {1}, observed {2})".format(n, s.get("generation"), s.get("observed_generation"))
                  for n, s in sorted(lagging.items())))


def _placement(rollout, requested, timeout):
    """The members to read: ``requested``, else where Karmada placed the Rollout (waiting for a new binding)."""
    if requested:
        return rollout.clusters(requested)
    deadline = time.monotonic() + timeout
    while True:
        placed = rollout.fleet.placement("Rollout", rollout.namespace, rollout.name)
        if placed or time.monotonic() >= deadline:
            return rollout.clusters(placed)
        time.sleep(1)


def run(fleet, p, check_mode=False, want_diff=False):
    result = dict(changed=False, clusters=[], container=None, from_image=None, to_image=None,
                  previous_image=None, rolled_back_from=None, image_changed=False)
    definition = p.get("definition")
    wanted = p.get("image")
    try:
        if wanted is not None:
            check_image(wanted)
        if definition is not None:
            check_definition(definition, p["name"], p["namespace"])
            result["findings"] = lint(definition)
            errors = [f for f in result["findings"] if f["severity"] == "error"]
            if errors:
                raise ReleaseError("definition: nothing was written: " + "; ".join(describe_findings(errors)))
            warnings = [f for f in result["findings"] if f["severity"] == "warning"]
            if warnings:
                result["warnings"] = describe_findings(warnings)
        elif wanted is not None or p.get("rollback"):
            raise ReleaseError("definition: the Rollout as the catalogue describes it is required to change its image")
    except ReleaseError as e:
        result["msg"] = str(e)
        return False, result

    rollout = FleetRollout(fleet, p["name"], p["namespace"])
    current = rollout.template()
    if current is None and definition is None:
        result["msg"] = "Rollout {0}/{1} does not exist in Karmada".format(p["namespace"], p["name"])
        return False, result
    try:
        rollout.container = pick_container(definition or current, p.get("container"))
    except ReleaseError as e:
        result["msg"] = str(e)
        return False, result
    result["container"] = rollout.container

    summaries = {}
    if current is not None:
        result["clusters"] = rollout.clusters(p.get("clusters"))
        try:
            summaries = rollout.summaries(result["clusters"])
        except RolloutReadError as e:
            result.update(msg="cannot read every member, nothing written: {0}".format(e), failed_clusters=e.failed)
            return False, result

    current_image = None
    if definition is not None:
        try:
            planned = plan(current, definition, rollout.container, image=wanted, rollback=p.get("rollback"),
                           stable_image=common_stable_image(summaries) if summaries else None)
        except ReleaseError as e:
            result["msg"] = str(e)
            return False, result
        changed, _before, _after, diff = apply_if_needed(fleet.control, kind("Rollout"), planned["object"],
                                                         check_mode=check_mode, want_diff=want_diff)
        result.update(changed=changed, from_image=planned["from_image"], to_image=planned["to_image"],
                      previous_image=planned["previous_image"], rolled_back_from=planned["rolled_back_from"],
                      image_changed=planned["image_changed"])
        if diff is not None:
            result["diff"] = diff
        current_image = planned["to_image"]
    else:
        from_image = next((c.get("image") for c in current["spec"]["template"]["spec"]["containers"]
                           if c.get("name") == rollout.container), None)
        result.update(from_image=from_image, to_image=from_image)
        current_image = from_image

    moved = "{0} {1} -> {2}".format(p["name"], result["from_image"], result["to_image"]) if result["image_changed"] \
        else "{0} stays on {1}".format(p["name"], result["to_image"])
    target = p.get("wait_for") or "none"
    if target == "none" or check_mode:
        if summaries:
            result.update(rollouts=summaries, fleet=fleet_summary(summaries))
        result["message"] = moved + ("; " + result["fleet"]["message"] if summaries else "")
        return True, result

    started = time.monotonic()
    timeout = p.get("wait_timeout") or 300
    names = _placement(rollout, p.get("clusters"), timeout)
    result["clusters"] = names
    # A rollback starts from aborted or degraded members: only time decides it failed.
    latest, pending, bad = rollout.wait(names, lambda _n, s: reached(s, target, current_image),
                                        max(1, timeout - (time.monotonic() - started)),
                                        fail_on_degraded=not p.get("rollback"))
    if p.get("rollback") and not pending:
        bad = {}
    result.update(rollouts=latest, fleet=fleet_summary(latest), waited=round(time.monotonic() - started, 1))
    if rollout.nudged:
        result["nudged"] = dict(rollout.nudged)
    if rollout.watch_warnings():
        result["warnings"] = result.get("warnings", []) + rollout.watch_warnings()
    if bad:
        result["msg"] = "{0}; degraded: {1}".format(moved, "; ".join(
            "{0}: {1}".format(n, bad[n]) for n in sorted(bad)))
        return False, result
    if pending:
        result["msg"] = "{0}; after {1}s not at {2}: {3}{4}".format(
            moved, timeout, target.replace("_", " "), describe(dict((n, latest[n]) for n in pending if n in latest)),
            _unobserved(dict((n, latest[n]) for n in pending if n in latest)))
        if rollout.nudged:
            result["msg"] += "; " + " ".join(rollout.nudged[n] for n in sorted(rollout.nudged))
        return False, result
    result["message"] = "{0}; {1}".format(moved, result["fleet"]["message"])
    return True, result
