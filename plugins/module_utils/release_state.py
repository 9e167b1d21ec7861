# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release state of an app's Rollout template: which image runs, which ran before, where to go.

Plain functions on dicts (no I/O). The state lives on the Rollout template in
Karmada, in two annotations the collection owns:

``multicluster.canary/previous-image``
    the image that was stable before the release now on the template: what a
    rollback goes back to.
``multicluster.canary/rolled-back-from``
    the image a rollback left (for status and audit).
``multicluster.canary/onboarded``
    a digest of everything onboarding last wrote for the app (its catalogue entry as rendered,
    the released image left out): written only by onboarding's write of the template, the
    Rollout being the last object onboarding writes; a release that finds it equal to the
    catalogue's, and nothing to release, has nothing to onboard either.

A rollback does not swap them: after it the template's image *is* the previous
image, so a second rollback finds nothing to do instead of releasing the bad
image again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError

PREVIOUS_IMAGE = "multicluster.canary/previous-image"
ROLLED_BACK_FROM = "multicluster.canary/rolled-back-from"
ONBOARDED = "multicluster.canary/onboarded"

# The reference grammar of the OCI distribution spec (github.com/distribution/reference):
# [domain[:port]/]path[:tag][@digest], path components lower case.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[_.]|__|[-]+)"
_PATH_COMPONENT = _ALNUM + r"(?:" + _SEPARATOR + _ALNUM + r")*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = (r"(?:" + _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*|\[[a-fA-F0-9:]+\])"
           r"(?::[0-9]+)?")
_NAME = r"(?:" + _DOMAIN + r"/)?" + _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(r"^(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?$")
NAME_MAX = 255

WAIT_TARGETS = ("none", "image", "first_pause", "healthy")


class ReleaseError(InputError):
    """Bad input or an impossible request; the message names the field."""


def check_image(image, field="image"):
    """Raise ReleaseError naming ``field`` unless ``image`` is an image reference."""
    if not isinstance(image, str) or not image:
        raise ReleaseError("{0}: an image reference is required, got {1!r}".format(field, image))
    match = _REFERENCE.match(image)
    if not match:
        raise ReleaseError(
            "{0}: {1!r} is not an image reference ([registry[:port]/]name[:tag][@digest], "
            "name in lower case, e.g. ruoyi/ruoyi-vue:1.1.0)".format(field, image))
    if len(match.group(1)) > NAME_MAX:
        raise ReleaseError("{0}: the repository name of {1!r} is longer than {2} characters".format(
            field, image, NAME_MAX))
    return image


