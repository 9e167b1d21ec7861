# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary routes planned into the objects found in one cluster (pure, no I/O).

:func:`plan` merges checked options (``route_options``) into what one cluster holds (a
VirtualService or HTTPRoute and a DestinationRule) without touching what Argo Rollouts owns, and
says what would change.

Ownership rules (why merging is done route by route): Argo Rollouts, in each member, rewrites
``spec.http[].route[].weight`` of the routes it is told about and inserts its own named routes
(``managedRoutes``) at the top of ``spec.http``; it also adds ``rollouts-pod-template-hash`` to
DestinationRule subsets. In Istio's CRDs ``spec.http`` is an atomic list, so a server-side apply
has to send the whole list: we send the list as found, with only our own named routes replaced.
Our routes are listed in the annotation ``OWNED_ROUTES_ANNOTATION``, so that a route dropped from
the options is removed on the next run, and nobody else's route ever is. Karmada's VirtualService
retention (``lua/virtualservice_retention.lua``) reads the same annotation on the member's copy:
a member-only route we owned at the last sync is one we removed, not one of Argo's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.multicluster.canary.plugins.module_utils.objects import is_subset
from ansible_collections.multicluster.canary.plugins.module_utils.route_options import (
    check_weight,
    destination_key,
    fqdn,
)

ISTIO_GROUP = "networking.istio.io"
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
OWNED_ROUTES_ANNOTATION = "multicluster.canary/owned-routes"
# Labels Argo Rollouts adds to DestinationRule subsets; kept when we rewrite a subset.
ARGO_SUBSET_LABELS = ("rollouts-pod-template-hash",)
ROUTE_KEYS = ("name", "match", "route")  # the keys of an http route that we own


def check_weights(route, field):
    """Problems with the weights of one list of weighted destinations (Istio ``route`` or ``backendRefs``)."""
    errors = []
    weights = [d.get("weight") for d in route]
    if len(route) > 1 or any(w is not None for w in weights):
        for i, w in enumerate(weights):
            check_weight(errors, "{0}[{1}].weight".format(field, i), w if w is not None else 0)
        if not errors and sum(w or 0 for w in weights) != 100:
            errors.append("{0}: weights must sum to 100, got {1} ({2})".format(
                field, sum(w or 0 for w in weights), " + ".join(str(w or 0) for w in weights)))
    return errors


def destination(d):
    """An Istio ``destination`` from a stable/canary option."""
    out = {"host": d["host"]}
    if d.get("subset"):
        out["subset"] = d["subset"]
    if d.get("port") is not None:
        out["port"] = {"number": int(d["port"])}
    return out


def _istio_match(headers, source_labels):
    block = {}
    if headers:
        block["headers"] = copy.deepcopy(headers)
    if source_labels:
        block["sourceLabels"] = dict(source_labels)
    return block


def _find_weight(route, dest, namespace):
    key = destination_key(dest, namespace)
    for entry in route or []:
        if destination_key(entry.get("destination") or {}, namespace) == key:
            return entry.get("weight", 100 if len(route) == 1 else 0)
    return None


def primary_weights(p, old_route):
    """(stable, canary) weights: from canary_weight, else from the route as found (Argo's), else 100/0."""
    if p["canary_weight"] is not None:
        return 100 - p["canary_weight"], p["canary_weight"]
    ns = p["namespace"]
    old = (old_route or {}).get("route") or []
    stable_w = _find_weight(old, p["stable"], ns)
    canary_w = _find_weight(old, p["canary"], ns)
    if canary_w is not None and 0 <= canary_w <= 100:
        return 100 - canary_w, canary_w
    if stable_w is not None and 0 <= stable_w <= 100:
        return stable_w, 100 - stable_w
    return 100, 0


