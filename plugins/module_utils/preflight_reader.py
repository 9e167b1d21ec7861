# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the preflight check reads, read once: Karmada first, then every member concurrently.

The I/O half of the check (``preflight`` holds the judging half). Each cluster's API discovery comes in
one request where the server offers aggregated discovery (Kubernetes 1.30 and later; older servers get
one request per API group the check needs), and gives each kind's preferred version, resource name and
scope, so any kind of the manifests can be read. Reads are GETs by name where the check knows the
name, lists where it looks by host (DestinationRules) or by selector (policies, templates).

Secrets are read for their existence and type only: as a server-side Table (name, type, number of
keys), never their data. A read the identity may not make is recorded as ``unknown(...)`` naming the
permission, for the check to report as a warning; nothing here raises for one refused read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from ansible_collections.multicluster.canary.plugins.module_utils import preflight as pf
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import ApiException, FleetError
from ansible_collections.multicluster.canary.plugins.module_utils.preflight_model import (
    CLUSTER_SCOPED,
    CORE_PLURALS,
    KARMADA,
    MANIFESTS,
    api_groups,
    finding,
    load_manifests,
    lkey,
    okey,
    unknown,
)

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
ARGO_DEPLOYMENT = "argo-rollouts"
ARGO_LEASE = "argo-rollouts-controller-lock"


def _message(exc):
    try:
        body = json.loads(exc.body)
        return "{0} ({1})".format(body.get("message", exc.reason), exc.status)
    except Exception:  # pylint: disable=broad-exception-caught  # no JSON body: the reason is enough
        return "{0} ({1})".format(getattr(exc, "reason", exc), getattr(exc, "status", "?"))


def raw_get(endpoint, path, accept, query=None):
    """GET with our own Accept header (a Table, aggregated discovery); JSON, or None when not found."""
    try:
        raw = endpoint._send("GET", endpoint.prefix + path, list((query or {}).items()), {"Accept": accept})
        data = raw.data
        return json.loads(data) if data else None
    except ApiException as e:
        if getattr(e, "status", None) == 404:
            return None
        raise FleetError("{0}: GET {1}: {2}".format(endpoint.name, path, _message(e)), status=getattr(e, "status", None))
    except FleetError:
        raise
    except Exception as e:  # pylint: disable=broad-exception-caught  # refused, TLS, timeouts
        raise FleetError("{0}: GET {1}: {2}".format(endpoint.name, path, e))


# --- discovery -----------------------------------------------------------------------------


def parse_aggregated(apis, core):
    """``{"preferred": {group: version}, "resources": {"group/version": {Kind: {plural, namespaced}}}}``."""
    preferred, resources = {"": "v1"}, {}
    for doc in (core, apis):
        for item in (doc or {}).get("items") or []:
            group = (item.get("metadata") or {}).get("name") or ""
            versions = item.get("versions") or []
            if versions and group:
                preferred[group] = versions[0].get("version")  # listed most preferred first
            for version in versions:
                gv = "{0}/{1}".format(group, version.get("version")) if group else version.get("version")
                kinds = resources.setdefault(gv, {})
                for res in version.get("resources") or []:
                    kind = (res.get("responseKind") or {}).get("kind")
                    if kind and kind not in kinds:
                        kinds[kind] = {"plural": res.get("resource"), "namespaced": res.get("scope") == "Namespaced"}
    return {"preferred": preferred, "resources": resources}


def parse_legacy(group_list, resource_lists):
    """The same from an APIGroupList and ``{"group/version": APIResourceList}``."""
    preferred, resources = {"": "v1"}, {}
    for group in (group_list or {}).get("groups") or []:
        if group.get("preferredVersion"):
            preferred[group["name"]] = group["preferredVersion"].get("version")
    for gv, rl in resource_lists.items():
        kinds = resources.setdefault(gv, {})
        for res in (rl or {}).get("resources") or []:
            if "/" in (res.get("name") or "") or not res.get("kind"):
                continue  # a subresource
            kinds.setdefault(res["kind"], {"plural": res["name"], "namespaced": bool(res.get("namespaced"))})
    return {"preferred": preferred, "resources": resources}