def _containers(rollout):
    return (((rollout or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []


def pick_container(rollout, container=None, field="container"):
    """The name of the app's container: ``container`` if given, else the one named after the
    Rollout, else the only one. Raises ReleaseError naming ``field`` otherwise."""
    names = [c.get("name") for c in _containers(rollout)]
    if not names:
        raise ReleaseError("the Rollout {0} has no containers".format(
            ((rollout or {}).get("metadata") or {}).get("name")))
    if container:
        if container not in names:
            raise ReleaseError("{0}: no container {1!r} in the Rollout (containers: {2})".format(
                field, container, ", ".join(names)))
        return container
    own = ((rollout.get("metadata") or {}).get("name"))
    if own in names:
        return own
    if len(names) == 1:
        return names[0]
    raise ReleaseError("{0}: the Rollout has several containers ({1}) and none is named after it; "
                       "say which one runs the app".format(field, ", ".join(names)))


def image_of(rollout, container):
    for c in _containers(rollout):
        if c.get("name") == container:
            return c.get("image")
    return None


def annotations(rollout):
    return dict(((rollout or {}).get("metadata") or {}).get("annotations") or {})


def plan(current, definition, container=None, image=None, rollback=False, stable_image=None):
    """What to write, as a dict.

    ``current`` is the template in Karmada (None when it does not exist yet),
    ``definition`` the Rollout as the catalogue describes it, ``image`` the
    requested image (None: keep the template's, or the definition's on creation),
    ``rollback`` go back to the recorded previous image (or to ``image``),
    ``stable_image`` the image every member runs as stable (None when unknown or
    not the same everywhere): a release started over an unfinished one records
    the stable image as previous, not the unfinished one.

    Only onboarding's write (no ``image``, no ``rollback``) records the definition's
    onboarding digest (annotation ``multicluster.canary/onboarded``); a release or a
    rollback keeps the template's, since it writes the Rollout but not the app's other objects.

    Returns ``{"object", "container", "from_image", "to_image", "previous_image",
    "image_changed", "onboarded"}``; ``object`` is ``definition`` with the image and the
    annotations set, ready to apply; ``onboarded`` says whether the template's digest is the
    definition's (the app's objects are as the catalogue describes them, as last onboarded).
    """
    if image is not None:
        check_image(image)
    container = pick_container(definition, container)
    if current is not None and container not in [c.get("name") for c in _containers(current)]:
        raise ReleaseError("container: the Rollout template in Karmada has no container {0!r}".format(container))
    definition_image = image_of(definition, container)
    current_image = image_of(current, container) if current is not None else None
    notes = annotations(current)
    previous = notes.get(PREVIOUS_IMAGE)
    rolled_back_from = notes.get(ROLLED_BACK_FROM)

    if rollback:
        if current is None:
            raise ReleaseError("rollback: the Rollout does not exist in Karmada; nothing to roll back")
        target = image or previous or stable_image
        if not target:
            raise ReleaseError("rollback: no previous image is recorded on the Rollout template and the members "
                               "report no stable image; give the image to go back to")
        check_image(target, "image" if image else "previous image")
        if target != current_image:
            rolled_back_from = current_image
            previous = target
    else:
        target = image or current_image or definition_image
        check_image(target, "image" if image else "image of container {0!r}".format(container))
        if current_image is not None and target != current_image:
            previous = stable_image or current_image
            rolled_back_from = None

    obj = copy.deepcopy(definition)
    for c in _containers(obj):
        if c.get("name") == container:
            c["image"] = target
    meta = obj.setdefault("metadata", {})
    want = dict(meta.get("annotations") or {})
    want.pop(PREVIOUS_IMAGE, None)
    want.pop(ROLLED_BACK_FROM, None)
    digest = want.pop(ONBOARDED, None)
    if image is None and not rollback:
        recorded = digest
    else:
        recorded = notes.get(ONBOARDED)
    if recorded:
        want[ONBOARDED] = recorded
    if previous:
        want[PREVIOUS_IMAGE] = previous
    if rolled_back_from:
        want[ROLLED_BACK_FROM] = rolled_back_from
    if want:
        meta["annotations"] = want
    else:
        meta.pop("annotations", None)
    return {
        "object": obj,
        "container": container,
        "from_image": current_image,
        "to_image": target,
        "previous_image": previous,
        "rolled_back_from": rolled_back_from,
        "image_changed": current_image != target,
        "onboarded": digest is not None and notes.get(ONBOARDED) == digest,
    }


def reached(summary, target, image):
    """Has one member's Rollout (a rollout_status.summarize() result) reached the wait target?"""
    if target == "none":
        return True
    if summary.get("current_image") != image or not summary.get("observed", True):
        return False
    if target == "image":
        return True
    done = summary["phase"] == "Healthy" and summary.get("fully_promoted")
    if target == "healthy":
        return bool(done)
    return bool(done or summary["phase"] == "Paused")


def up_to_date(onboarded, changed, summaries, image):
    """Has a release of ``image`` nothing to write, onboarding included?

    ``onboarded`` and ``changed`` are the plan's (the template records onboarding of the catalogue as it is,
    and the template would not change); ``summaries`` every member's Rollout as read: each must run
    ``image``, Healthy and fully promoted, its latest spec observed. No member read is not up to date.
    """
    return bool(onboarded and not changed and summaries) and all(
        reached(s, "healthy", image) for s in summaries.values())