def desired_http_routes(p, existing_by_name=None):
    """Our routes, in order: header routes, lanes, then the primary (weighted) route."""
    existing_by_name = existing_by_name or {}
    stable = destination(p["stable"])
    canary = destination(p["canary"]) if p["canary"] else None
    routes = []
    for r in p["header_routes"]:
        target = canary if r["destination"] == "canary" else stable
        routes.append({"name": r["name"], "match": [_istio_match(r["headers"], r["source_labels"])],
                       "route": [{"destination": copy.deepcopy(target)}]})
    for lane in p["lanes"]:
        # one match block per condition: blocks are ORed, so a request qualifies by header OR by source
        blocks = []
        if lane["headers"]:
            blocks.append(_istio_match(lane["headers"], None))
        if lane["source_labels"]:
            blocks.append(_istio_match(None, lane["source_labels"]))
        routes.append({"name": lane["name"], "match": blocks, "route": [{"destination": copy.deepcopy(canary)}]})
    if canary:
        sw, cw = primary_weights(p, existing_by_name.get(p["route_name"]))
        primary = [{"destination": stable, "weight": sw}, {"destination": canary, "weight": cw}]
    else:
        primary = [{"destination": stable}]
    routes.append({"name": p["route_name"], "route": primary})
    return routes


def owned_routes(obj):
    value = ((obj or {}).get("metadata") or {}).get("annotations", {}) or {}
    value = value.get(OWNED_ROUTES_ANNOTATION, "")
    return [x for x in value.split(",") if x]


def merge_http(existing_http, desired, owned_before=(), managed=()):
    """The full ``spec.http`` list to send.

    Routes we own now or owned before (minus Argo's ``managed``) are taken out,
    and ours are put back as one block where the first of them stood (at the end
    when none stood); every other route keeps its place and its content.
    Within our routes, keys we do not manage (timeout, retries, ...) are kept.
    """
    managed = set(managed)
    ours = set(r["name"] for r in desired) | (set(owned_before) - managed)
    old_by_name = dict((r.get("name"), r) for r in existing_http or [] if r.get("name"))
    kept, anchor = [], None
    for r in existing_http or []:
        if r.get("name") in ours and r.get("name") not in managed:
            if anchor is None:
                anchor = len(kept)
            continue
        kept.append(copy.deepcopy(r))
    block = []
    for d in desired:
        old = old_by_name.get(d["name"]) if d["name"] not in managed else None
        merged = dict((k, copy.deepcopy(v)) for k, v in (old or {}).items() if k not in ROUTE_KEYS)
        merged.update(copy.deepcopy(d))
        block.append(merged)
    if anchor is None:
        anchor = len(kept)
    return kept[:anchor] + block + kept[anchor:]


def shadow_warnings(http, names, field="spec.http"):
    """Warnings for our routes that come after a catch-all route and so can never match."""
    warnings = []
    for i, r in enumerate(http):
        if not r.get("match"):
            for j in range(i + 1, len(http)):
                if http[j].get("name") in names:
                    warnings.append("{f}[{j}] ({mine!r}) can never match: route {f}[{i}] ({other!r}) before it "
                                    "matches every request".format(f=field, j=j, mine=http[j].get("name"), i=i,
                                                                   other=r.get("name")))
            break
    return warnings


def _metadata(p, annotations=None):
    meta = {"name": p["name"], "namespace": p["namespace"]}
    if p["labels"]:
        meta["labels"] = dict(p["labels"])
    if annotations:
        meta["annotations"] = annotations
    return meta


def virtual_service(p, existing=None):
    """The VirtualService to apply: ``existing`` (or nothing) with our hosts, gateways and routes."""
    old_spec = (existing or {}).get("spec") or {}
    old_http = old_spec.get("http") or []
    old_by_name = dict((r.get("name"), r) for r in old_http if r.get("name"))
    desired = desired_http_routes(p, old_by_name)
    spec = copy.deepcopy(old_spec)
    spec["hosts"] = list(p["hosts"])
    if p["gateways"]:
        spec["gateways"] = list(p["gateways"])
    else:
        spec.pop("gateways", None)
    spec["http"] = merge_http(old_http, desired, owned_routes(existing), p["managed_routes"])
    owned = ",".join(r["name"] for r in desired)
    return {
        "apiVersion": "{0}/{1}".format(ISTIO_GROUP, p["api_version"]),
        "kind": "VirtualService",
        "metadata": _metadata(p, {OWNED_ROUTES_ANNOTATION: owned}),
        "spec": spec,
    }


