# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comparing Kubernetes objects the way the service layer and the planners need it (pure, no I/O).

What the API server maintains (resourceVersion, managedFields, status...) never counts as a
difference; what we send is compared with what is there; a diff shows only the fields we send.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

VOLATILE_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
                     "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


def comparable(obj):
    """The object without status and the metadata the server maintains ({} for none)."""
    if not obj:
        return {}
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in VOLATILE_METADATA:
        meta.pop(key, None)
    return out


def _by_name(items):
    """{name: item} when every item is a dict with a distinct name, else None."""
    names = [i.get("name") if isinstance(i, dict) else None for i in items]
    if None in names or len(set(names)) != len(names):
        return None
    return dict(zip(names, items))


def project(obj, shape):
    """The parts of ``obj`` at the keys ``shape`` has.

    Lists of uniquely named items are matched by name (the server may order them otherwise),
    other lists of the same length item by item (so that a default the server adds to an item is
    not taken for a difference); any other list is taken whole.
    """
    if obj is None:
        return None
    if isinstance(shape, dict) and isinstance(obj, dict):
        return dict((k, project(obj.get(k), v)) for k, v in shape.items() if k in obj)
    if isinstance(shape, list) and isinstance(obj, list):
        wanted, have = _by_name(shape), _by_name(obj)
        if wanted is not None and have is not None:
            return [project(have[name], item) for name, item in wanted.items() if name in have]
        if len(shape) == len(obj):
            return [project(o, s) for o, s in zip(obj, shape)]
        return obj
    return obj


def is_subset(desired, live):
    """True when every field of ``desired`` has the same value in ``live``.

    Dicts may have extra keys in ``live`` (server defaults, webhook labels); lists
    must have the same length and match element-wise, recursively.
    """
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(k in live and is_subset(v, live[k]) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(is_subset(d, lv) for d, lv in zip(desired, live))
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live or desired == live and type(desired) is type(live)
    return desired == live
