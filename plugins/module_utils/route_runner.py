# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""istio_canary_route's run: read, plan and check everywhere, then write; against Karmada or the members.

``target=karmada`` writes to the control plane, whatever the members are called (a member may be
named ``karmada`` too: it is reached only with ``target=members``). Nothing is written anywhere
until every cluster's plan is free of errors; a write refused because Argo Rollouts changed the
route since it was read is planned again from the new object (409 Conflict, on its status).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, Kind
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import kind as fleet_kind
from ansible_collections.multicluster.canary.plugins.module_utils.route_eval import routing_summary
from ansible_collections.multicluster.canary.plugins.module_utils.route_options import normalize, validate
from ansible_collections.multicluster.canary.plugins.module_utils.route_plan import ISTIO_GROUP, differs, plan
from ansible_collections.multicluster.canary.plugins.module_utils.service import (
    apply_if_needed,
    delete_if_present,
    retry_on_conflict,
)

# The module options the route spec is made of (route_options.normalize).
ROUTE_OPTIONS = ("name", "namespace", "state", "kind", "api_version", "hosts", "gateways", "parent_refs",
                 "stable", "canary", "canary_weight", "route_name", "header_routes", "lanes",
                 "destination_rule", "managed_routes", "labels")
CONTROL_PLANE = "karmada"


def _unchanged(before, obj):
    return not differs(before, obj)


class CanaryRoute(object):
    """One istio_canary_route run: the checked spec, the kinds it writes, the clusters it writes to."""

    def __init__(self, run):
        self.run = run
        self.p = normalize(dict((k, run.params.get(k)) for k in ROUTE_OPTIONS))
        errors = validate(self.p)
        if errors:
            run.fail("nothing was written: " + "; ".join(errors), errors=errors)
        version = self.p["api_version"]
        if self.p["kind"] == "httproute":
            self.route_kind = fleet_kind("HTTPRoute")
        else:
            self.route_kind = Kind(ISTIO_GROUP, version, "virtualservices", "VirtualService")
        self.dr_kind = Kind(ISTIO_GROUP, version, "destinationrules", "DestinationRule")
        self.route_key = "http_route" if self.p["kind"] == "httproute" else "virtual_service"
        self.to_control_plane = run.params["target"] == "karmada"

    def targets(self):
        if self.to_control_plane:
            if self.run.params.get("clusters"):
                self.run.warn("clusters is ignored with target=karmada: the PropagationPolicy decides placement")
            return [CONTROL_PLANE]
        return self.run.fleet.resolve(self.run.params.get("clusters"))

    def each(self, names, fn):
        if self.to_control_plane:
            try:
                return {CONTROL_PLANE: (True, fn(self.run.fleet.control))}
            except FleetError as e:
                return {CONTROL_PLANE: (False, str(e))}
        return self.run.fleet.run(names, fn)

    def objects(self):
        """(kind, name) of each object this spec manages: the DestinationRule first, then the route."""
        out = []
        if self.p["destination_rule"]:
            out.append(("destination_rule", self.dr_kind, self.p["destination_rule"]["name"]))
        out.append(("route", self.route_kind, self.p["name"]))
        return out

    def plan(self, endpoint):
        ns, p = self.p["namespace"], self.p
        route = endpoint.get(self.route_kind, ns, p["name"])
        dr = endpoint.get(self.dr_kind, ns, p["destination_rule"]["name"]) if p["destination_rule"] else None
        uses_subsets = any((p[r] or {}).get("subset") for r in ("stable", "canary"))
        drs = endpoint.list(self.dr_kind, ns) if uses_subsets and p["kind"] == "virtualservice" else []
        return dict(plan(p, route, dr, drs), current={"route": route, "destination_rule": dr})

    def write(self, endpoint, planned):
        """Apply what the plan changes, guarded by the resourceVersion read; on a conflict, read and plan again."""
        state = {"planned": planned}

        def attempt(number):
            if number:
                state["planned"] = self.plan(endpoint)
                if state["planned"]["errors"]:
                    raise FleetError("; ".join(state["planned"]["errors"]))
            now = state["planned"]
            applied = {}
            for key, k, _name in self.objects():
                if now["changed"].get(key):
                    applied[key] = apply_if_needed(endpoint, k, now[key], check_mode=self.run.check_mode,
                                                   want_diff=self.run.want_diff, before=now["current"][key],
                                                   same=_unchanged, guard=True)
            return now, applied

        return retry_on_conflict(attempt)

    def remove(self, endpoint):
        return dict((key, delete_if_present(endpoint, k, self.p["namespace"], name, check_mode=self.run.check_mode,
                                            want_diff=self.run.want_diff))
                    for key, k, name in self.objects())

    def removed(self, name, outcomes):
        changed = any(o.changed for o in outcomes.values())
        self.run.changed(changed)
        for key, _k, _name in self.objects():
            self.run.diff(outcomes[key].diff, prefix=name)
        return {"changed": changed}

    def absent(self, names):
        self.run.per_cluster(names, self.each(names, self.remove), self.removed)

    def check_plans(self, names, planned):
        """Stop before any write when a cluster could not be read or its plan has errors."""
        clusters, errors = {}, []
        for name in names:
            ok, value = planned[name]
            if not ok:
                errors.append(value)
                clusters[name] = {"changed": False, "msg": value}
            elif value["errors"]:
                prefix = "" if self.to_control_plane else name + ": "
                errors += [prefix + e for e in value["errors"]]
                clusters[name] = {"changed": False, "msg": "; ".join(value["errors"])}
        if errors:
            self.run.update(clusters=clusters)
            self.run.fail("nothing was written: " + "; ".join(errors))

    def written(self, name, value):
        """One cluster's entry after the writes: its route (as the server has it) and where it sends requests."""
        pl, applied = value
        changed = any(a.changed for a in applied.values())
        self.run.changed(changed)
        route = applied["route"].after if "route" in applied else pl["current"]["route"]
        entry = {"changed": changed, self.route_key: route, "routing": routing_summary(route or pl["route"])}
        if pl["destination_rule"]:
            entry["destination_rule"] = applied["destination_rule"].after if "destination_rule" in applied \
                else pl["current"]["destination_rule"]
        for warning in pl["warnings"]:
            self.run.warn("{0}: {1}".format(name, warning))
        for key, _k, _name in self.objects():
            if key in applied:
                self.run.diff(applied[key].diff, prefix=name)
        return entry

    def present(self, names):
        planned = self.each(names, self.plan)
        self.check_plans(names, planned)
        written = self.each(names, lambda ep: self.write(ep, planned[ep.name][1]))
        clusters = self.run.per_cluster(names, written, self.written)
        first = clusters[names[0]] if names else None
        if first:
            self.run.update(**dict((k, first[k]) for k in (self.route_key, "routing", "destination_rule") if k in first))


def canary_route(run):
    """istio_canary_route: the routes (and DestinationRule) present or absent in Karmada or in the members."""
    route = CanaryRoute(run)
    names = route.targets()
    if route.p["state"] == "absent":
        return route.absent(names)
    route.present(names)
