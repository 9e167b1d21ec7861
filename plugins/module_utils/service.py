# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service layer: apply or delete an object if it needs it, with check mode, a diff and one rule for ``changed``.

The rule, for every module:

* nothing is sent when what we send is already there (``same(before, obj)``; by default every
  field we send has that value, and where the server can do a dry run, an apply would leave the
  object as it is: a field we set before and dropped now would still be there otherwise);
* ``changed`` is then the API server's verdict: a server-side apply that changes nothing writes
  nothing and keeps the ``resourceVersion``. In check mode the apply is a server-side dry run and
  the objects are compared without the fields the server maintains; where no dry run is possible
  (a member behind Karmada's cluster proxy), the object we would send is the prediction;
* the diff shows only the fields we send, before and after, never other managers' labels,
  Karmada's annotations or server defaults.

A write refused with 409 Conflict is retried on that status (:func:`retry_on_conflict`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import time
from collections import namedtuple

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError
from ansible_collections.multicluster.canary.plugins.module_utils.objects import comparable, is_subset, project

CONFLICT = 409
NOT_FOUND = 404
CONFLICT_ATTEMPTS = 3

Applied = namedtuple("Applied", ["changed", "before", "after", "diff"])

_UNREAD = object()


def _resource_version(obj):
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def diff_of(before, after, shape, header):
    """One entry of a module's ``diff``: ``before`` and ``after`` at the keys of ``shape``."""
    return {"before": project(before, shape) or {}, "after": project(after, shape) or {},
            "before_header": header, "after_header": header}


def header(obj):
    meta = obj.get("metadata") or {}
    return "{0} {1}".format(obj.get("kind"), "/".join(x for x in (meta.get("namespace"), meta.get("name")) if x))


def _already_there(endpoint, kind, obj, before, same):
    if same is not None:
        return same(before, obj)
    if not is_subset(obj, before):
        return False
    if not endpoint.dry_run_supported:
        return True
    would = endpoint.apply(kind, obj, dry_run=True)
    return comparable(would) == comparable(before)


def _dry_run(endpoint, kind, obj, new):
    """What an apply would leave: the server's dry run where it can do one, else the object we send.

    A new object's namespace may not exist yet either (created by the same run, in check mode not at
    all): the dry run then says 404, and the object we send is the prediction.
    """
    try:
        return endpoint.apply(kind, obj, dry_run=True)
    except FleetError as e:
        if new and e.status == NOT_FOUND:
            return obj
        raise


def apply_if_needed(endpoint, kind, obj, check_mode=False, want_diff=False, before=_UNREAD, same=None, guard=False):
    """Server-side apply ``obj`` on ``endpoint`` unless it is there already; returns :class:`Applied`.

    ``before`` is the object as read (read here when not given). ``same(before, obj)`` replaces the
    default test of "already there" for callers who know better (a planner that built ``obj`` from
    ``before``). With ``guard``, the apply carries ``before``'s resourceVersion, so that a change made
    since the read fails with 409 instead of being overwritten. ``diff`` is None unless ``want_diff``
    and something changed. In check mode nothing is written.
    """
    meta = obj["metadata"]
    if before is _UNREAD:
        before = endpoint.get(kind, meta.get("namespace"), meta["name"])
    if before is not None and _already_there(endpoint, kind, obj, before, same):
        return Applied(False, before, before, None)
    if check_mode:
        after = _dry_run(endpoint, kind, obj, new=before is None)
        changed = before is None or comparable(before) != comparable(after)
    else:
        body = obj
        if guard and _resource_version(before):
            body = copy.deepcopy(obj)
            body["metadata"]["resourceVersion"] = _resource_version(before)
        after = endpoint.apply(kind, body)
        changed = before is None or _resource_version(before) != _resource_version(after)
    diff = diff_of(before, after, obj, header(obj)) if want_diff and changed else None
    return Applied(changed, before, after, diff)


def delete_if_present(endpoint, kind, namespace, name, check_mode=False, want_diff=False):
    """Delete one object if it exists; returns :class:`Applied` (``after`` None). The diff shows all of it."""
    before = endpoint.get(kind, namespace, name)
    if before is None:
        return Applied(False, None, None, None)
    endpoint.delete(kind, namespace, name, dry_run=check_mode)
    diff = None
    if want_diff:
        diff = {"before": comparable(before), "after": {}, "before_header": header(before),
                "after_header": header(before)}
    return Applied(True, before, None, diff)


def retry_on_conflict(attempt, attempts=CONFLICT_ATTEMPTS, pause=0.2, sleep=time.sleep):
    """``attempt(number)`` until it does not fail with 409 Conflict (at most ``attempts`` times).

    Each new attempt must read again what it writes (``number`` > 0 says it is a retry): a conflict
    means someone else (the Argo Rollouts controller, most often) wrote the object since it was read.
    """
    for number in range(attempts):
        try:
            return attempt(number)
        except FleetError as e:
            if e.status != CONFLICT or number == attempts - 1:
                raise
            sleep(pause * (number + 1))
    raise FleetError("no attempt made")  # attempts < 1
