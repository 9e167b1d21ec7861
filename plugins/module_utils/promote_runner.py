# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rollout_promote's run: read every member, check, patch as the Argo Rollouts CLI does, wait.

Every member is read and checked before anything is written; a verb with nothing to do in a
member sends nothing there. The patches go to each member's own Rollout (the controller in a
member acts only on its own Rollout), never to the Karmada template.

Requests are few and none is repeated: with ``wait``, a member's Rollout is read through a watch
that stays open (the object as it is, then its changes), the patch is sent, and the wait goes on
with that watch from the patch's own version (no read before the wait, none after it: it ends on
the event that settles it); then the stable ReplicaSet (for its image) and, with ``routes``, the
route objects are read once, after the wait. Without ``wait`` (or in check mode) the Rollout is
read with a GET. Members are handled at once, so the run costs about one member's requests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, kind
from ansible_collections.multicluster.canary.plugins.module_utils.rollout_status import (
    ABORTED,
    DEGRADED,
    describe,
    fleet_summary,
    gate,
    patches,
    reached_next_pause,
    split_from_step,
    unified_patch,
)
from ansible_collections.multicluster.canary.plugins.module_utils.rollouts import FleetRollout, RolloutReadError
from ansible_collections.multicluster.canary.plugins.module_utils.runner import listing, split

VERBS = {
    "promote": "promoted",
    "promote_full": "fully promoted",
    "abort": "aborted",
    "retry": "retried",
    "pause": "paused",
    "resume": "resumed",
}
NOT_FOUND = 404
# Seconds the watch that reads each member stays open (at most wait_timeout): the checks and the patches, then the
# wait's first window, on it.
OPEN_FOR = 15


def send(endpoint, name, namespace, patch_list, dry_run):
    """Send one member's patches as the CLI does (status subresource first).

    Returns (what was sent, the Rollout as the API server returned it after the last patch).
    """
    rollout_kind = kind("Rollout")
    sent, returned = [], None
    for subresource, patch in patch_list:
        try:
            returned = endpoint.patch(rollout_kind, namespace, name, patch, subresource=subresource, dry_run=dry_run)
            sent.append({"subresource": subresource, "patch": patch})
        except FleetError as e:
            if subresource != "status" or e.status != NOT_FOUND:
                raise
            # no status subresource (Argo Rollouts < v0.10): one patch of the whole object
            whole = unified_patch(patch_list)
            returned = endpoint.patch(rollout_kind, namespace, name, whole, dry_run=dry_run)
            return [{"subresource": None, "patch": whole}], returned
    return sent, returned


