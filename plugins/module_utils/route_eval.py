# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a request goes, from a VirtualService or an HTTPRoute alone (pure, no I/O).

:func:`evaluate` answers "where does this request go?" with Istio's matching rules, and
:func:`evaluate_http_route` with the Gateway API's, so routing can be checked without a data
plane; :func:`routing_summary` probes every match of a route object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re


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
