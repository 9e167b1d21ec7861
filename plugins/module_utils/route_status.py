# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a Rollout's traffic really goes in one member, from the route objects that member holds.

Pure logic, no I/O: :func:`route_refs` says which objects to read (the VirtualServices or
HTTPRoutes named in the Rollout's ``trafficRouting``), :func:`member_routes` evaluates the objects
read with Istio's (or the Gateway API's) matching rules and reports, as a user would check it:

* plain traffic (no header): the share that reaches the stable and the canary version;
* the canary lane: where a request with the lane header goes, and (for a mesh route) where a
  caller with the lane's source labels goes;
* each header route the Rollout manages (``managedRoutes``): present or absent. Argo Rollouts
  removes its managed routes when the canary has no pods, so such a route may well be gone.

Nothing is inferred from the Rollout's step: a member whose route was edited by hand shows what
the edit says.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.route_eval import evaluate, evaluate_http_route
from ansible_collections.multicluster.canary.plugins.module_utils.route_options import fqdn

GATEWAY_API_PLUGIN = "argoproj-labs/gatewayAPI"
VIRTUAL_SERVICE = "VirtualService"
HTTP_ROUTE = "HTTPRoute"


def _canary(rollout):
    return (((rollout or {}).get("spec") or {}).get("strategy") or {}).get("canary") or {}


def _split(name, namespace):
    """Argo Rollouts' ``name`` or ``name.namespace`` of a VirtualService -> (namespace, name)."""
    if "." in name:
        short, ns = name.split(".", 1)
        return ns, short
    return namespace, name


def route_refs(rollout):
    """The route objects the Rollout's traffic routing names: ``[{kind, namespace, name}]``, in order."""
    namespace = ((rollout or {}).get("metadata") or {}).get("namespace")
    routing = _canary(rollout).get("trafficRouting") or {}
    refs = []
    istio = routing.get("istio") or {}
    services = list(istio.get("virtualServices") or [])
    if istio.get("virtualService"):
        services.insert(0, istio["virtualService"])
    for vs in services:
        if vs.get("name"):
            ns, name = _split(vs["name"], namespace)
            refs.append({"kind": VIRTUAL_SERVICE, "namespace": ns, "name": name})
    plugin = (routing.get("plugins") or {}).get(GATEWAY_API_PLUGIN) or {}
    routes = list(plugin.get("httpRoutes") or [])
    if plugin.get("httpRoute"):
        routes.insert(0, {"name": plugin["httpRoute"]})
    for r in routes:
        name = r.get("name") if isinstance(r, dict) else r
        if name:
            refs.append({"kind": HTTP_ROUTE, "namespace": plugin.get("namespace") or namespace, "name": name})
    return refs


def _roles(rollout):
    """What makes a destination the canary or the stable version: service names and DestinationRule subsets."""
    canary = _canary(rollout)
    dr = ((canary.get("trafficRouting") or {}).get("istio") or {}).get("destinationRule") or {}
    return {
        "canary_service": canary.get("canaryService"),
        "stable_service": canary.get("stableService"),
        "canary_subset": dr.get("canarySubsetName"),
        "stable_subset": dr.get("stableSubsetName"),
    }


def classify(dest, roles, namespace):
    """``canary``, ``stable`` or ``other`` for one destination (an Istio destination or a backendRef)."""
    if dest.get("subset") and roles["canary_subset"] and dest["subset"] == roles["canary_subset"]:
        return "canary"
    if dest.get("subset") and roles["stable_subset"] and dest["subset"] == roles["stable_subset"]:
        return "stable"
    host = dest.get("host") or dest.get("name")
    if not host:
        return "other"
    host = fqdn(host, dest.get("namespace") or namespace)
    for role in ("canary", "stable"):
        service = roles[role + "_service"]
        if service and host == fqdn(service, namespace):
            return role
    return "other"


def shares(result, roles, namespace):
    """``{stable, canary, other}`` in percent of the requests, from ``[(destination, weight)]``; None if no route matched."""
    if not result:
        return None
    total = sum(max(0, int(w or 0)) for _d, w in result)
    out = {"stable": 0, "canary": 0, "other": 0}
    if total == 0:
        return out
    for dest, weight in result:
        out[classify(dest, roles, namespace)] += max(0, int(weight or 0))
    # percentages that add up to 100: the largest remainders get the rounding
    exact = dict((k, 100.0 * v / total) for k, v in out.items())
    pct = dict((k, int(v)) for k, v in exact.items())
    for k in sorted(exact, key=lambda k: exact[k] - pct[k], reverse=True)[:100 - sum(pct.values())]:
        pct[k] += 1
    return pct


