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
      headers:
        description:
          - Header conditions of the lane, as in O(header_routes[].headers); a request that meets them is in the lane.
        type: dict
      source_labels:
        description:
          - Labels of calling workloads that belong to the lane (Istio C(sourceLabels); not with O(kind=httproute)).
        type: dict
      name:
        description:
          - Route name of the lane (unique in the VirtualService).
        type: str
        required: true
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
          - Subsets to define, merged by name into those the rule has.
        type: list
        elements: dict
        default: []
        suboptions:
          labels:
            description:
              - Pod labels selecting the subset. Argo's C(rollouts-pod-template-hash) is added by Argo and kept.
            type: dict
          name:
            description:
              - Subset name (as O(stable.subset) and O(canary.subset) name it).
            type: str
            required: true
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
    details: Computes and returns the objects as they would be; writes nothing.
  diff_mode:
    support: full
    details: Shows, per cluster, the fields of the route and DestinationRule the module sets, before and after.
notes:
  - The module adds the annotation C(multicluster.canary/owned-routes) to the VirtualService, listing its own
    routes, so that a route removed from the options is removed from the VirtualService on the next run.
  - Istio's C(http) list is atomic for server-side apply, so the whole merged list is sent, with the
    C(resourceVersion) read; a concurrent change by Argo Rollouts makes the write retry on fresh data.
  - In the members, Karmada re-applies the template over changes Argo Rollouts makes to weights and routes
    unless a retention customization keeps them; see the collection's README.
extends_documentation_fragment:
  - multicluster.canary.fleet
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
    lanes:
      - name: canary-lane
        headers: {X-canary: {exact: test-user}}
        source_labels: {lane: canary}
    gateways: [mesh]
    stable: {host: ruoyi-system, subset: stable}
    canary: {host: ruoyi-system, subset: canary}
    # Argo Rollouts adds each subset's rollouts-pod-template-hash label (kept by the module)
    destination_rule: {name: ruoyi-system, subsets: [{name: stable}, {name: canary}]}

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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import object_argument_spec
from ansible_collections.multicluster.canary.plugins.module_utils.route_runner import canary_route
from ansible_collections.multicluster.canary.plugins.module_utils.runner import execute

DESTINATION_SPEC = dict(
    host=dict(type="str"),
    subset=dict(type="str"),
    port=dict(type="int"),
)
LANE_SPEC = dict(
    name=dict(type="str", required=True),
    headers=dict(type="dict"),
    source_labels=dict(type="dict"),
)
# A header route is a lane whose requests may also go to the stable.
HEADER_ROUTE_SPEC = dict(LANE_SPEC, destination=dict(type="str", default="canary", choices=["canary", "stable"]))
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


def argspec():
    stable = copy.deepcopy(DESTINATION_SPEC)
    stable["host"]["required"] = True
    return object_argument_spec(
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


def main():
    module = AnsibleModule(
        argument_spec=argspec(),
        required_if=[("state", "present", ["stable"])],
        supports_check_mode=True,
    )
    execute(module, canary_route)


if __name__ == "__main__":
    main()