def discover(endpoint, groups):
    """The cluster's APIs; raises FleetError when the cluster does not answer at all."""
    apis = raw_get(endpoint, "/apis", AGGREGATED)
    if (apis or {}).get("kind") == "APIGroupDiscoveryList":
        core = raw_get(endpoint, "/api", AGGREGATED)
        if (core or {}).get("kind") != "APIGroupDiscoveryList":
            core = {"items": [{"metadata": {"name": ""}, "versions": [{"version": "v1", "resources": [
                {"resource": plural, "responseKind": {"kind": kind},
                 "scope": "Cluster" if kind in CLUSTER_SCOPED else "Namespaced"}
                for kind, plural in CORE_PLURALS.items()]}]}]}
        return parse_aggregated(apis, core)
    lists = {"v1": raw_get(endpoint, "/api/v1", "application/json")}
    for group in (apis or {}).get("groups") or []:
        if group.get("name") not in groups:
            continue
        for version in group.get("versions") or []:
            gv = version.get("groupVersion")
            lists[gv] = raw_get(endpoint, "/apis/" + gv, "application/json")
    return parse_legacy(apis, lists)


def path_for(discovery, group, kind, namespace, name=None, version=None):
    """The API path of an object (or collection) at the group's preferred version; None when not served."""
    version = version or (discovery.get("preferred") or {}).get(group if group else "")
    if not version:
        return None, None
    gv = "{0}/{1}".format(group, version) if group else version
    info = (discovery.get("resources") or {}).get(gv, {}).get(kind)
    if not info:
        return None, None
    path = "/apis/" + gv if group else "/api/" + gv
    if info.get("namespaced") and namespace:
        path += "/namespaces/" + namespace
    path += "/" + info["plural"]
    if name:
        path += "/" + name
    return path, info


def _what(verb, info, namespace):
    return "{0} {1}{2}".format(verb, info["plural"], " in " + namespace if namespace and info.get("namespaced") else "")


def secret_summary(doc, namespace, name):
    """A Secret's name, labels and type from a Table (or, from a server that sent the Secret, without its data)."""
    if doc is None:
        return None
    if doc.get("kind") == "Table":
        rows = doc.get("rows") or []
        if not rows:
            return None
        columns = [c.get("name") for c in doc.get("columnDefinitions") or []]
        cells = rows[0].get("cells") or []
        kind = cells[columns.index("Type")] if "Type" in columns and columns.index("Type") < len(cells) else None
        meta = (rows[0].get("object") or {}).get("metadata") or {}
    else:
        kind, meta = doc.get("type"), doc.get("metadata") or {}
    return {"apiVersion": "v1", "kind": "Secret", "type": kind or "",
            "metadata": {"name": meta.get("name", name), "namespace": meta.get("namespace", namespace),
                         "labels": meta.get("labels") or {}}}


def secret_summaries(doc, namespace):
    """The Secrets of a list, each as :func:`secret_summary` has it (from a Table; data never kept)."""
    if doc is None:
        return []
    if doc.get("kind") == "Table":
        return [secret_summary(dict(doc, rows=[row]), namespace, None) for row in doc.get("rows") or []]
    return [secret_summary(item, namespace, None) for item in doc.get("items") or []]


def _lease_age(lease, now):
    renew = ((lease or {}).get("spec") or {}).get("renewTime")
    if not renew:
        return None
    text = renew.rstrip("Z").split(".")[0]
    try:
        when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return (now - when).total_seconds()


# --- reading -------------------------------------------------------------------------------


def discovered(endpoint, groups):
    """``(discovery, error)``: the cluster's APIs, ``unknown(...)`` when refused, or the error when it does not answer."""
    try:
        return discover(endpoint, groups), None
    except FleetError as e:
        if e.status in (401, 403):
            return unknown("discover the APIs (GET /apis)", str(e)), None
        return None, str(e)


def read_cluster(endpoint, plan, groups, argo_namespace=None, now=None, discovery=None):
    """One cluster's state as ``preflight_model`` describes it (``observed[name]``)."""
    state = {"error": None, "discovery": None, "objects": {}, "lists": {}}
    if discovery is None:
        discovery, state["error"] = discovered(endpoint, groups)
    state["discovery"] = discovery
    if state["error"] or not isinstance(discovery, dict) or "preferred" not in discovery:
        return state

    def get(group, kind, namespace, name):
        path, info = path_for(discovery, group, kind, namespace, name)
        if path is None:
            return None  # not served: it cannot exist
        try:
            if group == "" and kind == "Secret":
                return secret_summary(raw_get(endpoint, path, TABLE), namespace, name)
            return endpoint._call("GET", path)
        except FleetError as e:
            return unknown(_what("get", info, namespace), str(e))

    for group, kind, namespace, name in sorted(plan.get("get") or ()):
        state["objects"][okey(group, kind, namespace, name)] = get(group, kind, namespace, name)
    for entry in sorted(plan.get("list") or ()):
        group, kind, namespace = entry[:3]
        selector = entry[3] if len(entry) > 3 else None
        path, info = path_for(discovery, group, kind, namespace)
        key = lkey(group, kind, namespace, selector)
        if path is None:
            state["lists"][key] = []
            continue
        query = {"labelSelector": selector} if selector else None
        try:
            if group == "" and kind == "Secret":
                state["lists"][key] = secret_summaries(raw_get(endpoint, path, TABLE, query), namespace)
            else:
                found = endpoint._call("GET", path, query=query)
                state["lists"][key] = (found or {}).get("items") or []
        except FleetError as e:
            state["lists"][key] = unknown(_what("list", info, namespace), str(e))
    if argo_namespace and plan.get("argo"):
        state["argo"] = {"namespace": argo_namespace,
                         "deployment": get("apps", "Deployment", argo_namespace, ARGO_DEPLOYMENT),
                         "lease": get("coordination.k8s.io", "Lease", argo_namespace, ARGO_LEASE)}
        lease = state["argo"]["lease"]
        if isinstance(lease, dict) and "spec" in lease:
            lease["age_seconds"] = _lease_age(
                lease, now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None))
    return state


