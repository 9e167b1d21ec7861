# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary routes for Istio and the Gateway API, as plain data.

Everything here takes and returns dicts and does no I/O, so that the module,
the unit tests and a status playbook share one notion of what a route is:

* :func:`normalize` and :func:`validate` turn module options into a checked spec;
* :func:`plan` merges that spec into the objects found in one cluster (a
  VirtualService or HTTPRoute and a DestinationRule) without touching what Argo
  Rollouts owns, and says what would change;
* :func:`evaluate` answers "where does this request go?" for a VirtualService,
  with Istio's matching rules, so routing can be checked without a data plane.

Ownership rules (why merging is done route by route): Argo Rollouts, in each
member, rewrites ``spec.http[].route[].weight`` of the routes it is told about
and inserts its own named routes (``managedRoutes``) at the top of ``spec.http``;
it also adds ``rollouts-pod-template-hash`` to DestinationRule subsets.  In
Istio's CRDs ``spec.http`` is an atomic list, so a server-side apply has to send
the whole list: we send the list as found, with only our own named routes
replaced.  Our routes are remembered in an annotation so that a route dropped
from the options is removed on the next run, and nobody else's route ever is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.multicluster.canary.plugins.module_utils.karmada_policy import is_subset

ISTIO_GROUP = "networking.istio.io"
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
OWNED_ROUTES_ANNOTATION = "multicluster.canary/owned-routes"
# Labels Argo Rollouts adds to DestinationRule subsets; kept when we rewrite a subset.
ARGO_SUBSET_LABELS = ("rollouts-pod-template-hash",)
ROUTE_KEYS = ("name", "match", "route")  # the keys of an http route that we own
MATCH_KINDS = ("exact", "prefix", "regex")

# RFC 7230 section 3.2.6: token = 1*tchar
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
HOST_RE = re.compile(r"^(\*|(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)$")

DEFAULTS = {
    "name": None,
    "namespace": None,
    "kind": "virtualservice",
    "api_version": "v1beta1",
    "hosts": None,
    "gateways": None,
    "parent_refs": None,
    "stable": None,
    "canary": None,
    "canary_weight": None,
    "route_name": "primary",
    "header_routes": None,
    "lanes": None,
    "destination_rule": None,
    "managed_routes": None,
    "labels": None,
    "state": "present",
}