class Promotion(object):
    """One rollout_promote run: its Rollout in the members, what was sent, what was seen."""

    def __init__(self, run):
        self.run = run
        self.p = run.params
        self.rollout = FleetRollout(run.fleet, self.p["name"], self.p["namespace"], container=self.p.get("container"))
        self.opened = {}  # {member: its watch opened by the first read, for the wait}

    def read(self, names, context, with_images=True, watch=False):
        """{name: (rollout, summary)}, or fail naming unreachable members and missing Rollouts. With ``watch``
        (no stable images) each member is read through a watch kept for the wait (:attr:`opened`)."""
        try:
            if watch:
                found, self.opened = self.rollout.open(names, timeout=min(OPEN_FOR, self.p["wait_timeout"]))
            else:
                found = self.rollout.read(names, with_images=with_images)
        except RolloutReadError as e:
            self.run.fail(context + str(e), failed_clusters=e.failed)
        self.check_container(dict((n, v[0]) for n, v in found.items()))
        return found

    def check_container(self, objects):
        problem = self.rollout.missing_container(objects)
        if problem:
            raise InputError(problem, field="container")

    def summaries(self, names, context):
        found = self.read(names, context)
        return dict((n, found[n][1]) for n in names)

    def report(self, objects, message):
        """The result of a run that went well: ``objects`` ({member: its Rollout as last read or watched})
        with each member's stable image and, with ``routes``, its routes read now; ``message`` gets the
        fleet's position appended."""
        after, routes = self.rollout.report(objects, self.p.get("lane"), routes=self.p.get("routes"))
        summary = fleet_summary(after)
        self.run.update(rollouts=after, fleet=summary, message="{0}; {1}".format(message, summary["message"]))
        if routes is not None:
            self.run.update(routes=routes)

    def write(self, plan, dry_run):
        """plan: {member: patch list}. Returns ({member: sent}, {member: Rollout returned}, {member: error})."""
        p = self.p
        done, errors = split(self.run.fleet.run(sorted(plan), lambda endpoint: send(
            endpoint, p["name"], p["namespace"], plan[endpoint.name], dry_run)))
        sent = dict((n, v[0]) for n, v in done.items())
        returned = dict((n, v[1]) for n, v in done.items() if isinstance(v[1], dict) and v[1].get("metadata"))
        return sent, returned, errors

    def status(self, names):
        """Every member that answers; the others named instead of failing on them."""
        if self.p.get("routes"):
            seen, failed = self.rollout.observe(names, self.p.get("lane"))
            found = dict((n, (seen[n]["object"], seen[n]["rollout"])) for n in seen)
            self.run.update(routes=dict((n, seen[n]["routes"]) for n in names if n in seen))
        else:
            found, failed = self.rollout.read_partial(names)
        self.check_container(dict((n, v[0]) for n, v in found.items()))
        before = dict((n, found[n][1]) for n in names if n in found)
        summary = fleet_summary(before, unreachable=failed)
        self.run.update(rollouts=before, fleet=summary, unreachable_clusters=failed, message=summary["message"])

    def close(self, keep=()):
        """Close the watches the first read opened, but those of ``keep``."""
        for name in [n for n in self.opened if n not in keep]:
            self.opened.pop(name).close()

    def wait(self, action, before, names, start):
        """Wait until each changed member settles; returns (pending names, {degraded name: where})."""
        def settled(name, summary):
            if action == "abort":
                return summary["phase"] == ABORTED
            return reached_next_pause(before[name], summary)

        self.close(keep=names)
        opened, self.opened = self.opened, {}
        try:
            _latest, pending, bad = self.rollout.wait(
                names, settled, self.p["wait_timeout"], fail_on_degraded=self.p["abort_on_degraded"],
                is_bad=lambda s: s["phase"] == DEGRADED or (s["phase"] == ABORTED and action != "abort"),
                start=start, opened=opened)
        except RolloutReadError as e:
            self.run.fail("while waiting: " + str(e), failed_clusters=e.failed)
        if self.rollout.nudged:
            self.run.update(nudged=dict(self.rollout.nudged))
        for warning in self.rollout.watch_warnings():
            self.run.warn(warning)
        return pending, bad

    def from_step(self, before, from_step, action):
        """The members to promote when the promotion was decided at step ``from_step``: those at it. Members
        past it (a retry, or a timed pause that ended by itself) are left alone and returned as
        ``past_step``; a member before it fails the run before anything is written."""
        if action != "promote":
            raise InputError("from_step: only with action=promote (got action={0})".format(action), field="from_step")
        if from_step < 0:
            raise InputError("from_step: a step index (0 or more), got {0}".format(from_step), field="from_step")
        at, past, behind = split_from_step(before, from_step)
        self.run.update(past_step=past)
        if behind:
            self.run.fail("refusing to promote from step {0}: {1} not there yet ({2}); promote to step {0} first, "
                          "or leave from_step out".format(from_step, ", ".join(behind), describe(
                              dict((n, before[n]) for n in behind))), failed_clusters=dict(
                              (n, "at step {0}".format(before[n].get("step"))) for n in behind))
        return at

    def abort_everywhere(self, names):
        """Abort every member that is not aborted yet; returns (aborted names, {member: error})."""
        now = self.read(names, "degraded, and cannot read to abort: ", with_images=False)
        plan = dict((n, patches(now[n][0], "abort")) for n in names)
        sent, _returned, errors = self.write(dict((n, v) for n, v in plan.items() if v), dry_run=False)
        for n, v in sent.items():
            self.run.result["patches"].setdefault(n, []).extend(v)
        return sorted(sent), errors

    def settle(self, action, verb, before, names, sent, objects, returned):
        """After the writes: wait, abort on a degraded member if asked, say how it ended.

        A member that settled is reported as the watch last saw it; one that was not written to (nothing to
        do there) is read again. A wait that fails reads every member again, to say where each one is.
        """
        p = self.p
        start = time.monotonic()
        pending, bad = self.wait(action, before, sorted(sent), returned)
        timing = dict(waited=round(time.monotonic() - start, 1),
                      settled_at=dict((n, round(v, 3)) for n, v in self.rollout.seen_at.items()))
        if bad or pending:
            aborted, errors = [], {}
            if bad and p["abort_on_degraded"]:
                aborted, errors = self.abort_everywhere(names)
            after = self.summaries(names, "cannot read back after the wait: ")
            self.run.update(rollouts=after, fleet=fleet_summary(after), **timing)
            if bad:
                msg = "{0} in {1} cluster(s), then degraded: {2}".format(verb, len(sent), listing(bad))
                if p["abort_on_degraded"]:
                    msg += "; aborted in {0}".format(", ".join(aborted) or "no cluster (all already aborted)")
                if errors:
                    self.run.fail(msg + "; abort failed in {0}".format(listing(errors)), failed_clusters=errors)
                self.run.fail(msg)
            self.run.fail("{0} in {1} cluster(s), but after {2}s not settled: {3}".format(
                verb, len(sent), p["wait_timeout"], describe(dict((n, after[n]) for n in sorted(pending)))))
        final = dict((n, self.rollout.latest_objects[n]) for n in sent if n in self.rollout.latest_objects)
        others = [n for n in names if n not in final]
        if others:
            reread = self.read(others, "cannot read back after the wait: ", with_images=False)
            final.update((n, v[0]) for n, v in reread.items())
        self.run.update(**timing)
        self.report(final, "{0} in {1} cluster(s)".format(verb, len(sent)))