def destination_rule(p, existing=None):
    """The DestinationRule to apply; subsets merged by name, Argo's pod-template-hash label kept."""
    dr = p["destination_rule"]
    spec = copy.deepcopy((existing or {}).get("spec") or {})
    spec["host"] = dr["host"]
    if dr["traffic_policy"] is not None:
        spec["trafficPolicy"] = copy.deepcopy(dr["traffic_policy"])
    subsets = spec.get("subsets") or []
    index = dict((s.get("name"), i) for i, s in enumerate(subsets))
    for want in dr["subsets"]:
        old = subsets[index[want["name"]]] if want["name"] in index else {}
        labels = dict(want["labels"])
        for key in ARGO_SUBSET_LABELS:
            if key in (old.get("labels") or {}) and key not in labels:
                labels[key] = old["labels"][key]
        new = dict((k, copy.deepcopy(v)) for k, v in old.items() if k not in ("name", "labels"))
        new["name"] = want["name"]
        new["labels"] = labels
        if want["traffic_policy"] is not None:
            new["trafficPolicy"] = copy.deepcopy(want["traffic_policy"])
        if want["name"] in index:
            subsets[index[want["name"]]] = new
        else:
            subsets.append(new)
    if subsets:
        spec["subsets"] = subsets
    meta = {"name": dr["name"], "namespace": p["namespace"]}
    if p["labels"]:
        meta["labels"] = dict(p["labels"])
    return {
        "apiVersion": "{0}/{1}".format(ISTIO_GROUP, p["api_version"]),
        "kind": "DestinationRule",
        "metadata": meta,
        "spec": spec,
    }


def parent_refs(p):
    """HTTPRoute parentRefs: given as is, else one per gateway; ``mesh`` attaches to the Service (GAMMA)."""
    if p["parent_refs"] is not None:
        return copy.deepcopy(p["parent_refs"])
    refs = []
    for gw in p["gateways"]:
        if gw == "mesh":
            ref = {"group": "", "kind": "Service", "name": p["hosts"][0]}
            if p["stable"].get("port") is not None:
                ref["port"] = int(p["stable"]["port"])
        elif "/" in gw:
            ns, name = gw.split("/", 1)
            ref = {"name": name, "namespace": ns}
        else:
            ref = {"name": gw}
        refs.append(ref)
    return refs


def _backend(d, weight=None):
    ref = {"name": d["host"], "port": int(d["port"])}
    if weight is not None:
        ref["weight"] = weight
    return ref


def _gateway_api_headers(headers):
    out = []
    for name, cond in headers.items():
        if "exact" in cond:
            out.append({"name": name, "type": "Exact", "value": cond["exact"]})
        else:
            out.append({"name": name, "type": "RegularExpression", "value": cond["regex"]})
    return out


def http_route(p, existing=None):
    """The Gateway API HTTPRoute to apply: header rules first, then the weighted rule."""
    old_spec = (existing or {}).get("spec") or {}
    old_primary = None
    for rule in old_spec.get("rules") or []:
        if not rule.get("matches"):
            old_primary = rule
    canary = p["canary"]
    rules = []
    for r in p["header_routes"]:
        target = canary if r["destination"] == "canary" else p["stable"]
        rules.append({"matches": [{"headers": _gateway_api_headers(r["headers"])}], "backendRefs": [_backend(target)]})
    for lane in p["lanes"]:
        rules.append({"matches": [{"headers": _gateway_api_headers(lane["headers"])}], "backendRefs": [_backend(canary)]})
    if canary:
        old_route = None
        if old_primary:
            old_route = {"route": [{"destination": {"host": b.get("name")}, "weight": b.get("weight", 1)}
                                   for b in old_primary.get("backendRefs") or []]}
        # backendRefs carry no subset: match by Service name only
        q = dict(p, stable=dict(p["stable"], subset=None), canary=dict(canary, subset=None))
        sw, cw = primary_weights(q, old_route)
        rules.append({"backendRefs": [_backend(p["stable"], sw), _backend(canary, cw)]})
    else:
        rules.append({"backendRefs": [_backend(p["stable"])]})
    spec = copy.deepcopy(old_spec)
    spec["parentRefs"] = parent_refs(p)
    hostnames = [h for h in p["hosts"] if h != "*"]
    if hostnames and any(r.get("kind", "Gateway") == "Gateway" for r in spec["parentRefs"]):
        spec["hostnames"] = hostnames
    else:
        spec.pop("hostnames", None)
    spec["rules"] = rules
    return {
        "apiVersion": GATEWAY_API_GROUP + "/v1",
        "kind": "HTTPRoute",
        "metadata": _metadata(p),
        "spec": spec,
    }


