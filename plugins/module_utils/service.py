# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply an object if it needs it: check mode, one rule for ``changed``, and a diff of what we set.

``changed`` is decided by the API server: a server-side apply that changes
nothing writes nothing and keeps the ``resourceVersion``. In check mode the
apply is a server-side dry run and the objects are compared without the
fields the server maintains. The diff shows only the fields we apply, before
and after, never other managers' labels or server defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

VOLATILE_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")


def comparable(obj):
    """The object without status and the metadata the server maintains."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in VOLATILE_METADATA:
        meta.pop(key, None)
    return out


def project(obj, shape):
    """The parts of ``obj`` at the keys ``shape`` has (lists of named items matched by name)."""
    if obj is None:
        return None
    if isinstance(shape, dict) and isinstance(obj, dict):
        return dict((k, project(obj.get(k), v)) for k, v in shape.items() if k in obj)
    if isinstance(shape, list) and isinstance(obj, list):
        if all(isinstance(i, dict) and "name" in i for i in shape + obj):
            by_name = dict((i["name"], i) for i in obj)
            return [project(by_name[i["name"]], i) for i in shape if i["name"] in by_name]
        return obj
    return obj


def apply_if_needed(endpoint, kind, obj, check_mode=False, want_diff=False):
    """Server-side apply ``obj`` on ``endpoint``; returns ``(changed, before, after, diff)``.

    ``diff`` is None unless ``want_diff``. In check mode nothing is written.
    """
    meta = obj["metadata"]
    before = endpoint.get(kind, meta.get("namespace"), meta["name"])
    if check_mode and before is None:
        # a prediction: its namespace may not exist yet either (a dry run would fail on that)
        after = obj
    else:
        after = endpoint.apply(kind, obj, dry_run=check_mode)
    if check_mode or before is None:
        changed = before is None or comparable(before) != comparable(after)
    else:
        changed = (before.get("metadata") or {}).get("resourceVersion") != \
            (after.get("metadata") or {}).get("resourceVersion")
    diff = None
    if want_diff:
        diff = {"before": project(before, obj) or {}, "after": project(after, obj) or {}}
    return changed, before, after, diff