class RouteError(Exception):
    """One or more problems with the options, each naming the field at fault."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(RouteError, self).__init__("; ".join(self.errors))


# --------------------------------------------------------------------------
# options


def _dest_option(value):
    if not value:
        return None
    return {"host": value.get("host"), "subset": value.get("subset"), "port": value.get("port")}


def _match_option(value):
    """Header conditions: {Name: {exact|prefix|regex: v}}; a bare string means exact."""
    out = {}
    for name, cond in (value or {}).items():
        out[name] = {"exact": cond} if isinstance(cond, str) else cond
    return out


def normalize(params):
    """Module options (or a partial dict of them) with defaults filled in, as a new dict."""
    p = copy.deepcopy(DEFAULTS)
    p.update(dict((k, copy.deepcopy(v)) for k, v in params.items() if v is not None))
    p["stable"] = _dest_option(p["stable"])
    p["canary"] = _dest_option(p["canary"])
    if p["stable"] and p["canary"]:
        # the canary is usually the same Service (other subset) or a sibling Service on the same port
        if not p["canary"]["host"]:
            p["canary"]["host"] = p["stable"]["host"]
        if p["canary"]["port"] is None:
            p["canary"]["port"] = p["stable"]["port"]
    if not p["hosts"] and p["stable"] and p["stable"]["host"]:
        p["hosts"] = [p["stable"]["host"]]
    p["hosts"] = list(p["hosts"] or [])
    p["gateways"] = list(p["gateways"] or [])
    p["managed_routes"] = list(p["managed_routes"] or [])
    p["labels"] = dict(p["labels"] or {})
    p["header_routes"] = [
        {
            "name": r.get("name"),
            "headers": _match_option(r.get("headers")),
            "source_labels": dict(r.get("source_labels") or {}),
            "destination": r.get("destination") or "canary",
        }
        for r in (p["header_routes"] or [])
    ]
    p["lanes"] = [
        {
            "name": r.get("name"),
            "headers": _match_option(r.get("headers")),
            "source_labels": dict(r.get("source_labels") or {}),
        }
        for r in (p["lanes"] or [])
    ]
    dr = p["destination_rule"]
    if dr:
        p["destination_rule"] = {
            "name": dr.get("name"),
            "host": dr.get("host") or (p["stable"] or {}).get("host"),
            "subsets": [
                {"name": s.get("name"), "labels": dict(s.get("labels") or {}),
                 "traffic_policy": s.get("traffic_policy")}
                for s in (dr.get("subsets") or [])
            ],
            "traffic_policy": dr.get("traffic_policy"),
        }
    return p


def _check_header_match(errors, field, headers, kind):
    for name, cond in headers.items():
        where = "{0}.{1}".format(field, name)
        if not isinstance(name, str) or not HEADER_NAME_RE.match(name):
            errors.append("{0}: {1!r} is not a valid header name (RFC 7230 token: letters, digits and "
                          "!#$%&'*+-.^_`|~, no spaces or colons)".format(where, name))
            continue
        if not isinstance(cond, dict):
            errors.append("{0}: expected one of {1} (or a string for exact), got {2!r}".format(
                where, "/".join(MATCH_KINDS), cond))
            continue
        kinds = [k for k in cond if k in MATCH_KINDS]
        extra = [k for k in cond if k not in MATCH_KINDS]
        if extra or len(kinds) != 1:
            errors.append("{0}: expected exactly one of {1}, got {2}".format(
                where, "/".join(MATCH_KINDS), ", ".join(sorted(cond)) or "nothing"))
            continue
        value = cond[kinds[0]]
        if not isinstance(value, str):
            errors.append("{0}.{1}: expected a string, got {2!r}".format(where, kinds[0], value))
            continue
        if kinds[0] == "regex":
            try:
                re.compile(value)
            except re.error as e:
                errors.append("{0}.regex: invalid regular expression {1!r}: {2}".format(where, value, e))
        if kind == "httproute" and kinds[0] == "prefix":
            errors.append("{0}.prefix: HTTPRoute header matches support only exact and regex".format(where))


def _check_labels(errors, field, labels):
    for key, value in labels.items():
        name = key.split("/", 1)[-1] if isinstance(key, str) else key
        if not isinstance(key, str) or not LABEL_NAME_RE.match(name) or len(name) > 63:
            errors.append("{0}.{1}: not a valid label name".format(field, key))
        elif not isinstance(value, str) or (value and (not LABEL_NAME_RE.match(value) or len(value) > 63)):
            errors.append("{0}.{1}: {2!r} is not a valid label value (a string of up to 63 letters, "
                          "digits, '-', '_' or '.')".format(field, key, value))


def _check_weight(errors, field, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        errors.append("{0}: must be an integer from 0 to 100, got {1!r}".format(field, value))


def check_weights(route, field):
    """Problems with the weights of one list of weighted destinations (Istio ``route`` or ``backendRefs``)."""
    errors = []
    weights = [d.get("weight") for d in route]
    if len(route) > 1 or any(w is not None for w in weights):
        for i, w in enumerate(weights):
            _check_weight(errors, "{0}[{1}].weight".format(field, i), w if w is not None else 0)
        if not errors and sum(w or 0 for w in weights) != 100:
            errors.append("{0}: weights must sum to 100, got {1} ({2})".format(
                field, sum(w or 0 for w in weights), " + ".join(str(w or 0) for w in weights)))
    return errors


def validate(p):
    """Problems with normalized options that need no cluster to find; [] when fine."""
    errors = []
    kind = p["kind"]
    if not p["name"] or not DNS1123_SUBDOMAIN_RE.match(p["name"]):
        errors.append("name: {0!r} is not a valid object name (DNS-1123 subdomain)".format(p["name"]))
    if not p["namespace"] or not DNS1123_SUBDOMAIN_RE.match(p["namespace"]):
        errors.append("namespace: {0!r} is not a valid namespace name".format(p["namespace"]))
    if p["state"] == "absent":
        return errors

    stable, canary = p["stable"], p["canary"]
    if not stable or not stable.get("host"):
        errors.append("stable.host: required when state=present")
    for role, d in (("stable", stable), ("canary", canary)):
        if not d:
            continue
        if d.get("host") and not HOST_RE.match(d["host"]):
            errors.append("{0}.host: {1!r} is not a valid host name".format(role, d["host"]))
        if d.get("port") is not None and (isinstance(d["port"], bool) or not isinstance(d["port"], int)
                                          or not 1 <= d["port"] <= 65535):
            errors.append("{0}.port: must be from 1 to 65535, got {1!r}".format(role, d["port"]))
        if kind == "httproute":
            if d.get("subset"):
                errors.append("{0}.subset: HTTPRoute backendRefs name Services, not subsets; "
                              "use one Service per version".format(role))
            if d.get("port") is None:
                errors.append("{0}.port: required with kind=httproute (backendRefs to a Service need a port)".format(role))
    if stable and canary and _dest_key(stable) == _dest_key(canary) and stable.get("host"):
        errors.append("canary: same destination as stable ({0}); give another host or subset".format(
            _describe(stable)))
    if p["canary_weight"] is not None:
        _check_weight(errors, "canary_weight", p["canary_weight"])
        if not canary:
            errors.append("canary_weight: needs canary")

    if not p["hosts"]:
        errors.append("hosts: at least one host is required")
    for i, host in enumerate(p["hosts"]):
        if not isinstance(host, str) or not HOST_RE.match(host):
            errors.append("hosts[{0}]: {1!r} is not a valid host name".format(i, host))
    for i, gw in enumerate(p["gateways"]):
        parts = gw.split("/") if isinstance(gw, str) else [None]
        if gw != "mesh" and (len(parts) > 2 or not all(x and DNS1123_SUBDOMAIN_RE.match(x) for x in parts)):
            errors.append("gateways[{0}]: {1!r} is neither 'mesh' nor a Gateway name ('name' or "
                          "'namespace/name')".format(i, gw))

    managed = set(p["managed_routes"])
    seen = {}
    ours = [("route_name", p["route_name"])]
    ours += [("header_routes[{0}].name".format(i), r["name"]) for i, r in enumerate(p["header_routes"])]
    ours += [("lanes[{0}].name".format(i), r["name"]) for i, r in enumerate(p["lanes"])]
    for field, name in ours:
        if not name:
            errors.append("{0}: required".format(field))
        elif name in managed:
            errors.append("{0}: {1!r} is listed in managed_routes (owned by Argo Rollouts); "
                          "choose another name".format(field, name))
        elif name in seen:
            errors.append("{0}: {1!r} is already used by {2}".format(field, name, seen[name]))
        else:
            seen[name] = field

    for i, r in enumerate(p["header_routes"]):
        field = "header_routes[{0}]".format(i)
        if not r["headers"] and not r["source_labels"]:
            errors.append("{0}: give headers or source_labels".format(field))
        _check_header_match(errors, field + ".headers", r["headers"], kind)
        _check_labels(errors, field + ".source_labels", r["source_labels"])
        if r["destination"] not in ("canary", "stable"):
            errors.append("{0}.destination: expected canary or stable, got {1!r}".format(field, r["destination"]))
        elif r["destination"] == "canary" and not canary:
            errors.append("{0}.destination: canary, but no canary is defined".format(field))
        if kind == "httproute" and r["source_labels"]:
            errors.append("{0}.source_labels: not supported with kind=httproute".format(field))
    for i, r in enumerate(p["lanes"]):
        field = "lanes[{0}]".format(i)
        if not r["headers"] and not r["source_labels"]:
            errors.append("{0}: give headers and/or source_labels".format(field))
        if not canary:
            errors.append("{0}: a lane routes to the canary, but no canary is defined".format(field))
        _check_header_match(errors, field + ".headers", r["headers"], kind)
        _check_labels(errors, field + ".source_labels", r["source_labels"])
        if kind == "httproute" and r["source_labels"]:
            errors.append("{0}.source_labels: not supported with kind=httproute".format(field))

    if kind == "httproute" and managed:
        errors.append("managed_routes: not supported with kind=httproute (Argo's Gateway API plugin "
                      "keeps its header routes in its own ConfigMap)")
    if kind != "httproute" and p["parent_refs"] is not None:
        errors.append("parent_refs: only with kind=httproute (a VirtualService uses gateways)")
    if kind == "httproute" and p["parent_refs"] is None and not p["gateways"]:
        errors.append("gateways: kind=httproute needs gateways (or parent_refs) to attach the route to")

    dr = p["destination_rule"]
    if dr:
        if not dr["name"] or not DNS1123_SUBDOMAIN_RE.match(dr["name"]):
            errors.append("destination_rule.name: {0!r} is not a valid object name".format(dr["name"]))
        if not dr["host"] or not HOST_RE.match(dr["host"]):
            errors.append("destination_rule.host: {0!r} is not a valid host name".format(dr["host"]))
        names = set()
        for j, s in enumerate(dr["subsets"]):
            field = "destination_rule.subsets[{0}]".format(j)
            if not s["name"] or not LABEL_NAME_RE.match(s["name"]):
                errors.append("{0}.name: {1!r} is not a valid subset name".format(field, s["name"]))
            elif s["name"] in names:
                errors.append("{0}.name: {1!r} is defined twice".format(field, s["name"]))
            names.add(s["name"])
            _check_labels(errors, field + ".labels", s["labels"])
    return errors


# --------------------------------------------------------------------------
# synthesis


def fqdn(host, namespace):
    """Istio's reading of a short host name: ``svc`` means ``svc.<namespace>.svc.cluster.local``."""
    if not host or "*" in host:
        return host
    parts = host.split(".")
    if len(parts) == 1:
        return "{0}.{1}.svc.cluster.local".format(host, namespace)
    if len(parts) == 2:
        return host + ".svc.cluster.local"
    if len(parts) == 3 and parts[2] == "svc":
        return host + ".cluster.local"
    return host


