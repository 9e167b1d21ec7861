# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for one named object in many members at once, with watches, not sleeps.

Each member gets one thread (:meth:`Fleet.run`'s pool) that reads the object (or starts from the
object the caller has just written, as the API server returned it), then watches it from that
resourceVersion, so a change is seen as soon as the member's API server sends it,
not at the next poll. A watch lasts at most ``window`` seconds; then the object is read again
(which also covers a watch that broke off, or a resourceVersion the server no longer has), the
``tick`` hook runs (the caller's periodic check, e.g. a nudge), and a new watch starts.

A caller that reads before it writes can read through the watch instead (:meth:`FleetWaiter.open`): the
watch starts with the object as it is (``sendInitialEvents``) and stays open, and the wait after the write
goes on with it, so reading and waiting cost one request. An API server that refuses such a watch is read
instead.

The caller gives two predicates over the object: ``settled`` (this member is done) and ``bad``
(this member failed). With ``stop_on_bad``, the first bad member ends every member's wait at its
next event, or when its watch ends: a window, or for a watch :meth:`FleetWaiter.open` opened, the time it was
opened for (15 s in rollout_promote; a member that is still moving sends events well before that).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError


INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def _rv(obj):
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def _initial_events_end(bookmark):
    """Whether a BOOKMARK event's object marks the end of a watch's initial events (``sendInitialEvents``)."""
    return ((bookmark.get("metadata") or {}).get("annotations") or {}).get(INITIAL_EVENTS_END) == "true"


def _close(events):
    """End a watch's events, if any (:meth:`Endpoint.watch` is a generator: closing it releases its connection)."""
    close = getattr(events, "close", None)
    if close is not None:
        close()


class Opened(object):
    """One member's watch opened by :meth:`FleetWaiter.open`: the object it started with, and its events after
    that (None once handed to a wait or closed)."""

    def __init__(self, obj, events):
        self.obj = obj
        self.events = events

    def take(self):
        events, self.events = self.events, None
        return events

    def close(self):
        _close(self.take())


class FleetWaiter(object):
    """Wait for one object (kind, namespace, name) in the given members of a fleet."""

    def __init__(self, fleet, k, namespace, name, window=5, clock=time.monotonic):
        self.fleet = fleet
        self.kind = k
        self.namespace = namespace
        self.name = name
        self.window = window
        self.clock = clock
        self.latest = {}    # {member: the last object seen, or None while the member has none}
        self.seen_at = {}   # {member: time.time() when it was seen settled}
        self.watch_errors = {}  # {member: why its last watch failed}: the member was read again instead
        self.stop = threading.Event()

    def _seen(self, member, obj, settled, bad, stop_on_bad):
        """Record one observation; True when this member's wait is over."""
        self.latest[member] = obj
        if obj is None:
            return False
        if settled(member, obj):
            self.seen_at[member] = time.time()
            return True
        if bad(member, obj) and stop_on_bad:
            self.stop.set()
            return True
        # without stop_on_bad a bad member is waited for like any other (a rollback starts from
        # aborted members: only the time limit says it failed)
        return False

    def open_one(self, endpoint, timeout=None):
        """(the object as the member holds it now or None, :class:`Opened` or None): read through a watch that
        stays open ``timeout`` seconds (default: the window). A member that refuses such a watch (an API server
        without the WatchList feature; RBAC without ``watch``) or ends it before saying is read instead, and
        then has no open watch."""
        events = None
        try:
            events = endpoint.watch(self.kind, self.namespace, self.name, None, timeout or self.window)
            for event, item in events:
                if event == "ADDED":
                    return item, Opened(item, events)
                if event == "BOOKMARK" and _initial_events_end(item):
                    _close(events)
                    return None, None  # the initial events ended without the object: there is none
                if event != "BOOKMARK":
                    break
        except FleetError:
            pass
        _close(events)
        return endpoint.get(self.kind, self.namespace, self.name), None

    def open(self, members, timeout=None):
        """{member: (ok, (object or None, :class:`Opened` or None))} from :meth:`open_one` in every member at once;
        each open watch (lasting ``timeout`` seconds) is for :meth:`wait` (``opened``), or for the caller to close."""
        return self.fleet.run(members, lambda endpoint: self.open_one(endpoint, timeout))

    def _one(self, endpoint, settled, bad, deadline, stop_on_bad, tick, start=None, opened=None):
        try:
            self._follow(endpoint, settled, bad, deadline, stop_on_bad, tick, start, opened)
        finally:
            if opened is not None:
                opened.close()

    def _follow(self, endpoint, settled, bad, deadline, stop_on_bad, tick, start, opened):
        member = endpoint.name
        while True:
            if start is not None:
                # the object as a write returned it, as fresh as a read: watch from its resourceVersion
                obj, start = start, None
            elif opened is not None and opened.events is not None:
                obj = opened.obj
            else:
                obj = endpoint.get(self.kind, self.namespace, self.name)
            if self._seen(member, obj, settled, bad, stop_on_bad):
                return
            now = self.clock()
            if self.stop.is_set() or now >= deadline:
                return
            if tick and obj is not None:
                tick(member, obj, now)
            window = min(self.window, deadline - now)
            if obj is None:
                # not there yet (Karmada has not applied it): look again shortly
                self.stop.wait(min(1.0, window))
                continue
            started, events = self.clock(), 0
            stream = opened.take() if opened is not None else None
            # on a watch opened before the write, the versions up to the written one are what came before it
            skip_to = _rv(obj) if stream is not None and _rv(obj) != _rv(opened.obj) else None
            try:
                if stream is None:
                    stream = endpoint.watch(self.kind, self.namespace, self.name, obj["metadata"]["resourceVersion"],
                                            window)
                for event, item in stream:
                    events += 1
                    if event in ("ADDED", "MODIFIED"):
                        if skip_to is not None:
                            if _rv(item) == skip_to:
                                skip_to = None
                        elif self._seen(member, item, settled, bad, stop_on_bad):
                            return
                    elif event == "DELETED":
                        break  # read again: gone (or recreated)
                    elif event == "ERROR":
                        if item.get("code") != 410:  # 410: the resourceVersion is too old; read again at once
                            self.watch_errors[member] = item.get("message") or str(item)
                            events = 0
                        break
                    if self.stop.is_set() or self.clock() >= deadline:
                        return
            except FleetError as e:
                # the watch broke off or is refused (RBAC without `watch`): the caller reports the reason
                self.watch_errors[member] = str(e)
                events = 0
            finally:
                _close(stream)
            # a watch that ended early with nothing to say (refused, broken, or a proxy that does not
            # stream): read again a second after it started (or a window, if shorter), never faster
            if events == 0 and self.clock() - started < window / 2:
                pause = min(1.0, window) - (self.clock() - started)
                self.stop.wait(max(0.0, min(pause, deadline - self.clock())))

    def wait(self, members, settled, bad, timeout, stop_on_bad=True, tick=None, start=None, opened=None):
        """Wait until each member is settled or bad, or ``timeout`` seconds pass.

        ``settled(member, obj)`` and ``bad(member, obj)`` are checked on every version of the object
        seen; ``tick(member, obj, now)`` runs before each watch window. ``start`` maps members to the
        object as a write has just returned it: the wait watches from its resourceVersion without
        reading first. ``opened`` maps members to their watch from :meth:`open`: the wait goes on with it
        (from the version ``start`` gives, when given) and closes it. Returns ``{member: (ok, message)}``
        from :meth:`Fleet.run` (``ok`` false when the member could not be read); what was seen is in
        :attr:`latest` and :attr:`seen_at`.
        """
        deadline = self.clock() + timeout
        self.stop.clear()
        start, opened = start or {}, opened or {}
        return self.fleet.run(members, lambda endpoint: self._one(endpoint, settled, bad, deadline, stop_on_bad, tick,
                                                                  start.get(endpoint.name), opened.get(endpoint.name)))

    def wait_one(self, endpoint, settled, timeout, tick=None):
        """Wait on one endpoint (the control plane, say) until ``settled(name, obj)`` or ``timeout`` seconds pass.

        Returns the last version of the object seen (None when there was none); a watch that fails
        is recorded in :attr:`watch_errors` and the object read again instead; whether it settled is
        ``endpoint.name in self.seen_at``.
        """
        deadline = self.clock() + timeout
        self.stop.clear()
        self._one(endpoint, settled, lambda _n, _o: False, deadline, False, tick)
        return self.latest.get(endpoint.name)