def describe_share(share, compact=False):
    """``stable 70% / canary 30%`` (``no route`` when nothing matched); ``compact``: ``canary 100%`` when all go one way."""
    if share is None:
        return "no route"
    whole = [k for k in ("stable", "canary", "other") if share[k] == 100]
    if compact and whole:
        return "{0} 100%".format(whole[0])
    parts = ["stable {0}%".format(share["stable"]), "canary {0}%".format(share["canary"])]
    if share["other"]:
        parts.append("other {0}%".format(share["other"]))
    return " / ".join(parts)


def _gateway(obj):
    gateways = (obj.get("spec") or {}).get("gateways") or ["mesh"]
    return None if gateways[0] == "mesh" else gateways[0]


def _managed(rollout):
    return [r.get("name") for r in (_canary(rollout).get("trafficRouting") or {}).get("managedRoutes") or []
            if r.get("name")]


def _route_names(obj):
    """The names of an object's routes (VirtualService ``http``, HTTPRoute ``rules``)."""
    spec = obj.get("spec") or {}
    routes = spec.get("rules") if obj.get("kind") == HTTP_ROUTE else spec.get("http")
    return set(r.get("name") for r in routes or [] if r.get("name"))


def object_routes(obj, rollout, lane):
    """What one route object does with plain traffic and with the lane's requests."""
    namespace = (obj.get("metadata") or {}).get("namespace") or ((rollout.get("metadata") or {}).get("namespace"))
    roles = _roles(rollout)
    lane = lane or {}
    header = {lane["header"]: lane["value"]} if lane.get("header") and lane.get("value") is not None else None
    out = {"kind": obj.get("kind"), "name": (obj.get("metadata") or {}).get("name"), "found": True}
    if obj.get("kind") == HTTP_ROUTE:
        out["plain"] = shares(evaluate_http_route(obj, {}), roles, namespace)
        if header:
            out["lane_header"] = shares(evaluate_http_route(obj, header), roles, namespace)
        return out
    gateway = _gateway(obj)
    out["gateway"] = gateway or "mesh"
    out["plain"] = shares(evaluate(obj, {}, {}, gateway), roles, namespace)
    if header:
        out["lane_header"] = shares(evaluate(obj, header, {}, gateway), roles, namespace)
    if gateway is None and lane.get("source_labels"):
        out["lane_source"] = shares(evaluate(obj, {}, lane["source_labels"], None), roles, namespace)
    return out


def member_routes(rollout, objects, lane=None, errors=None):
    """One member's routes for its Rollout.

    ``objects`` maps ``(kind, namespace, name)`` of each of :func:`route_refs` to the object read
    in the member, or None when the member does not have it; ``errors`` maps the same keys to why
    an object could not be read. Returns ``{objects, managed_routes, text, plain_text}``: per
    object what plain and lane traffic get, each managed route ``present`` or ``absent``, one
    line for humans, and the first object's plain traffic in a few words.
    """
    lane = lane or {}
    errors = errors or {}
    refs = route_refs(rollout)
    found_names = set()
    reports = []
    for ref in refs:
        key = (ref["kind"], ref["namespace"], ref["name"])
        obj = objects.get(key)
        if key in errors:
            reports.append({"kind": ref["kind"], "name": ref["name"], "found": None, "error": errors[key]})
            continue
        if obj is None:
            reports.append({"kind": ref["kind"], "name": ref["name"], "found": False})
            continue
        found_names |= _route_names(obj)
        reports.append(object_routes(obj, rollout, lane))
    unknown = any(r["found"] is None for r in reports)
    managed = dict((name, "present" if name in found_names else ("unknown" if unknown else "absent"))
                   for name in _managed(rollout))
    first = next((r for r in reports if r["found"]), None)
    return {"objects": reports, "managed_routes": managed, "text": describe(reports, managed, lane),
            "plain_text": describe_share(first.get("plain")) if first else "no route object"}


def describe(reports, managed, lane):
    """``VirtualService ruoyi-vue: stable 70% / canary 30%; X-canary: test-user -> canary 100%; ...``"""
    if not reports:
        return "no traffic routing in the Rollout: every ready pod behind its Service takes traffic"
    parts = []
    for r in reports:
        if r["found"] is None:
            parts.append("{0} {1} could not be read ({2})".format(r["kind"], r["name"], r["error"]))
            continue
        if not r["found"]:
            parts.append("{0} {1} not found".format(r["kind"], r["name"]))
            continue
        text = "{0} {1}: {2}".format(r["kind"], r["name"], describe_share(r.get("plain")))
        if "lane_header" in r:
            text += "; {0}: {1} -> {2}".format(lane.get("header"), lane.get("value"), describe_share(r["lane_header"], compact=True))
        if "lane_source" in r:
            text += "; callers {0} -> {1}".format(
                ",".join("{0}={1}".format(k, v) for k, v in sorted(lane["source_labels"].items())),
                describe_share(r["lane_source"], compact=True))
        parts.append(text)
    for name in sorted(managed):
        parts.append("header route {0} {1}".format(name, managed[name]))
    return "; ".join(parts)