def _dest_key(d, namespace="default"):
    return (fqdn(d.get("host"), namespace), d.get("subset") or None)


def _describe(d):
    return d.get("host", "?") + ("/" + d["subset"] if d.get("subset") else "")


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
    key = _dest_key(dest, namespace)
    for entry in route or []:
        if _dest_key(entry.get("destination") or {}, namespace) == key:
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


def _owned(obj):
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


def _metadata(p, existing, annotations=None):
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
    spec["http"] = merge_http(old_http, desired, _owned(existing), p["managed_routes"])
    owned = ",".join(r["name"] for r in desired)
    return {
        "apiVersion": "{0}/{1}".format(ISTIO_GROUP, p["api_version"]),
        "kind": "VirtualService",
        "metadata": _metadata(p, existing, {OWNED_ROUTES_ANNOTATION: owned}),
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
        "metadata": _metadata(p, existing),
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


def _view(obj):
    """What we compare and show: our metadata keys and the spec."""
    if not obj:
        return {}
    meta = obj.get("metadata") or {}
    view_meta = {"name": meta.get("name"), "namespace": meta.get("namespace")}
    for key in ("labels", "annotations"):
        if meta.get(key):
            view_meta[key] = meta[key]
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": view_meta,
            "spec": obj.get("spec") or {}}