def groups_of(plan, extra=()):
    return set(g for g, _k, _n, _x in plan.get("get") or ()) | set(e[0] for e in plan.get("list") or ()) | set(extra)


def read_karmada(fleet, plan, discovery=None):
    return read_cluster(fleet.control, plan, groups_of(plan), discovery=discovery)


def read_members(fleet, members, plan, argo_namespace):
    """Every member's state, read concurrently (one thread per member)."""
    groups = groups_of(plan, ("apps", "coordination.k8s.io", "argoproj.io", "networking.istio.io",
                              "gateway.networking.k8s.io"))
    results = fleet.run(members, lambda endpoint: read_cluster(endpoint, plan, groups, argo_namespace))
    out = {}
    for name, (ok, value) in results.items():
        out[name] = value if ok else {"error": value, "discovery": None, "objects": {}, "lists": {}}
    return out


# --- the user's YAML -----------------------------------------------------------------------

MANIFEST_SUFFIXES = (".yml", ".yaml", ".json")


def load_files(path):
    """``(items, problems, files)``: ``(source, object)`` for every YAML document of a file, or of the files
    of a directory (``.yml``, ``.yaml``, ``.json``; not recursive, as ``kubectl apply -f DIR``), one
    ``(source, message)`` per file that does not parse, and the files read."""
    import yaml  # pylint: disable=import-outside-toplevel  # only the src option needs it

    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if f.endswith(MANIFEST_SUFFIXES) and os.path.isfile(os.path.join(path, f)))
        base = path
    else:
        files, base = [path], os.path.dirname(path)
    items, problems = [], []
    for name in files:
        label = os.path.relpath(name, base) if base else name
        try:
            with open(name, "r") as handle:
                docs = list(yaml.safe_load_all(handle))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = " line {0}".format(mark.line + 1) if mark is not None else ""
            problems.append((label, "not YAML{0}: {1}".format(where, getattr(e, "problem", None) or e)))
            continue
        except (IOError, OSError, UnicodeDecodeError) as e:
            problems.append((label, "cannot read it: {0}".format(e)))
            continue
        number = 0
        for doc in docs:
            if doc is None:
                continue  # an empty document (a trailing ---, a comment block)
            number += 1
            items.append(("{0}#{1}".format(label, number), doc))
    return items, problems, files


# --- the whole check -----------------------------------------------------------------------


def check_fleet(fleet, items, options, problems=()):
    """Read what the manifests need (Karmada, then the members concurrently) and judge them.

    ``items``: raw manifests (dicts, or ``(source, dict)``); ``options``: namespace, gateway_namespace,
    argo_rollouts_namespace, clusters; ``problems``: ``(source, message)`` of files that did not parse.
    Returns ``(findings, members, observed)``.
    """
    discovery, error = discovered(fleet.control, api_groups(items) | set(pf.KARMADA_DISCOVERY_GROUPS))
    manifests, found = load_manifests(items, options.get("namespace") or "default", discovery)
    found += [finding("error", "manifests", MANIFESTS, source, "", message,
                      "fix the file: kubectl apply would refuse it too", source) for source, message in problems]
    observed = {KARMADA: {"error": error, "discovery": discovery, "objects": {}, "lists": {}}}
    if not error:
        observed[KARMADA] = read_karmada(fleet, pf.karmada_reads(manifests, options), discovery)
    members, scope = pf.members_to_read(manifests, observed, options)
    observed.update(read_members(fleet, members, pf.member_reads(manifests, options),
                                 options.get("argo_rollouts_namespace") or "argo-rollouts"))
    return pf.check(manifests, observed, options, members, found + scope), members, observed
