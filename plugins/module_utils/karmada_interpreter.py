# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ResourceInterpreterCustomizations that let Karmada carry Argo Rollouts and Istio objects.

Karmada (v1.14) has no interpreter for ``argoproj.io/v1alpha1`` ``Rollout``: without one
it cannot divide replicas (every member gets the full ``spec.replicas``). And Karmada
re-applies its template over member objects, keeping only what a Retain interpreter
keeps, so what the Argo Rollouts controller writes in each member (VirtualService
weights and managed routes, DestinationRule and Service pod-template hashes) would be
reverted. The Lua scripts in ``lua/`` (one file per kind and operation, each a whole
script as Karmada runs it) fix both. They run in Karmada's gopher-lua (Lua 5.1), with
the functions Karmada calls:

- replicaResource ``GetReplicas(obj)``, replicaRevision ``ReviseReplica(obj, replicas)``,
- statusReflection ``ReflectStatus(observedObj)``, statusAggregation
  ``AggregateStatus(desiredObj, statusItems)``, healthInterpretation
  ``InterpretHealth(observedObj)``, dependencyInterpretation ``GetDependencies(desiredObj)``,
- retention ``Retain(desiredObj, observedObj)``.

Rules the scripts keep, because of how Karmada converts Lua tables back to JSON: an
empty table becomes ``[]`` and is dropped unless the same path was empty in the input
objects, so the scripts never return a new empty table; arrays are 1-based; no returned
object carries ``managedFields`` (Karmada v1.14 converts a result by dotted field paths,
which keys such as ``f:app.kubernetes.io/name`` break).

The scripts are data: the module's process does not get them (AnsiballZ ships only the
Python it imports), so the action plugin reads them on the controller
(:func:`read_scripts`) and hands them to the module as ``lua_scripts``.

Only one customization per target kind and operation may exist in Karmada (its
webhook refuses a second), and a customization replaces the built-in interpreter for
that operation: the Service retention therefore also keeps what Karmada's built-in one
keeps (clusterIP, clusterIPs, healthCheckNodePort).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import re

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError

RIC_API_VERSION = "config.karmada.io/v1alpha1"
RIC_KIND = "ResourceInterpreterCustomization"
NAME_PREFIX = "multicluster-canary-"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "multicluster.canary"
ISTIO_GROUP = "networking.istio.io"
# Every version Istio 1.2x serves; Karmada matches a customization on apiVersion and
# kind exactly, and a template is interpreted at the version Karmada's detector reads
# (the group's preferred one), so the customization is installed for each.
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")
# Istio API versions as the option istio_api_versions names them.
ISTIO_VERSION_RE = re.compile(r"^v[0-9]+((alpha|beta)[0-9]+)?$")
# The version the Rollout dependency script names Istio objects at unless told otherwise.
DEFAULT_DEPENDENCY_VERSION = "v1"

KINDS = ("rollout", "service", "virtualservice", "destinationrule")

LUA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lua")
# The script of each kind and operation, by file name in LUA_DIR.
SCRIPT_FILES = {
    "rollout": (
        ("replicaResource", "rollout_replica_resource.lua"),
        ("replicaRevision", "rollout_replica_revision.lua"),
        ("statusReflection", "rollout_status_reflection.lua"),
        ("statusAggregation", "rollout_status_aggregation.lua"),
        ("healthInterpretation", "rollout_health.lua"),
        ("dependencyInterpretation", "rollout_dependencies.lua"),
        ("retention", "rollout_retention.lua"),
    ),
    "service": (("retention", "service_retention.lua"),),
    "virtualservice": (("retention", "virtualservice_retention.lua"),),
    "destinationrule": (("retention", "destinationrule_retention.lua"),),
}
# Operations that decide how Karmada divides replicas: when they change, bindings built without
# them must be built again (see interpreter_runner).
REPLICA_OPERATIONS = ("replicaResource", "replicaRevision")


def script_names():
    """Every script file the customizations use."""
    return sorted(set(f for scripts in SCRIPT_FILES.values() for _op, f in scripts))


