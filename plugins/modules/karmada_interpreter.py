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
    routes, then by destination host and subset), Argo's managed routes (header and mirror routes - the routes
    only the member has, above the first template route, or those named in the VirtualService annotation
    C(multicluster.canary/managed-routes)); the C(rollouts-pod-template-hash) label of DestinationRule subsets;
    the C(rollouts-pod-template-hash) of Service selectors, plus the values Karmada's built-in Service retention
    keeps (C(clusterIP), C(clusterIPs), C(healthCheckNodePort), node ports). Every other change to the
    template (new routes, hosts, matches, subsets, ports) still reaches the members.
  - Karmada accepts one customization per kind and operation; when another one (not made by this module) already
    covers a kind, the task fails naming it, before anything is written.
extends_documentation_fragment:
  - multicluster.canary.fleet
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
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The API server checks the objects (and Karmada's webhook compiles the Lua) with a server-side dry run.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
notes:
  - The member options (O(clusters), O(member_access)...) of the shared connection options are not used; the
    customizations live in the Karmada control plane only.
  - The caller needs C(get), C(list), C(patch) and C(delete) on C(resourceinterpretercustomizations) in Karmada.
seealso:
  - module: multicluster.canary.karmada_propagation
  - name: Customizing Karmada's resource interpreter
    description: What each customization does and when Karmada calls it.
    link: https://karmada.io/docs/userguide/globalview/customizing-resource-interpreter
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
diff:
  description: Before and after of each customization written or deleted.
  returned: when run with C(--diff)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import (
    FleetError,
    fleet_argument_spec,
    fleet_from_module,
    kind,
)
from ansible_collections.multicluster.canary.plugins.module_utils import karmada_interpreter as ki
from ansible_collections.multicluster.canary.plugins.module_utils.karmada_policy import for_diff, is_subset


def argspec():
    return fleet_argument_spec(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        kinds=dict(type="list", elements="str", choices=list(ki.KINDS)),
        istio_api_versions=dict(type="list", elements="str", default=list(ki.ISTIO_VERSIONS)),
    )


def up_to_date(desired, live):
    return (live is not None and live.get("spec") == desired["spec"]
            and is_subset(desired["metadata"].get("labels") or {}, live["metadata"].get("labels") or {}))


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    p = module.params
    try:
        desired = ki.build_customizations(p["kinds"], p["istio_api_versions"])
    except ValueError as e:
        module.fail_json(msg=str(e))
    fleet = fleet_from_module(module)
    ric = kind("ResourceInterpreterCustomization")
    changed, diffs = [], []

    def note(name, before, after):
        changed.append(name)
        if module._diff:
            label = "ResourceInterpreterCustomization " + name
            diffs.append({"before": for_diff(before), "after": for_diff(after),
                          "before_header": label, "after_header": label})

    try:
        existing = fleet.control.list(ric)
        live = dict((c["metadata"]["name"], c) for c in existing)
        if p["state"] == "present":
            found = ki.conflicts(desired, existing)
            if found:
                module.fail_json(msg="Karmada allows one customization per kind and operation: " + "; ".join(found),
                                 changed=False, customizations=[], changed_customizations=[])
            for want in desired:
                name = want["metadata"]["name"]
                if up_to_date(want, live.get(name)):
                    continue
                after = fleet.control.apply(ric, want, dry_run=module.check_mode)
                note(name, live.get(name), after)
        else:
            for want in desired:
                name = want["metadata"]["name"]
                if name in live:
                    fleet.control.delete(ric, None, name, dry_run=module.check_mode)
                    note(name, live[name], None)
    except FleetError as e:
        module.fail_json(msg=str(e), changed=bool(changed), changed_customizations=changed,
                         customizations=[c["metadata"]["name"] for c in desired])
    result = dict(changed=bool(changed), changed_customizations=changed,
                  customizations=[c["metadata"]["name"] for c in desired])
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