def _changed(current, desired):
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

    Returns ``{route, destination_rule, changed, errors, warnings, before, after}`` where
    ``route`` and ``destination_rule`` are the objects to apply (None when not managed),
    ``changed`` maps "route"/"destination_rule" to booleans and ``before``/``after``
    hold the compared views for a diff.
    """
    out = {"route": None, "destination_rule": None, "changed": {}, "errors": [], "warnings": [],
           "before": {}, "after": {}}
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
    out["changed"]["route"] = _changed(current_route, route)
    out["before"]["route"] = _view(current_route)
    out["after"]["route"] = _view(route)
    if dr:
        out["changed"]["destination_rule"] = _changed(current_dr, dr)
        out["before"]["destination_rule"] = _view(current_dr)
        out["after"]["destination_rule"] = _view(dr)
    return out


# --------------------------------------------------------------------------
# evaluation


def _gateway_key(gw, namespace):
    if gw in (None, "mesh"):
        return "mesh"
    if "/" in gw:
        return gw
    return "{0}/{1}".format(namespace, gw) if namespace else gw


def _bound(gateways, gateway, namespace):
    want = _gateway_key(gateway, namespace)
    for g in gateways or ["mesh"]:
        have = _gateway_key(g, namespace)
        if have == want or (want != "mesh" and have.split("/")[-1] == want.split("/")[-1]
                            and ("/" not in have or "/" not in want)):
            return True
    return False


def _string_match(cond, value, ignore_case=False):
    if value is None:
        return False
    if not cond:  # {} checks presence only
        return True
    if ignore_case:
        value = value.lower()
        cond = dict((k, v.lower() if isinstance(v, str) else v) for k, v in cond.items())
    if "exact" in cond:
        return value == cond["exact"]
    if "prefix" in cond:
        return value.startswith(cond["prefix"])
    if "regex" in cond:
        return re.fullmatch(cond["regex"], value) is not None  # Envoy's RE2 matches the whole value
    return False


PSEUDO_HEADERS = {"method": ":method", "authority": ":authority", "scheme": ":scheme"}
UNCHECKED_MATCH_KEYS = ("name", "port", "statPrefix", "ignoreUriCase")


def _match_block(block, headers, source_labels, gateway, namespace, uri):
    if block.get("gateways") and not _bound(block["gateways"], gateway, namespace):
        return False
    for name, cond in (block.get("headers") or {}).items():
        if not _string_match(cond, headers.get(name.lower())):
            return False
    for name, cond in (block.get("withoutHeaders") or {}).items():
        if _string_match(cond, headers.get(name.lower())):
            return False
    for key, value in (block.get("sourceLabels") or {}).items():
        if source_labels.get(key) != value:
            return False
    if "uri" in block and not _string_match(block["uri"], uri, block.get("ignoreUriCase", False)):
        return False
    for key, header in PSEUDO_HEADERS.items():
        if key in block:
            value = headers.get(header)
            if value is None and key == "authority":
                value = headers.get("host")
            if not _string_match(block[key], value):
                return False
    known = set(UNCHECKED_MATCH_KEYS) | set(PSEUDO_HEADERS) | set(
        ["gateways", "headers", "withoutHeaders", "sourceLabels", "uri"])
    # conditions this evaluator cannot see (queryParams, sourceNamespace...) never match
    return not [k for k in block if k not in known]


def match_route(virtual_service, headers=None, source_labels=None, gateway=None, uri="/"):
    """(index, route) of the first ``spec.http`` route a request takes, or (None, None)."""
    spec = virtual_service.get("spec") or {}
    namespace = (virtual_service.get("metadata") or {}).get("namespace")
    if not _bound(spec.get("gateways"), gateway, namespace):
        return None, None
    lowered = dict((k.lower(), v) for k, v in (headers or {}).items())
    labels = source_labels or {}
    for i, route in enumerate(spec.get("http") or []):
        blocks = route.get("match")
        if not blocks:
            return i, route
        if any(_match_block(b, lowered, labels, gateway, namespace, uri) for b in blocks):
            return i, route
    return None, None


def evaluate(virtual_service, headers=None, source_labels=None, gateway=None, uri="/"):
    """Destinations and weights a request gets from a VirtualService: ``[(destination, weight)]``.

    Istio's rules: the first ``http`` route that matches wins; a route without
    ``match`` matches everything; match blocks are ORed and the conditions in a
    block ANDed; header names are case-insensitive, values exact/prefix/regex
    (regex against the whole value); ``sourceLabels`` must all be on the caller;
    ``gateway`` is the Gateway the request came through (None or ``mesh`` for a
    sidecar), checked against the VirtualService's and each block's ``gateways``.
    A single destination without a weight gets 100.  A redirect or direct
    response is returned as its own dict.  No match: [].
    """
    route = match_route(virtual_service, headers, source_labels, gateway, uri)[1]
    if route is None:
        return []
    for key in ("redirect", "directResponse"):
        if key in route:
            return [({key: copy.deepcopy(route[key])}, 100)]
    targets = route.get("route") or []
    if len(targets) == 1:
        return [(copy.deepcopy(targets[0].get("destination") or {}), targets[0].get("weight", 100))]
    return [(copy.deepcopy(t.get("destination") or {}), t.get("weight", 0)) for t in targets]


def evaluate_http_route(http_route_obj, headers=None):
    """``[(backendRef, weight)]`` for a request to an HTTPRoute (header matches only; path is "/").

    Gateway API precedence among rules: more header matches first, then rule order.
    """
    lowered = dict((k.lower(), v) for k, v in (headers or {}).items())
    candidates = []
    for i, rule in enumerate((http_route_obj.get("spec") or {}).get("rules") or []):
        for m in rule.get("matches") or [{}]:
            if m.get("path") and not (m["path"].get("type") == "PathPrefix" and m["path"].get("value") == "/"):
                continue
            ok = True
            for h in m.get("headers") or []:
                value = lowered.get(h["name"].lower())
                if h.get("type", "Exact") == "Exact":
                    ok = ok and value == h["value"]
                else:
                    ok = ok and value is not None and re.search(h["value"], value) is not None
            if ok:
                candidates.append((-len(m.get("headers") or []), i, rule))
    if not candidates:
        return []
    rule = sorted(candidates, key=lambda c: (c[0], c[1]))[0][2]
    refs = rule.get("backendRefs") or []
    return [(copy.deepcopy(r), r.get("weight", 1)) for r in refs]


def _probe_value(cond):
    if not cond:
        return "present"
    if "exact" in cond:
        return cond["exact"]
    if "prefix" in cond:
        return cond["prefix"]
    pattern = cond.get("regex", "")
    literal = re.sub(r"\\(.)", r"\1", pattern.lstrip("^").rstrip("$"))
    return literal if re.fullmatch(pattern, literal) else None


def _entries(result):
    out = []
    for dest, weight in result:
        entry = dict(dest)
        if isinstance(entry.get("port"), dict):
            entry["port"] = entry["port"].get("number")
        entry["weight"] = weight
        out.append(entry)
    return out


def routing_summary(obj):
    """Where requests go: no header, and one probe per match block of each route.

    A list of ``{probe, gateway, headers, source_labels, route, destinations}``;
    ``destinations`` is a list of ``{host, subset, port, weight}`` (for an HTTPRoute,
    ``{name, port, weight}``).
    """
    summary = []
    if obj.get("kind") == "HTTPRoute":
        probes = [("no header", {})]
        for i, rule in enumerate(obj["spec"].get("rules") or []):
            for j, m in enumerate(rule.get("matches") or []):
                if m.get("headers"):
                    probes.append(("rules[{0}].matches[{1}]".format(i, j),
                                   dict((h["name"], h["value"]) for h in m["headers"])))
        for label, headers in probes:
            result = evaluate_http_route(obj, headers)
            summary.append({"probe": label, "headers": headers,
                            "destinations": [dict(r, weight=w) for r, w in result]})
        return summary

    spec = obj.get("spec") or {}
    gateways = spec.get("gateways") or ["mesh"]
    default_gw = None if gateways[0] == "mesh" else gateways[0]
    probes = [("no header", {}, {}, default_gw)]
    for route in spec.get("http") or []:
        for j, block in enumerate(route.get("match") or []):
            headers = dict((k, _probe_value(c)) for k, c in (block.get("headers") or {}).items())
            if any(v is None for v in headers.values()):
                continue  # a regex we cannot turn into a sample value
            gw = (block.get("gateways") or [default_gw])[0]
            probes.append(("{0} match[{1}]".format(route.get("name", "(unnamed)"), j), headers,
                           dict(block.get("sourceLabels") or {}), None if gw == "mesh" else gw))
    for label, headers, labels, gw in probes:
        route = match_route(obj, headers, labels, gw)[1]
        summary.append({
            "probe": label,
            "gateway": gw or "mesh",
            "headers": headers,
            "source_labels": labels,
            "route": None if route is None else route.get("name"),
            "destinations": _entries(evaluate(obj, headers, labels, gw)),
        })
    return summary
