# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""multicluster.canary.app_manifests: an app of the catalogue, checked and rendered (docs in app_manifests.yml).

The I/O edge of module_utils/catalogue.py: it reads the user's manifest file when an app
names one, turns Ansible's containers into plain data, and turns a CatalogueError into an
AnsibleFilterError that names every bad field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.multicluster.canary.plugins.module_utils.catalogue import (
    PREFIX,
    CatalogueError,
    render_app,
)


def _plain(value):
    """Plain dicts, lists, str, int, float, bool and None: Ansible hands filters its own subclasses."""
    if isinstance(value, dict):
        return dict((_plain(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def read_manifest(path, base_dir=None, field="manifest"):
    """The YAML documents of the user's manifest file (relative paths from ``base_dir``, the inventory's directory)."""
    full = os.path.expanduser(path)
    if not os.path.isabs(full):
        full = os.path.join(base_dir or os.getcwd(), full)
    full = os.path.normpath(full)
    try:
        with open(full, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (IOError, OSError) as exc:
        raise AnsibleFilterError("{0}: cannot read {1}: {2}".format(field, full, to_native(exc.strerror or exc)))
    try:
        return full, [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise AnsibleFilterError("{0}: {1} is not YAML: {2}".format(field, full, to_native(exc)))


def app_manifests(apps, app, settings=None):
    """``multicluster_canary_apps | multicluster.canary.app_manifests(app, settings)``."""
    if not isinstance(apps, dict):
        raise AnsibleFilterError("{0}: the catalogue is a mapping of app name to app, got {1}".format(
            PREFIX, type(apps).__name__))
    if app not in apps:
        raise AnsibleFilterError("App {0!r} is not in the catalogue ({1}); known apps: {2}.".format(
            app, PREFIX, ", ".join(sorted(str(a) for a in apps)) or "none"))
    spec = _plain(apps[app])
    settings = _plain(dict(settings or {}))
    if isinstance(spec, dict) and isinstance(spec.get("manifest"), str):
        path, documents = read_manifest(spec["manifest"], settings.get("base_dir"),
                                        "{0}.{1}.manifest".format(PREFIX, app))
        spec["manifest"] = documents
        settings["manifest_path"] = path
    try:
        return render_app(str(app), spec, settings)
    except CatalogueError as exc:
        raise AnsibleFilterError("The catalogue entry of {0} is not valid: {1}".format(app, "; ".join(exc.errors)))


class FilterModule(object):
    def filters(self):
        return {"app_manifests": app_manifests}