def promote(run):
    """rollout_promote: status, or one verb in every member (checked everywhere first), then an optional wait."""
    action = run.params["action"]
    promotion = Promotion(run)
    names = promotion.rollout.clusters(run.params.get("clusters"))
    run.update(clusters=names)
    if action == "status":
        return promotion.status(names)
    try:
        change(run, promotion, action, names)
    finally:
        promotion.close()


def change(run, promotion, action, names):
    """One verb in every member (checked everywhere first), then an optional wait."""
    # the stable images are read at the end, from the ReplicaSets of the Rollouts as they end up; a wait goes on
    # with the watch that read each member
    found = promotion.read(names, "", with_images=False, watch=run.params["wait"] and not run.check_mode)
    objects = dict((n, found[n][0]) for n in names)
    before = dict((n, found[n][1]) for n in names)
    run.update(rollouts=before, fleet=fleet_summary(before))

    movable = names
    from_step = run.params.get("from_step")
    if from_step is not None:
        movable = promotion.from_step(before, from_step, action)
    ok, gate_message = gate(dict((n, before[n]) for n in movable), action)
    if run.params["require_same_step"] and not ok:
        run.fail(gate_message)
    plan = dict((n, patches(found[n][0], action)) for n in movable)
    plan = dict((n, v) for n, v in plan.items() if v)
    if not plan:
        reason = gate_message if action == "promote" and gate_message.startswith("nothing") else \
            "nothing to do: {0}".format(run.result["fleet"]["message"])
        if from_step is not None and not movable:
            reason = "every cluster is past step {0}, where this promotion was decided: {1}".format(
                from_step, run.result["fleet"]["message"])
        promotion.report(objects, "{0} needs no change in any cluster".format(action))
        return run.update(message="{0} needs no change in any cluster; {1}".format(action, reason))

    sent, returned, errors = promotion.write(plan, dry_run=run.check_mode)
    run.update(patches=sent)
    run.changed(bool(sent))
    if errors:
        run.fail("{0} failed in {1}{2}".format(action, listing(errors), " (sent to {0})".format(
            ", ".join(sorted(sent))) if sent else ""), failed_clusters=errors)
    verb = VERBS[action]
    if run.check_mode:
        promotion.report(objects, "")
        return run.update(message="would be {0} in {1} cluster(s): {2}".format(verb, len(sent), ", ".join(sorted(sent))))
    if not run.params["wait"]:
        # each written member as its API server returned it after the patch; the others as read
        objects.update(returned)
        return promotion.report(objects, "{0} in {1} cluster(s)".format(verb, len(sent)))
    promotion.settle(action, verb, before, names, sent, objects, returned)
