#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: karmada_interpreter
short_description: Teach Karmada to carry Argo Rollouts and the Istio objects they drive
version_added: 0.1.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Installs, updates or removes Karmada C(ResourceInterpreterCustomization) objects (C(config.karmada.io/v1alpha1)),
    named C(multicluster-canary-KIND), whose Lua scripts make Karmada handle Argo Rollouts.
  - V(rollout) (C(argoproj.io/v1alpha1) C(Rollout)) - replicas and pod requirements (so a divided policy gives each
    member its share of C(spec.replicas); Karmada has no interpreter of its own for a Rollout), revision of
    C(spec.replicas) per member, status reflection and aggregation (replica counts summed; phase and message
    those of the least advanced member), health (healthy unless C(Degraded) or aborted), dependencies (pod
    dependencies, the canary and stable Services, VirtualServices and DestinationRule, for C(propagateDeps)), and
    retention of C(spec.paused) and C(spec.restartAt) set in members by the Argo Rollouts CLI.
  - The aggregated Rollout status in Karmada says C(abort) as the members do now (false again after a retry or
    a new image). The Rollout retention also keeps the empty C(resources) the Argo Rollouts controller writes on
    containers that have none (it writes the Rollout back through its Go types on each new revision), so Karmada
    does not rewrite the member and each template change raises the member's generation by one; it copies
    nothing else of the member (not its status).
  - V(virtualservice), V(destinationrule), V(service) - retention of what the Argo Rollouts controller writes in
    each member, which Karmada would otherwise revert to its template - route weights of the VirtualService
    destinations that the member and the template both have (matched by route name, or position for unnamed
    routes, then by destination host and subset), Argo's managed routes (header and mirror routes - the named routes
    only the member has, above the first template route, except those M(multicluster.canary.istio_canary_route)
    had put there itself, as its VirtualService annotation C(multicluster.canary/owned-routes) on the member says,
    those were removed from the template); the C(rollouts-pod-template-hash) label of DestinationRule subsets;
    the C(rollouts-pod-template-hash) of Service selectors, plus the values Karmada's built-in Service retention
    keeps (C(clusterIP), C(clusterIPs), C(healthCheckNodePort), node ports). Every other change to the
    template (new routes, hosts, matches, subsets, ports) still reaches the members.
  - Karmada reads a Rollout's replicas only when it builds the Rollout's C(ResourceBinding), so a Rollout propagated
    before the V(rollout) customization existed keeps the whole C(spec.replicas) in every member. When the V(rollout)
    customization is created or its replica scripts change, every Rollout binding is refreshed; on any other run,
    the bindings whose replicas still differ from their template's. A refresh adds the annotation
    C(multicluster.canary/interpreter-refreshed-at) to the Rollout template (a metadata-only change, which makes
    Karmada build the binding again, and which it carries to the members' Rollouts); the module then watches each
    binding until Karmada has rebuilt it and reports it in RV(refreshed). See O(refresh_bindings).
  - Karmada accepts one customization per kind and operation; when another one (not made by this module) already
    covers a kind, the task fails naming it, before anything is written.
options:
  state:
    description:
      - V(present) installs or updates the customizations of O(kinds); V(absent) removes them.
    type: str
    default: present
    choices: [present, absent]
  kinds:
    description:
      - Which customizations to manage. Default all.
    type: list
    elements: str
    choices: [rollout, service, virtualservice, destinationrule]
  istio_api_versions:
    description:
      - Versions of C(networking.istio.io) to install the VirtualService and DestinationRule customizations for.
        Karmada matches a customization on the exact apiVersion it reads a template at (the group's preferred
        version), so the default covers every version Istio serves.
      - The first one is also the apiVersion of the Istio dependencies of a Rollout.
    type: list
    elements: str
    default: [v1, v1beta1, v1alpha3]
  refresh_bindings:
    description:
      - With O(state=present), refresh the C(ResourceBinding) of every Rollout that Karmada built without the replica
        customization (or, when that customization was created or changed by this task, of every Rollout), and wait
        until Karmada has rebuilt each, so that a divided policy divides them.
      - The task fails naming the bindings not rebuilt within O(refresh_timeout) seconds; the next run refreshes them
        again.
    type: bool
    default: true
  refresh_timeout:
    description:
      - Seconds to wait, in all, for Karmada to rebuild the refreshed bindings.
    type: int
    default: 60
  lua_scripts:
    description:
      - The Lua scripts, by file name. Filled in by the module's action plugin from the files the collection ships
        (C(plugins/module_utils/lua)); a value given in the task is replaced. Not shown in the task's invocation.
    type: dict
attributes:
  check_mode:
    support: full
    details: The API server checks the objects (and Karmada's webhook compiles the Lua) with a server-side dry run.
  diff_mode:
    support: full
notes:
  - The member options (O(clusters), O(member_access)...) of the shared connection options are not used; the
    customizations live in the Karmada control plane only.
  - The caller needs C(get), C(list), C(patch) and C(delete) on C(resourceinterpretercustomizations) in Karmada,
    and to refresh bindings, C(list) and C(watch) on C(resourcebindings) and C(get) and C(patch) on C(rollouts).
seealso:
  - module: multicluster.canary.karmada_propagation
  - name: Customizing Karmada's resource interpreter
    description: What each customization does and when Karmada calls it.
    link: https://karmada.io/docs/userguide/globalview/customizing-resource-interpreter
extends_documentation_fragment:
  - multicluster.canary.fleet
"""

EXAMPLES = r"""
- name: Let Karmada divide Rollouts and keep what Argo Rollouts writes in members
  multicluster.canary.karmada_interpreter:
    kubeconfig: ~/.kube/karmada.config
    context: karmada-apiserver

- name: Only the Rollout customization
  multicluster.canary.karmada_interpreter:
    kinds: [rollout]

- name: Remove every customization this collection installs
  multicluster.canary.karmada_interpreter:
    state: absent
"""

RETURN = r"""
customizations:
  description: Names of the customizations managed by this task.
  returned: always
  type: list
  elements: str
  sample: [multicluster-canary-rollout, multicluster-canary-service]
changed_customizations:
  description: Names of the customizations created, updated or deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [multicluster-canary-rollout]
refreshed:
  description:
    - The Rollout templates refreshed (or that would be, in check mode) so that Karmada rebuilds their bindings, with
      the binding's replicas before the refresh and the replicas of the template.
  returned: with O(state=present) and O(refresh_bindings=true)
  type: list
  elements: dict
  sample: [{kind: Rollout, namespace: ruoyi, name: ruoyi-vue, binding: ruoyi-vue-rollout, replicas_before: 0,
            replicas: 4}]
diff:
  description: Before and after of each customization written or deleted, and of each template refreshed.
  returned: when run with C(--diff)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import fleet_argument_spec
from ansible_collections.multicluster.canary.plugins.module_utils.interpreter_runner import interpret
from ansible_collections.multicluster.canary.plugins.module_utils.karmada_interpreter import ISTIO_VERSIONS, KINDS
from ansible_collections.multicluster.canary.plugins.module_utils.runner import execute


def argspec():
    return fleet_argument_spec(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        kinds=dict(type="list", elements="str", choices=list(KINDS)),
        istio_api_versions=dict(type="list", elements="str", default=list(ISTIO_VERSIONS)),
        refresh_bindings=dict(type="bool", default=True),
        refresh_timeout=dict(type="int", default=60),
        lua_scripts=dict(type="dict"),
    )


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    execute(module, interpret, customizations=[], changed_customizations=[])


if __name__ == "__main__":
    main()
