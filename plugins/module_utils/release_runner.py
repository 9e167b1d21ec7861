# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rollout_release's run: check the input, read, plan, apply, wait.

Nothing is written before every input is checked; a failure carries what was done before it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import kind
from ansible_collections.multicluster.canary.plugins.module_utils.release_state import (
    ReleaseError,
    check_image,
    pick_container,
    plan,
    reached,
    up_to_date,
)
from ansible_collections.multicluster.canary.plugins.module_utils.rollout_status import describe, fleet_summary
from ansible_collections.multicluster.canary.plugins.module_utils.rollouts import FleetRollout, RolloutReadError
from ansible_collections.multicluster.canary.plugins.module_utils.runner import listing
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


def check_input(run):
    """Every input that needs no cluster: the image, and the definition (its strategy linted)."""
    p = run.params
    definition = p.get("definition")
    if p.get("image") is not None:
        check_image(p["image"])
    if definition is None:
        if p.get("image") is not None or p.get("rollback"):
            raise ReleaseError("definition: the Rollout as the catalogue describes it is required to change its image")
        return
    check_definition(definition, p["name"], p["namespace"])
    findings = lint(definition)
    run.update(findings=findings)
    errors = [f for f in findings if f["severity"] == "error"]
    if errors:
        raise ReleaseError("definition: nothing was written: " + "; ".join(describe_findings(errors)))
    for warning in describe_findings([f for f in findings if f["severity"] == "warning"]):
        run.warn(warning)


def write(run, rollout, current, summaries):
    """Apply the planned template (image and release annotations); returns the image it asks for."""
    p = run.params
    planned = plan(current, p["definition"], rollout.container, image=p.get("image"), rollback=p.get("rollback"),
                   stable_image=common_stable_image(summaries) if summaries else None)
    applied = apply_if_needed(run.fleet.control, kind("Rollout"), planned["object"], check_mode=run.check_mode,
                              want_diff=run.want_diff)
    run.changed(applied.changed)
    run.diff(applied.diff)
    run.update(from_image=planned["from_image"], to_image=planned["to_image"],
               previous_image=planned["previous_image"], rolled_back_from=planned["rolled_back_from"],
               image_changed=planned["image_changed"], onboarded=planned["onboarded"])
    return planned["to_image"]


def release(run):
    """rollout_release: the template applied (or only read), then an optional wait in the members."""
    p = run.params
    check_input(run)
    rollout = FleetRollout(run.fleet, p["name"], p["namespace"])
    current = rollout.template()
    if current is None and p.get("definition") is None:
        run.fail("Rollout {0}/{1} does not exist in Karmada".format(p["namespace"], p["name"]))
    rollout.container = pick_container(p.get("definition") or current, p.get("container"))
    run.update(container=rollout.container)

    found, summaries = {}, {}
    if current is not None:
        run.update(clusters=rollout.clusters(p.get("clusters")))
        try:
            found = rollout.read(run.result["clusters"])
        except RolloutReadError as e:
            run.fail("cannot read every member, nothing written: {0}".format(e), failed_clusters=e.failed)
        summaries = dict((n, found[n][1]) for n in run.result["clusters"])

    if p.get("definition") is not None:
        image = write(run, rollout, current, summaries)
        r = run.result
        run.update(up_to_date=up_to_date(r["onboarded"], r["changed"], summaries, r["to_image"]))
        if r["up_to_date"] and p.get("routes"):
            # nothing to release: the routes too, so the status is shown as read here, without a second read
            routes = rollout.report(dict((n, found[n][0]) for n in found), p.get("lane"), routes=True)[1]
            run.update(routes=routes, unreachable_clusters={})
    else:
        image = next((c.get("image") for c in current["spec"]["template"]["spec"]["containers"]
                      if c.get("name") == rollout.container), None)
        run.update(from_image=image, to_image=image)

    r = run.result
    moved = "{0} {1} -> {2}".format(p["name"], r["from_image"], r["to_image"]) if r["image_changed"] \
        else "{0} stays on {1}".format(p["name"], r["to_image"])
    target = p.get("wait_for") or "none"
    if target == "none" or run.check_mode:
        if summaries:
            run.update(rollouts=summaries, fleet=fleet_summary(summaries))
        return run.update(message=moved + ("; " + r["fleet"]["message"] if summaries else ""))
    wait(run, rollout, moved, target, image)


def wait(run, rollout, moved, target, image):
    """Watch the members until each is at ``target`` with ``image``; fail naming the others."""
    p = run.params
    started = time.monotonic()
    timeout = p.get("wait_timeout") or 300
    names = _placement(rollout, p.get("clusters"), timeout)
    run.update(clusters=names)
    # A rollback starts from aborted or degraded members: only time decides it failed.
    latest, pending, bad = rollout.wait(names, lambda _n, s: reached(s, target, image),
                                        max(1, timeout - (time.monotonic() - started)),
                                        fail_on_degraded=not p.get("rollback"))
    if p.get("rollback") and not pending:
        bad = {}
    run.update(rollouts=latest, fleet=fleet_summary(latest), waited=round(time.monotonic() - started, 1))
    if rollout.nudged:
        run.update(nudged=dict(rollout.nudged))
    for warning in rollout.watch_warnings():
        run.warn(warning)
    if bad:
        run.fail("{0}; degraded: {1}".format(moved, listing(bad)))
    if pending:
        late = dict((n, latest[n]) for n in pending if n in latest)
        msg = "{0}; after {1}s not at {2}: {3}{4}".format(moved, timeout, target.replace("_", " "), describe(late),
                                                          _unobserved(late))
        if rollout.nudged:
            msg += "; " + " ".join(rollout.nudged[n] for n in sorted(rollout.nudged))
        run.fail(msg)
    run.update(message="{0}; {1}".format(moved, run.result["fleet"]["message"]))


def observe(run):
    """release_info: each member's Rollout and live routes, every member that answers, the others named."""
    p = run.params
    rollout = FleetRollout(run.fleet, p["name"], p["namespace"], container=p.get("container"))
    names = rollout.clusters(p.get("clusters"))
    seen, failed = rollout.observe(names, p.get("lane"))
    problem = rollout.missing_container(dict((n, seen[n]["object"]) for n in seen))
    if problem:
        raise InputError(problem, field="container")
    rollouts = dict((n, seen[n]["rollout"]) for n in names if n in seen)
    summary = fleet_summary(rollouts, unreachable=failed)
    run.update(clusters=list(names), rollouts=rollouts, routes=dict((n, seen[n]["routes"]) for n in names if n in seen),
               fleet=summary, unreachable_clusters=failed, message=summary["message"])