def read_scripts(directory=LUA_DIR):
    """{file name: script text} of every script, read from ``directory`` (on the controller)."""
    out = {}
    for name in script_names():
        with open(os.path.join(directory, name), "rb") as f:
            out[name] = f.read().decode("utf-8")
    return out


def _script(scripts, name):
    try:
        return scripts[name]
    except (KeyError, TypeError):
        raise InputError("lua_scripts: the script {0} is missing; the module gets its scripts from its action plugin "
                         "(run it as a task, multicluster.canary.karmada_interpreter)".format(name), "lua_scripts")


def dependency_prelude(istio_version):
    """What goes before the dependency script for an Istio whose first version is not v1: one local binding."""
    if istio_version == DEFAULT_DEPENDENCY_VERSION:
        return ""
    return 'local ISTIO_API_VERSION = "{0}/{1}"\n'.format(ISTIO_GROUP, istio_version)


def customizations_of(kind, scripts, istio_version=DEFAULT_DEPENDENCY_VERSION):
    """{operation: {"luaScript": text}} of one kind, from the script files' texts."""
    out = {}
    for operation, name in SCRIPT_FILES[kind]:
        text = _script(scripts, name)
        if operation == "dependencyInterpretation":
            text = dependency_prelude(istio_version) + text
        out[operation] = {"luaScript": text}
    return out


def customization(name, api_version, kind, rules):
    return {
        "apiVersion": RIC_API_VERSION,
        "kind": RIC_KIND,
        "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}},
        "spec": {"target": {"apiVersion": api_version, "kind": kind}, "customizations": copy.deepcopy(rules)},
    }


def build_customizations(scripts, kinds=None, istio_versions=ISTIO_VERSIONS):
    """The customizations for ``kinds`` (default: all of KINDS), one per target apiVersion/kind.

    ``scripts`` is :func:`read_scripts`'s ``{file name: text}``. Raises InputError naming the option
    at fault before anything is built.
    """
    kinds = list(kinds or KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InputError("kinds: unknown {0}; choose from {1}".format(", ".join(unknown), ", ".join(KINDS)), "kinds")
    istio_versions = list(istio_versions or ISTIO_VERSIONS)
    bad = [v for v in istio_versions if not isinstance(v, str) or not ISTIO_VERSION_RE.match(v)]
    if bad:
        raise InputError("istio_api_versions: {0} is not an API version of {1} (v1, v1beta1, v1alpha3)".format(
            ", ".join(repr(v) for v in bad), ISTIO_GROUP), "istio_api_versions")
    out = []
    if "rollout" in kinds:
        out.append(customization(NAME_PREFIX + "rollout", "argoproj.io/v1alpha1", "Rollout",
                                 customizations_of("rollout", scripts, istio_versions[0])))
    if "service" in kinds:
        out.append(customization(NAME_PREFIX + "service", "v1", "Service", customizations_of("service", scripts)))
    for version in istio_versions:
        api_version = "{0}/{1}".format(ISTIO_GROUP, version)
        for k, kind_name in (("virtualservice", "VirtualService"), ("destinationrule", "DestinationRule")):
            if k in kinds:
                out.append(customization(NAME_PREFIX + k + "-" + version, api_version, kind_name,
                                         customizations_of(k, scripts)))
    return out


def conflicts(desired, existing):
    """Existing customizations, not ours by name, that target the same kind with an operation we set.

    Karmada's webhook refuses a second customization for one target and operation;
    this says which one is in the way before anything is written.
    """
    ours = set(c["metadata"]["name"] for c in desired)
    found = []
    for want in desired:
        target = want["spec"]["target"]
        for have in existing:
            name = have.get("metadata", {}).get("name")
            if name in ours:
                continue
            spec = have.get("spec") or {}
            if spec.get("target") != target:
                continue
            overlap = sorted(set(want["spec"]["customizations"]) & set(spec.get("customizations") or {}))
            if overlap:
                found.append("{0} already customizes {1} {2} ({3})".format(
                    name, target["apiVersion"], target["kind"], ", ".join(overlap)))
    return found
