# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Argo Rollout across the member clusters: where it is placed, what each member holds, waits.

Reads go to each member (never to the Karmada template) concurrently through
:meth:`Fleet.run`; what is reported comes from the members' own objects.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, kind
from ansible_collections.multicluster.canary.plugins.module_utils.rollout_drift import nudge_patch, stuck_unobserved
from ansible_collections.multicluster.canary.plugins.module_utils.route_status import member_routes, route_refs
from ansible_collections.multicluster.canary.plugins.module_utils.waiter import FleetWaiter
from ansible_collections.multicluster.canary.plugins.module_utils.rollout_status import (
    ABORTED,
    DEGRADED,
    container_names,
    position,
    summarize,
)


class RolloutReadError(Exception):
    """Some members could not be read; ``failed`` maps each to its reason."""

    def __init__(self, msg, failed):
        super(RolloutReadError, self).__init__(msg)
        self.failed = failed


class FleetRollout(object):
    """One Rollout (name, namespace) in the members of a fleet."""

    def __init__(self, fleet, name, namespace, container=None):
        self.fleet = fleet
        self.name = name
        self.namespace = namespace
        self.container = container
        # {member: message} of members whose controller missed a spec change and was nudged while waiting
        self.nudged = {}
        # {member: time.time() when the last wait saw it reach its state}
        self.seen_at = {}
        # {member: why a watch failed during the last wait} (it was read every second instead)
        self.watch_errors = {}
        # {member: the Rollout as the last wait last saw it}
        self.latest_objects = {}
        self.stuck_after = 60
        self.rollout_kind = kind("Rollout")
        self.replicaset_kind = kind("ReplicaSet")

    def template(self):
        """The Rollout template in Karmada, or None."""
        return self.fleet.control.get(self.rollout_kind, self.namespace, self.name)

    def clusters(self, requested=None):
        """``requested`` checked against Karmada, else where Karmada placed the Rollout, else every Ready member."""
        if requested:
            return self.fleet.resolve(requested)
        # the binding and the member list are two requests to Karmada: sent together, not one after the other
        with ThreadPoolExecutor(max_workers=2) as pool:
            placement = pool.submit(self.fleet.placement, "Rollout", self.namespace, self.name)
            members = pool.submit(self.fleet.clusters)
            placed, known = placement.result(), members.result()
        if placed:
            return self.fleet.resolve(placed, field="placement of Rollout {0}/{1}".format(self.namespace, self.name),
                                      known=known)
        return self.fleet.resolve(None, known=known)

    def read_one(self, endpoint, with_images=True):
        """(rollout, summary) as one member holds it, or None when the member has no such Rollout."""
        rollout = endpoint.get(self.rollout_kind, self.namespace, self.name)
        if rollout is None:
            return None
        return rollout, self.summary(endpoint, rollout, with_images)

    def summary(self, endpoint, rollout, with_images=True):
        """summarize() of a member's Rollout, the stable image read from its stable ReplicaSet when that is not the
        current one (the image of the current one is in the Rollout)."""
        stable_rs = None
        status = rollout.get("status") or {}
        if with_images and status.get("stableRS") and status.get("stableRS") != status.get("currentPodHash"):
            # Argo names a Rollout's ReplicaSets <rollout>-<pod template hash>
            try:
                stable_rs = endpoint.get(self.replicaset_kind, self.namespace,
                                         "{0}-{1}".format(self.name, status["stableRS"]))
            except FleetError:
                stable_rs = None  # the image is a nicety; RBAC on replicasets is not required
        return summarize(rollout, stable_rs, container=self.container)

    def report(self, rollouts, lane=None, routes=False):
        """({member: summary}, {member: routes}) of Rollouts already read (``{member: rollout}``): each member's
        stable ReplicaSet read for its image and, with ``routes``, its route objects - every member at once."""
        def one(endpoint):
            rollout = rollouts[endpoint.name]
            return (self.summary(endpoint, rollout),
                    self.read_routes(endpoint, rollout, lane) if routes else None)

        results = self.fleet.run(sorted(rollouts), one)
        summaries, found_routes = {}, {}
        for n, (ok, value) in results.items():
            if ok:
                summaries[n], found_routes[n] = value
            else:  # a surprise (read_routes reports what it cannot read): the Rollout as read, no stable image
                summaries[n] = summarize(rollouts[n], None, container=self.container)
                found_routes[n] = member_routes(rollouts[n], {}, lane, dict(
                    ((ref["kind"], ref["namespace"], ref["name"]), value) for ref in route_refs(rollouts[n])))
        return summaries, (found_routes if routes else None)

    def read_partial(self, names, with_images=True):
        """({name: (rollout, summary)}, {name: why not}): every member that could be read, and the others."""
        results = self.fleet.run(names, lambda endpoint: self.read_one(endpoint, with_images))
        found = dict((n, v) for n, (ok, v) in results.items() if ok and v is not None)
        failed = dict((n, v if not ok else "Rollout {0}/{1} not found".format(self.namespace, self.name))
                      for n, (ok, v) in results.items() if not ok or v is None)
        return found, failed

    def read_routes(self, endpoint, rollout, lane=None):
        """What the member's own route objects (those the Rollout names) do with plain and lane traffic.

        A route object the member cannot give (denied, for example) is reported with the reason; it
        does not hide the Rollout read from the same member.
        """
        objects, errors = {}, {}
        for ref in route_refs(rollout):
            key = (ref["kind"], ref["namespace"], ref["name"])
            try:
                objects[key] = endpoint.get(kind(ref["kind"]), ref["namespace"], ref["name"])
            except FleetError as e:
                errors[key] = str(e)
        return member_routes(rollout, objects, lane, errors)

    def missing_container(self, rollouts):
        """With ``container`` set: an error message naming the members whose Rollout (``{member: rollout}``)
        has no such container, else None."""
        if not self.container:
            return None
        missing = dict((n, container_names((r.get("spec") or {}).get("template")))
                       for n, r in rollouts.items()
                       if self.container not in container_names((r.get("spec") or {}).get("template")))
        if not missing:
            return None
        return "container: no container {0!r} in Rollout {1}/{2} in {3}".format(
            self.container, self.namespace, self.name, "; ".join(
                "{0} (containers: {1})".format(n, ", ".join(str(c) for c in missing[n]) or "none")
                for n in sorted(missing)))

    def observe(self, names, lane=None):
        """({name: {"rollout": summary, "routes": member routes}}, {name: why not}): the Rollout and its
        live routes in every member that could be read, and the reason for each other member."""
        def one(endpoint):
            found = self.read_one(endpoint)
            if found is None:
                return None
            return {"rollout": found[1], "routes": self.read_routes(endpoint, found[0], lane), "object": found[0]}

        results = self.fleet.run(names, one)
        seen = dict((n, v) for n, (ok, v) in results.items() if ok and v is not None)
        failed = dict((n, v if not ok else "Rollout {0}/{1} not found".format(self.namespace, self.name))
                      for n, (ok, v) in results.items() if not ok or v is None)
        return seen, failed

    def read(self, names, with_images=True, allow_missing=False):
        """{name: (rollout, summary)}; raises RolloutReadError naming unreachable members and missing Rollouts."""
        return self._found(self.fleet.run(names, lambda endpoint: self.read_one(endpoint, with_images)), allow_missing)

    def open(self, names, timeout=None):
        """Like ``read(names, with_images=False)``, through a watch per member that stays open ``timeout`` seconds
        for :meth:`wait` (``opened``): ``({name: (rollout, summary)}, {name: its open watch})``. A member that
        refuses such a watch is read instead and has none. When this raises (a RolloutReadError naming missing
        Rollouts and unreachable members), every watch is closed."""
        waiter = FleetWaiter(self.fleet, self.rollout_kind, self.namespace, self.name)
        results = waiter.open(names, timeout)
        opened = dict((n, v[1]) for n, (ok, v) in results.items() if ok and v[1] is not None)
        found = None
        try:
            found = self._found(dict((n, (ok, v[0] if ok else v)) for n, (ok, v) in results.items()), False,
                                lambda rollout: (rollout, summarize(rollout, None, container=self.container)))
        finally:
            if found is None:
                for watch in opened.values():
                    watch.close()
        return found, opened

    def _found(self, results, allow_missing, convert=None):
        """{name: value} of ``Fleet.run`` results ({name: (ok, value or None when missing)}), each value passed
        through ``convert``; raises RolloutReadError naming unreachable members and missing Rollouts."""
        errors = dict((n, value) for n, (ok, value) in results.items() if not ok)
        missing = sorted(n for n, (ok, value) in results.items() if ok and value is None)
        if errors or (missing and not allow_missing):
            parts = []
            failed = dict(errors)
            if missing and not allow_missing:
                parts.append("Rollout {0}/{1} not found in: {2}".format(self.namespace, self.name, ", ".join(missing)))
                failed.update((n, "Rollout not found") for n in missing)
            if errors:
                parts.append("cannot read the Rollout in: {0}".format(
                    "; ".join("{0}: {1}".format(n, errors[n]) for n in sorted(errors))))
            raise RolloutReadError("; ".join(parts), failed)
        convert = convert or (lambda value: value)
        return dict((n, convert(value)) for n, (ok, value) in results.items() if value is not None)

    def summaries(self, names, with_images=True):
        found = self.read(names, with_images=with_images)
        return dict((n, found[n][1]) for n in names)

    def nudge_if_stuck(self, seen, name, summary, now):
        """Nudge a member whose controller has not observed the spec for ``stuck_after`` seconds while
        paused or idle (a metadata-only patch that makes it reconcile); once per member and wait."""
        key = (summary.get("generation"), summary.get("observed_generation"))
        if name not in seen or seen[name][0] != key:
            seen[name] = (key, now)
        verdict = stuck_unobserved(summary, now - seen[name][1], threshold=self.stuck_after, cluster=name)
        if not verdict["stuck"] or name in self.nudged:
            return
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self.fleet.member(name).patch(self.rollout_kind, self.namespace, self.name, nudge_patch(stamp))
            self.nudged[name] = verdict["message"] + " Nudged at {0}.".format(stamp)
        except FleetError as e:
            self.nudged[name] = verdict["message"] + " The nudge failed: {0}".format(e)

    def wait(self, names, settled, timeout, fail_on_degraded=True, is_bad=None, start=None, opened=None):
        """Watch the members until ``settled(name, summary)`` holds for each, or one is bad, or time runs out.

        One watch per member (:class:`FleetWaiter`), so a member reaching its state is seen as soon as
        its API server sends the change. A member that does not hold the Rollout yet (Karmada has not
        applied it) is pending. ``is_bad(summary)`` (default: Degraded or Aborted) marks a failed member;
        with ``fail_on_degraded`` the wait ends at the first one. A member whose controller has not
        observed the latest spec for a minute while paused or idle is nudged once. ``start``: {member: the
        Rollout as a write has just returned it}, watched from without reading first; ``opened``: {member: its
        watch from :meth:`open`}, which the wait goes on with and closes (:meth:`FleetWaiter.wait`).
        Returns ``(summaries, pending, bad)``: the last summaries seen, the names not settled, and
        ``{name: position}`` of bad members; raises RolloutReadError naming members that cannot be read.
        """
        is_bad = is_bad or (lambda s: s["phase"] in (DEGRADED, ABORTED))
        waiter = FleetWaiter(self.fleet, self.rollout_kind, self.namespace, self.name)
        seen = {}

        def summary(obj):
            return summarize(obj, None, container=self.container)

        def tick(name, obj, now):
            self.nudge_if_stuck(seen, name, summary(obj), now)

        results = waiter.wait(names, lambda n, o: settled(n, summary(o)), lambda _n, o: is_bad(summary(o)),
                              timeout, stop_on_bad=fail_on_degraded, tick=tick, start=start, opened=opened)
        errors = dict((n, v) for n, (ok, v) in results.items() if not ok)
        if errors:
            raise RolloutReadError("cannot read the Rollout in: {0}".format(
                "; ".join("{0}: {1}".format(n, errors[n]) for n in sorted(errors))), errors)
        self.latest_objects = dict((n, o) for n, o in waiter.latest.items() if o is not None)
        latest = dict((n, summary(o)) for n, o in self.latest_objects.items())
        self.seen_at = dict(waiter.seen_at)
        self.watch_errors = dict(waiter.watch_errors)
        pending = set(n for n in names if n not in latest or not settled(n, latest[n]))
        bad = dict((n, position(s)) for n, s in latest.items() if is_bad(s))
        return latest, pending, bad

    def watch_warnings(self):
        """One warning per member whose watch failed during the last wait (it was read every second instead)."""
        return ["{0}: the wait could not watch the Rollout and read it every second instead ({1}); "
                "grant `watch` on rollouts in the member (docs/rbac.md)".format(n, self.watch_errors[n])
                for n in sorted(self.watch_errors)]
