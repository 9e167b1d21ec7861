#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: istio_canary_route
short_description: Canary traffic routes (Istio VirtualService and DestinationRule, or Gateway API HTTPRoute)
version_added: 0.1.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Manages the route of a service being released by Argo Rollouts, made of a primary route that splits
    traffic between the stable and the canary destination (Services, or subsets of one Service),
    header routes, and full-chain I(lanes) that send matching requests to the canary and the rest
    on to the primary route.
  - Writes a VirtualService (bound to Gateways, or mesh-internal with O(gateways=[mesh])) and optionally
    its DestinationRule, or a Gateway API C(HTTPRoute) with weighted C(backendRefs).
  - Merges by route name and never rewrites what Argo Rollouts owns. Routes of other owners,
    Argo's managed routes (O(managed_routes)) among them, keep their place and content. Without
    O(canary_weight) the weights found on the primary route (set by Argo Rollouts) are kept.
    Subset labels C(rollouts-pod-template-hash) are kept.
  - By default the objects are applied to the Karmada API server, and Karmada propagates them with a
    PropagationPolicy of your own (see M(multicluster.canary.karmada_propagation)).
    With O(target=members) they are applied directly to each member cluster, concurrently.
  - Every option is checked, in every cluster, before anything is written. Errors name the field,
    for example C(header_routes[1].headers.X canary).
  - Returns where requests go (RV(routing)), computed from the applied route with Istio's matching
    rules, so a playbook can assert the routing without sending traffic.
extends_documentation_fragment:
  - multicluster.canary.fleet
