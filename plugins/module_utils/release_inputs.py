# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The answers of a stage playbook (``-e`` on the command line, or an AWX survey), checked.

Pure logic: :func:`check_answers` takes the answers as given and returns them checked and
typed, or raises :class:`InputError` naming every bad answer. AWX sends an optional question
left blank as ``""`` or null: both mean "not given", and the playbook's default applies. The
image reference grammar is checked where the image is used (rollout_release), not here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError

ANSWERS = ("app", "image", "wave", "full", "auto_promote", "force", "bootstrap", "clusters", "from_step")
YES_NO = ("full", "auto_promote", "force", "bootstrap")
# what Ansible's bool filter reads as true; the other accepted words are false
TRUE_WORDS = ("true", "yes", "on", "1")
BOOL_WORDS = TRUE_WORDS + ("false", "no", "off", "0")
WAVE = re.compile(r"^\s*[0-9]+\s*$")


def _json(value):
    return json.dumps(value, default=str)


def given(answers):
    """The answers given: null ones and blank strings (what AWX sends for a question left blank) left out."""
    return dict((k, v) for k, v in (answers or {}).items()
                if v is not None and not (isinstance(v, str) and not v.strip()))


def _app(answers, known_apps, all_allowed):
    app = answers.get("app")
    if isinstance(app, str) and (app in known_apps or (app == "all" and all_allowed)):
        return None
    what = "App '{0}' is not in the catalogue".format(app) if "app" in answers else "no app given"
    return "app: {0} (multicluster_canary_apps in the inventory's group_vars). Known apps: {1}{2}.".format(
        what, ", ".join(known_apps) or "none", ", or all" if all_allowed else "")


def _image(answers):
    if "image" not in answers or isinstance(answers["image"], str):
        return None
    return ("image: {0} is not an image reference (for example ruoyi/ruoyi-vue:1.1.0); "
            "leave it blank for the catalogue's image.").format(_json(answers["image"]))


def _wave(answers):
    if "wave" not in answers:
        return None
    wave = answers["wave"]
    if not isinstance(wave, bool) and isinstance(wave, (int, str)) and WAVE.match(str(wave)) and int(wave) >= 1:
        return None
    return ("wave: {0} is not a wave number (1, 2, ...: the clusters whose multicluster_canary_wave is up to it "
            "are released); leave it blank for 1.").format(_json(wave))


def _from_step(answers):
    if "from_step" not in answers:
        return None
    step = answers["from_step"]
    if not isinstance(step, bool) and isinstance(step, (int, str)) and WAVE.match(str(step)):
        return None
    return ("from_step: {0} is not a step index (0, 1, ...: the step the members were paused at when the promotion "
            "was decided); leave it blank to promote from wherever they are.").format(_json(step))


def _yes_no(answers, name):
    value = answers[name]
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in BOOL_WORDS):
        return None
    return "{0}: {1} is not true or false.".format(name, _json(value))


def _clusters(answers):
    if "clusters" not in answers:
        return None
    value = answers["clusters"]
    if isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(c, str) for c in value)):
        return None
    return ("clusters: {0} is not a list of cluster names (a list, or names separated by commas); "
            "leave it blank for every cluster.").format(_json(value))


def _bool(value):
    return value if isinstance(value, bool) else value.strip().lower() in TRUE_WORDS


def check_answers(answers, known_apps, all_allowed=False):
    """The checked answers: ``{app, image, wave, full, auto_promote, force, bootstrap, clusters, from_step}``.

    ``answers`` maps each name of :data:`ANSWERS` to what was given (None when not); ``known_apps``
    lists the catalogue's apps; ``all_allowed`` accepts ``all`` as the app. What is not given is None
    (``clusters``: []). Raises InputError naming every bad answer (``field``: the first of them).
    """
    known_apps = list(known_apps or [])
    found = given(answers)
    problems = [(name, msg) for name, msg in
                [("app", _app(found, known_apps, all_allowed)), ("image", _image(found)), ("wave", _wave(found))]
                + [(n, _yes_no(found, n)) for n in YES_NO if n in found]
                + [("clusters", _clusters(found)), ("from_step", _from_step(found))] if msg]
    if problems:
        raise InputError("; ".join(msg for _name, msg in problems), field=problems[0][0])
    clusters = found.get("clusters")
    if isinstance(clusters, str):
        clusters = clusters.split(",")
    return {
        "app": found["app"],
        "image": found.get("image"),
        "wave": int(found["wave"]) if "wave" in found else None,
        "full": _bool(found["full"]) if "full" in found else None,
        "auto_promote": _bool(found["auto_promote"]) if "auto_promote" in found else None,
        "force": _bool(found["force"]) if "force" in found else None,
        "bootstrap": _bool(found["bootstrap"]) if "bootstrap" in found else None,
        "clusters": [c.strip() for c in clusters or [] if c.strip()],
        "from_step": int(found["from_step"]) if "from_step" in found else None,
    }