def check_subsets(p, managed_dr, namespace_drs):
    """Problems with destinations naming a subset that no DestinationRule for their host defines.

    ``managed_dr`` is the DestinationRule we are about to apply (or None), ``namespace_drs``
    the DestinationRules found in the namespace (ours among them, as it was).
    """
    errors = []
    ns = p["namespace"]
    for role in ("stable", "canary"):
        d = p[role]
        if not d or not d.get("subset"):
            continue
        host = fqdn(d["host"], ns)
        known = set()
        rules = [managed_dr] if managed_dr else []
        rules += [x for x in namespace_drs or []
                  if not managed_dr or x.get("metadata", {}).get("name") != managed_dr["metadata"]["name"]]
        for rule in rules:
            if fqdn((rule.get("spec") or {}).get("host"), rule.get("metadata", {}).get("namespace") or ns) == host:
                known.update(s.get("name") for s in rule["spec"].get("subsets") or [])
        if d["subset"] not in known:
            where = ("destination_rule.subsets ({0})".format(", ".join(sorted(known)) or "none defined")
                     if managed_dr and fqdn(managed_dr["spec"]["host"], ns) == host
                     else "any DestinationRule for host {0} in namespace {1}".format(d["host"], ns))
            errors.append("{0}.subset: subset {1!r} is not defined in {2}".format(role, d["subset"], where))
    return errors


def differs(current, desired):
    """Whether applying desired would change current (only the keys we send count)."""
    if not current:
        return True
    meta = current.get("metadata") or {}
    for key in ("labels", "annotations"):
        want = desired["metadata"].get(key) or {}
        have = meta.get(key) or {}
        if any(have.get(k) != v for k, v in want.items()):
            return True
    if current.get("apiVersion", desired["apiVersion"]).split("/")[0] != desired["apiVersion"].split("/")[0]:
        return True
    if desired.get("kind") == "HTTPRoute":
        # The Gateway API server fills in defaults (parentRefs group and kind, backendRefs kind and
        # weight, a PathPrefix "/" match): only what we send counts.
        return not is_subset(desired["spec"], current.get("spec") or {})
    return (current.get("spec") or {}) != desired["spec"]


def plan(p, current_route=None, current_dr=None, namespace_drs=None):
    """What to apply in one cluster, from normalized and validated options and what is there.

    Returns ``{route, destination_rule, changed, errors, warnings}`` where ``route`` and
    ``destination_rule`` are the objects to apply (None when not managed) and ``changed`` maps
    "route"/"destination_rule" to whether applying them would change what is there (:func:`differs`).
    """
    out = {"route": None, "destination_rule": None, "changed": {}, "errors": [], "warnings": []}
    dr = destination_rule(p, current_dr) if p["destination_rule"] else None
    if p["kind"] == "httproute":
        route = http_route(p, current_route)
        rules = route["spec"]["rules"]
        out["errors"] += check_weights(rules[-1]["backendRefs"], "spec.rules[{0}].backendRefs".format(len(rules) - 1))
    else:
        route = virtual_service(p, current_route)
        http = route["spec"]["http"]
        names = set(x for x in route["metadata"]["annotations"][OWNED_ROUTES_ANNOTATION].split(","))
        for i, r in enumerate(http):
            if r.get("name") == p["route_name"]:
                out["errors"] += check_weights(r.get("route") or [], "spec.http[{0}].route".format(i))
        out["warnings"] += shadow_warnings(http, names)
        out["errors"] += check_subsets(p, dr, namespace_drs)
    out["route"] = route
    out["destination_rule"] = dr
    out["changed"]["route"] = differs(current_route, route)
    if dr:
        out["changed"]["destination_rule"] = differs(current_dr, dr)
    return out