options:
  name:
    description:
      - Name of the VirtualService (or HTTPRoute).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the route and the DestinationRule.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the route (and the DestinationRule when O(destination_rule) is given).
      - V(absent) deletes the route (and the DestinationRule named in O(destination_rule)).
    type: str
    default: present
    choices: [present, absent]
  target:
    description:
      - V(karmada) applies the objects to the Karmada API server, which propagates them to the members
        selected by a PropagationPolicy.
      - V(members) applies them directly to each member cluster in O(clusters) (default every Ready
        member), concurrently. Karmada reverts member objects that it also propagates, so use this only
        for objects Karmada does not manage.
    type: str
    default: karmada
    choices: [karmada, members]
  kind:
    description:
      - V(virtualservice) writes an Istio VirtualService (and DestinationRule).
      - V(httproute) writes a Gateway API C(HTTPRoute) (C(gateway.networking.k8s.io/v1)); subsets, source labels,
        prefix header matches and O(managed_routes) are not available there.
    type: str
    default: virtualservice
    choices: [virtualservice, httproute]
  api_version:
    description:
      - Version of C(networking.istio.io) used for the VirtualService and DestinationRule.
    type: str
    default: v1beta1
    choices: [v1alpha3, v1beta1, v1]
  hosts:
    description:
      - Hosts of the VirtualService (C(hostnames) of an HTTPRoute attached to a Gateway).
      - Defaults to the stable host, which is what a mesh-internal VirtualService wants.
    type: list
    elements: str
  gateways:
    description:
      - Gateways the VirtualService is bound to, as C(name) or C(namespace/name); V(mesh) means the sidecars.
      - Omit for a mesh-internal VirtualService (Istio's default, C(mesh)).
      - For an HTTPRoute, each Gateway becomes a C(parentRef); V(mesh) attaches the route to the Service
        named by the first of O(hosts) (Gateway API for the mesh, GAMMA).
    type: list
    elements: str
  parent_refs:
    description:
      - HTTPRoute C(parentRefs) as given, instead of deriving them from O(gateways).
    type: list
    elements: dict
  stable:
    description:
      - The stable destination. Required when O(state=present).
    type: dict
    suboptions:
      host:
        description:
          - Service host, short (C(helloworld)) or fully qualified.
        type: str
        required: true
      subset:
        description:
          - DestinationRule subset. Must be defined in O(destination_rule) or in a DestinationRule
            already in the namespace.
        type: str
      port:
        description:
          - Service port. Required with O(kind=httproute).
        type: int
  canary:
    description:
      - The canary destination. Without it, the primary route sends everything to O(stable).
    type: dict
    suboptions:
      host:
        description:
          - Service host. Defaults to the stable host (canary by subset).
        type: str
      subset:
        description:
          - DestinationRule subset.
        type: str
      port:
        description:
          - Service port. Defaults to the stable port.
        type: int
  canary_weight:
    description:
      - Percentage of the primary route's traffic sent to the canary (the stable gets the rest).
      - When omitted, the weights found on the primary route are kept (Argo Rollouts sets them during a
        rollout); a new route starts at 0.
    type: int
  route_name:
    description:
      - Name of the primary (weighted) route, the name listed in the Rollout's
        C(trafficRouting.istio.virtualService.routes).
    type: str
    default: primary
  header_routes:
    description:
      - Routes put before the primary route, one match block each (its conditions ANDed).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Route name (unique in the VirtualService).
        type: str
        required: true
      headers:
        description:
          - Header conditions, a mapping of header name to a mapping with one of C(exact), C(prefix) or C(regex)
            (for example C(X-canary) to C(exact) C(test-user)); a plain string value means C(exact).
          - Header names are matched case-insensitively; regex must match the whole value.
        type: dict
      source_labels:
        description:
          - Labels the calling workload must carry (Istio C(sourceLabels)).
        type: dict
      destination:
        description:
          - Where matching requests go.
        type: str
        default: canary
        choices: [canary, stable]
  lanes:
    description:
      - Full-chain canary lanes, put before the primary route. A request goes to the canary when it carries
        the headers (propagated by the app) B(or) comes from a workload with the source labels (for example
        the canary pods of the caller, labelled with C(canaryMetadata.labels)); otherwise it goes on to the
        primary route, that is the stable.
      - Give the same lane to every service in the call chain (with O(gateways=[mesh]) for internal ones).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Route name (unique in the VirtualService).
        type: str
        required: true
      headers:
        description:
          - Header conditions, as in O(header_routes[].headers).
        type: dict
      source_labels:
        description:
          - Labels of calling workloads that belong to the lane.
        type: dict
  destination_rule:
    description:
      - The DestinationRule defining the subsets, managed along with the route.
      - Subsets are merged by name; other subsets in it are kept.
    type: dict
    suboptions:
      name:
        description:
          - DestinationRule name.
        type: str
        required: true
      host:
        description:
          - Host the rule applies to. Defaults to the stable host.
        type: str
      subsets:
        description:
          - Subsets to define.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description:
              - Subset name.
            type: str
            required: true
          labels:
            description:
              - Pod labels selecting the subset. Argo's C(rollouts-pod-template-hash) is added by Argo and kept.
            type: dict
          traffic_policy:
            description:
              - Istio C(trafficPolicy) of the subset, written as in Istio (for example C(tls.mode) V(ISTIO_MUTUAL)).
            type: dict
      traffic_policy:
        description:
          - Istio C(trafficPolicy) of the whole rule. When omitted, the one found is kept.
        type: dict
  managed_routes:
    description:
      - Names of routes owned by Argo Rollouts (its C(trafficRouting.managedRoutes)). They are never changed,
        moved or removed, and none of this module's routes may take these names.
    type: list
    elements: str
    default: []
  labels:
    description:
      - Labels put on the route and the DestinationRule (for example for a PropagationPolicy's C(labelSelector)).
    type: dict
attributes:
  check_mode:
    support: full
    description: Computes and returns the objects as they would be; writes nothing.
  diff_mode:
    support: full
    description: Returns the route and DestinationRule before and after, per cluster.
notes:
  - The module adds the annotation C(multicluster.canary/owned-routes) to the VirtualService, listing its own
    routes, so that a route removed from the options is removed from the VirtualService on the next run.
  - Istio's C(http) list is atomic for server-side apply, so the whole merged list is sent, with the
    C(resourceVersion) read; a concurrent change by Argo Rollouts makes the write retry on fresh data.
  - In the members, Karmada re-applies the template over changes Argo Rollouts makes to weights and routes
    unless a retention customization keeps them; see the collection's README.
"""

EXAMPLES = r"""
- name: Frontend VirtualService on the ingress gateway, Argo Rollouts owns the weights and header-route-1
  multicluster.canary.istio_canary_route:
    name: helloworld-vsvc
    namespace: helloworld-rollout
    api_version: v1alpha3
    gateways: [helloworld-gateway]
    hosts: [helloworld.huanghuanhui.cloud]
    stable: {host: helloworld-svc-stable}
    canary: {host: helloworld-svc-canary}
    managed_routes: [header-route-1]

- name: Testers reach the canary with X-canary test-user, everyone else the primary route
  multicluster.canary.istio_canary_route:
    name: helloworld-vsvc
    namespace: helloworld-rollout
    gateways: [helloworld-gateway]
    hosts: [helloworld.huanghuanhui.cloud]
    stable: {host: helloworld-svc-stable}
    canary: {host: helloworld-svc-canary}
    header_routes:
      - name: x-canary
        headers:
          X-canary: {exact: test-user}

- name: Mesh-internal gray by header, env gray to the gray subset, env prod and no header to prod
  multicluster.canary.istio_canary_route:
    name: mouse-vs
    namespace: default
    gateways: [mesh]
    stable: {host: mouse-svc, subset: prod}
    canary: {host: mouse-svc, subset: gray}
    header_routes:
      - {name: gray, headers: {env: {exact: gray}}, destination: canary}
      - {name: prod, headers: {env: {exact: prod}}, destination: stable}
    destination_rule:
      name: mouse-dr
      subsets:
        - {name: prod, labels: {version: prod}}
        - {name: gray, labels: {version: gray}}

- name: Full-chain lane for ruoyi-system, by propagated header or from canary callers
  multicluster.canary.istio_canary_route:
    name: ruoyi-system
    namespace: ruoyi
    gateways: [mesh]
    stable: {host: ruoyi-system, subset: stable}
    canary: {host: ruoyi-system, subset: canary}
    lanes:
      - name: canary-lane
        headers: {X-canary: {exact: test-user}}
        source_labels: {lane: canary}
    destination_rule:
      name: ruoyi-system
      subsets:
        - {name: stable, labels: {app: ruoyi-system}}
        - {name: canary, labels: {app: ruoyi-system}}

- name: Subsets with Istio mutual TLS at 20% canary, written directly to two members
  multicluster.canary.istio_canary_route:
    name: gray-demo-vs
    namespace: gray-demo
    target: members
    clusters: [k8s-master-beijing, k8s-master-shanghai]
    gateways: [gray-demo-gateway]
    hosts: ["*"]
    route_name: http-5000
    stable: {host: helloworld.gray-demo.svc.cluster.local, subset: v1, port: 5000}
    canary: {subset: v2}
    canary_weight: 20
    destination_rule:
      name: helloworld
      host: helloworld
      traffic_policy: {tls: {mode: ISTIO_MUTUAL}}
      subsets:
        - {name: v1, labels: {version: v1}, traffic_policy: {tls: {mode: ISTIO_MUTUAL}}}
        - {name: v2, labels: {version: v2}, traffic_policy: {tls: {mode: ISTIO_MUTUAL}}}

- name: Argo Rollouts weighted canary on DestinationRule subsets, lane test-v2 owned by Argo
  multicluster.canary.istio_canary_route:
    name: provider
    namespace: dubbo
    gateways: [mesh]
    route_name: test-v1
    stable: {host: dubbo3-provider, subset: stable, port: 20880}
    canary: {subset: canary}
    managed_routes: [test-v2]
    destination_rule:
      name: dubbo-provider
      subsets:
        - {name: stable, labels: {app: dubbo3-provider}}
        - {name: canary, labels: {app: dubbo3-provider}}

- name: Gateway API HTTPRoute splitting reviews 50/50 in the mesh
  multicluster.canary.istio_canary_route:
    kind: httproute
    name: reviews
    namespace: bookinfo
    hosts: [reviews]
    gateways: [mesh]
    stable: {host: reviews-v1, port: 9080}
    canary: {host: reviews-v3, port: 9080}
    canary_weight: 50
  register: route

- name: Check where testers land, without sending traffic
  ansible.builtin.assert:
    that:
      - route.routing[0].destinations | map(attribute='weight') | list == [50, 50]
"""

RETURN = r"""
virtual_service:
  description:
    - The VirtualService as applied (in check mode, as it would be). With O(target=members), the first member's.
  returned: when O(kind=virtualservice) and O(state=present)
  type: dict
  sample:
    apiVersion: networking.istio.io/v1beta1
    kind: VirtualService
    metadata: {name: helloworld-vsvc, namespace: helloworld-rollout}
    spec:
      hosts: [helloworld.huanghuanhui.cloud]
      gateways: [helloworld-gateway]
      http:
        - name: primary
          route:
            - {destination: {host: helloworld-svc-stable}, weight: 100}
            - {destination: {host: helloworld-svc-canary}, weight: 0}
http_route:
  description:
    - The HTTPRoute as applied (or as it would be). With O(target=members), the first member's.
  returned: when O(kind=httproute) and O(state=present)
  type: dict
destination_rule:
  description:
    - The DestinationRule as applied (or as it would be). With O(target=members), the first member's.
  returned: when O(destination_rule) is given and O(state=present)
  type: dict
routing:
  description:
    - Where requests go, from the applied route with Istio's matching rules (first matching route wins).
    - One probe for a request without headers and one per match block of each route.
  returned: when O(state=present)
  type: list
  elements: dict
  sample:
    - probe: no header
      gateway: helloworld-gateway
      headers: {}
      source_labels: {}
      route: primary
      destinations:
        - {host: helloworld-svc-stable, weight: 100}
        - {host: helloworld-svc-canary, weight: 0}
    - probe: x-canary match[0]
      gateway: helloworld-gateway
      headers: {X-canary: test-user}
      source_labels: {}
      route: x-canary
      destinations:
        - {host: helloworld-svc-canary, weight: 100}
clusters:
  description:
    - Per member cluster, with O(target=members) (V(karmada) for the control plane otherwise).
    - Each holds C(changed), C(virtual_service) or C(http_route), C(destination_rule), C(routing) and, on failure, C(msg).
  returned: always
  type: dict
"""

import copy
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import (
    FleetError,
    Kind,
    fleet_argument_spec,
    fleet_from_module,
    kind as fleet_kind,
)
from ansible_collections.multicluster.canary.plugins.module_utils.istio_routes import (
    ISTIO_GROUP,
    RouteError,
    normalize,
    plan,
    routing_summary,
    validate,
)

DESTINATION_SPEC = dict(
    host=dict(type="str"),
    subset=dict(type="str"),
    port=dict(type="int"),
)
HEADER_ROUTE_SPEC = dict(
    name=dict(type="str", required=True),
    headers=dict(type="dict"),
    source_labels=dict(type="dict"),
    destination=dict(type="str", default="canary", choices=["canary", "stable"]),
)
LANE_SPEC = dict(
    name=dict(type="str", required=True),
    headers=dict(type="dict"),
    source_labels=dict(type="dict"),
)
SUBSET_SPEC = dict(
    name=dict(type="str", required=True),
    labels=dict(type="dict"),
    traffic_policy=dict(type="dict"),
)
DESTINATION_RULE_SPEC = dict(
    name=dict(type="str", required=True),
    host=dict(type="str"),
    subsets=dict(type="list", elements="dict", default=[], options=SUBSET_SPEC),
    traffic_policy=dict(type="dict"),
)
ROUTE_OPTIONS = ("name", "namespace", "state", "kind", "api_version", "hosts", "gateways", "parent_refs",
                 "stable", "canary", "canary_weight", "route_name", "header_routes", "lanes",
                 "destination_rule", "managed_routes", "labels")
CONFLICT_RETRIES = 3


def argspec():
    stable = copy.deepcopy(DESTINATION_SPEC)
    stable["host"]["required"] = True
    return fleet_argument_spec(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        target=dict(type="str", default="karmada", choices=["karmada", "members"]),
        kind=dict(type="str", default="virtualservice", choices=["virtualservice", "httproute"]),
        api_version=dict(type="str", default="v1beta1", choices=["v1alpha3", "v1beta1", "v1"]),
        hosts=dict(type="list", elements="str"),
        gateways=dict(type="list", elements="str"),
        parent_refs=dict(type="list", elements="dict"),
        stable=dict(type="dict", options=stable),
        canary=dict(type="dict", options=copy.deepcopy(DESTINATION_SPEC)),
        canary_weight=dict(type="int"),
        route_name=dict(type="str", default="primary"),
        header_routes=dict(type="list", elements="dict", default=[], options=copy.deepcopy(HEADER_ROUTE_SPEC)),
        lanes=dict(type="list", elements="dict", default=[], options=copy.deepcopy(LANE_SPEC)),
        destination_rule=dict(type="dict", options=copy.deepcopy(DESTINATION_RULE_SPEC)),
        managed_routes=dict(type="list", elements="str", default=[]),
        labels=dict(type="dict"),
    )


class CanaryRoute(object):
    """Read, plan, validate everywhere, then write: one run against Karmada or against the members."""

    def __init__(self, module, fleet, spec):
        self.module = module
        self.fleet = fleet
        self.p = spec
        version = spec["api_version"]
        if spec["kind"] == "httproute":
            self.route_kind = fleet_kind("HTTPRoute")
        else:
            self.route_kind = Kind(ISTIO_GROUP, version, "virtualservices", "VirtualService")
        self.dr_kind = Kind(ISTIO_GROUP, version, "destinationrules", "DestinationRule")
        self.route_key = "http_route" if spec["kind"] == "httproute" else "virtual_service"
        # target=karmada writes to the control plane, whatever the members are called (a member may be
        # named "karmada" too: it is only reached with target=members)
        self.to_control_plane = module.params["target"] == "karmada"

    def _uses_subsets(self):
        return any((self.p[r] or {}).get("subset") for r in ("stable", "canary"))

    def read(self, endpoint):
        ns, p = self.p["namespace"], self.p
        route = endpoint.get(self.route_kind, ns, p["name"])
        dr = endpoint.get(self.dr_kind, ns, p["destination_rule"]["name"]) if p["destination_rule"] else None
        drs = endpoint.list(self.dr_kind, ns) if self._uses_subsets() and p["kind"] == "virtualservice" else []
        return route, dr, drs

    def plan(self, endpoint):
        route, dr, drs = self.read(endpoint)
        return dict(plan(self.p, route, dr, drs), current_route=route, current_dr=dr)

    def _apply(self, endpoint, k, obj, current):
        body = copy.deepcopy(obj)
        if current and current.get("metadata", {}).get("resourceVersion"):
            # the list is sent whole: refuse to overwrite a change made since we read it
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return endpoint.apply(k, body, dry_run=self.module.check_mode)

    def write(self, endpoint, planned):
        """Apply what changed; on a conflict (Argo wrote meanwhile) re-read and re-plan."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                result = {"route": planned["current_route"], "destination_rule": planned["current_dr"]}
                if planned["changed"].get("destination_rule"):
                    result["destination_rule"] = self._apply(endpoint, self.dr_kind, planned["destination_rule"],
                                                             planned["current_dr"])
                if planned["changed"]["route"]:
                    result["route"] = self._apply(endpoint, self.route_kind, planned["route"],
                                                  planned["current_route"])
                return planned, result
            except FleetError as e:
                if "(409)" not in str(e) or attempt == CONFLICT_RETRIES - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
                planned = self.plan(endpoint)
                if planned["errors"]:
                    raise FleetError("; ".join(planned["errors"]))
        raise FleetError("unreachable")  # pragma: no cover

    def remove(self, endpoint):
        ns, p = self.p["namespace"], self.p
        found = {}
        targets = [("route", self.route_kind, p["name"])]
        if p["destination_rule"]:
            targets.append(("destination_rule", self.dr_kind, p["destination_rule"]["name"]))
        for key, k, name in targets:
            current = endpoint.get(k, ns, name)
            found[key] = current
            if current and not self.module.check_mode:
                endpoint.delete(k, ns, name)
        return found

    def endpoints(self):
        if self.to_control_plane:
            if self.module.params.get("clusters"):
                self.module.warn("clusters is ignored with target=karmada: the PropagationPolicy decides placement")
            return ["karmada"]
        return self.fleet.resolve(self.module.params.get("clusters"))

    def each(self, names, fn):
        if self.to_control_plane:
            try:
                return {"karmada": (True, fn(self.fleet.control))}
            except FleetError as e:
                return {"karmada": (False, str(e))}
        return self.fleet.run(names, fn)

    def fail(self, msg, clusters, changed=False):
        self.module.fail_json(msg=msg, changed=changed, clusters=clusters)

    def absent(self, names):
        results = self.each(names, self.remove)
        clusters, changed, failed = {}, False, []
        diffs = []
        for name in names:
            ok, value = results[name]
            if not ok:
                failed.append(name)
                clusters[name] = {"changed": False, "msg": value}
                continue
            c = any(value.values())
            changed = changed or c
            clusters[name] = {"changed": c}
            for key, obj in value.items():
                if obj:
                    diffs.append({"before": obj, "after": {},
                                  "before_header": "{0}: {1}".format(name, obj["kind"])})
        if failed:
            self.fail("failed in {0}: {1}".format(
                ", ".join(failed), "; ".join(clusters[n]["msg"] for n in failed)), clusters, changed)
        result = dict(changed=changed, clusters=clusters)
        if self.module._diff:
            result["diff"] = diffs
        return result

    def present(self, names):
        # 1. read and plan everywhere, 2. stop on any error, 3. write everywhere
        planned = self.each(names, self.plan)
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
            self.fail("nothing was written: " + "; ".join(errors), clusters)

        written = self.each(names, lambda ep: self.write(ep, planned[ep.name][1]))
        changed, failed, diffs, first = False, [], [], None
        for name in names:
            ok, value = written[name]
            if not ok:
                failed.append(name)
                clusters[name] = {"changed": False, "msg": value}
                continue
            pl, applied = value
            c = any(pl["changed"].values())
            changed = changed or c
            route = applied["route"] if pl["changed"]["route"] else pl["current_route"]
            entry = {"changed": c, self.route_key: route, "routing": routing_summary(route or pl["route"])}
            if pl["destination_rule"]:
                entry["destination_rule"] = applied["destination_rule"]
            for w in pl["warnings"]:
                self.module.warn("{0}: {1}".format(name, w))
            clusters[name] = entry
            first = first or entry
            for key in ("destination_rule", "route"):
                if key in pl["after"] and pl["changed"].get(key):
                    diffs.append({"before": pl["before"][key], "after": pl["after"][key],
                                  "before_header": "{0}: {1} (before)".format(name, pl["after"][key]["kind"]),
                                  "after_header": "{0}: {1} (after)".format(name, pl["after"][key]["kind"])})
        if failed:
            self.fail("failed in {0}: {1}".format(
                ", ".join(failed), "; ".join(clusters[n]["msg"] for n in failed)), clusters, changed)
        result = dict(changed=changed, clusters=clusters)
        if first:
            result[self.route_key] = first[self.route_key]
            result["routing"] = first["routing"]
            if "destination_rule" in first:
                result["destination_rule"] = first["destination_rule"]
        if self.module._diff:
            result["diff"] = diffs
        return result

    def run(self):
        names = self.endpoints()
        if self.p["state"] == "absent":
            return self.absent(names)
        return self.present(names)


def main():
    module = AnsibleModule(
        argument_spec=argspec(),
        required_if=[("state", "present", ["stable"])],
        supports_check_mode=True,
    )
    spec = normalize(dict((k, module.params.get(k)) for k in ROUTE_OPTIONS))
    errors = validate(spec)
    if errors:
        module.fail_json(msg="nothing was written: " + "; ".join(errors), errors=errors)
    fleet = fleet_from_module(module)
    try:
        module.exit_json(**CanaryRoute(module, fleet, spec).run())
    except (FleetError, RouteError) as e:
        module.fail_json(msg=str(e))


if __name__ == "__main__":
    main()
