# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""istio_canary_route's options: defaults filled in, then checked, with no cluster (pure, no I/O).

:func:`normalize` turns module options (or a partial dict of them) into the spec the planner
(``route_plan``) takes; :func:`validate` lists every problem it can find without a cluster, each
naming the field at fault. Istio's reading of host names (:func:`fqdn`) lives here too: the
options, the planner and the evaluator all compare hosts that way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError

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


class RouteError(InputError):
    """One or more problems with the options, each naming the field at fault."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(RouteError, self).__init__("; ".join(self.errors))


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


def destination_key(d, namespace="default"):
    return (fqdn(d.get("host"), namespace), d.get("subset") or None)


def describe_destination(d):
    return d.get("host", "?") + ("/" + d["subset"] if d.get("subset") else "")


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


def check_weight(errors, field, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        errors.append("{0}: must be an integer from 0 to 100, got {1!r}".format(field, value))


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
    if stable and canary and destination_key(stable) == destination_key(canary) and stable.get("host"):
        errors.append("canary: same destination as stable ({0}); give another host or subset".format(
            describe_destination(stable)))
    if p["canary_weight"] is not None:
        check_weight(errors, "canary_weight", p["canary_weight"])
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
