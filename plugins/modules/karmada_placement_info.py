#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: karmada_placement_info
short_description: Whether a workload's replicas run where Karmada placed them, optionally waiting until they do
version_added: 0.2.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Reads a workload's template in Karmada and its ResourceBinding - the replica count Karmada took from the template,
    the replicas it assigned to each cluster, and what each cluster reports about its copy (through the resource
    interpreter's status reflection, which the collection's customizations install for Rollouts).
  - The placement is settled when the binding carries the template's replica count, the scheduler has placed that
    count, and every assigned cluster reports exactly its replicas, all ready, for the generation its controller has
    observed - so a report from before Karmada pushed a new count never passes for the new one.
  - With O(wait), watches the binding until it is settled. Offboarding waits so after each change of the replica count
    or the weights, before a member lets go of its replicas.
  - Everything is read from Karmada; no member is asked.
extends_documentation_fragment:
  - multicluster.canary.fleet
options:
  name:
    description: The workload's name.
    type: str
    required: true
  namespace:
    description: The workload's namespace.
    type: str
    required: true
  kind:
    description: The workload's kind (the binding is named C(NAME-KIND) in lower case).
    type: str
    default: Rollout
  api_version:
    description: The workload's API version.
    type: str
    default: argoproj.io/v1alpha1
  wait:
    description: Wait until the placement is settled.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for; the module fails, saying which clusters are not there yet, when they pass.
    type: int
    default: 300
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: It only reads (and waits).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - Needs C(get) on the workload's kind and on C(resourcebindings) in Karmada, and C(watch) on C(resourcebindings) to
    wait (without it, the binding is read again every second).
seealso:
  - module: multicluster.canary.karmada_propagation
"""

EXAMPLES = r"""
- name: Wait until ruoyi-system's replicas run where Karmada placed them
  multicluster.canary.karmada_placement_info:
    name: ruoyi-system
    namespace: ruoyi
    wait: true
  register: placement

- name: Show them
  ansible.builtin.debug:
    msg: "{{ placement.message }}"
"""

RETURN = r"""
settled:
  description: Whether every assigned cluster runs exactly its replicas, all ready.
  returned: always
  type: bool
replicas:
  description: The template's replica count in Karmada (null when the template is not there).
  returned: always
  type: int
clusters:
  description: Per assigned cluster, its share and what it reports.
  returned: always
  type: dict
  sample:
    k8s-master-beijing: {assigned: 2, replicas: 2, ready: 2, applied: true, observed: true, settled: true}
message:
  description: The placement in one sentence, or what is not there yet.
  returned: always
  type: str
  sample: "6 replicas running as placed: k8s-master-beijing=2, k8s-master-guangzhou=1, ..."
waited:
  description: Seconds waited.
  returned: with O(wait)
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import (
    FleetError,
    Kind,
    fleet_argument_spec,
    fleet_from_module,
    kind,
)
from ansible_collections.multicluster.canary.plugins.module_utils.karmada_placement import binding_name, placement
from ansible_collections.multicluster.canary.plugins.module_utils.waiter import FleetWaiter


def workload_kind(api_version, kind_name):
    try:
        return kind(kind_name)
    except FleetError:
        group, version = api_version.rpartition("/")[::2]
        return Kind(group, version, kind_name.lower() + "s", kind_name)


def main():
    module = AnsibleModule(argument_spec=fleet_argument_spec(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        kind=dict(type="str", default="Rollout"),
        api_version=dict(type="str", default="argoproj.io/v1alpha1"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    ), supports_check_mode=True)
    p = module.params
    fleet = fleet_from_module(module)
    binding_kind = kind("ResourceBinding")
    name = binding_name(p["name"], p["kind"])
    try:
        template = fleet.control.get(workload_kind(p["api_version"], p["kind"]), p["namespace"], p["name"])
        if template is None:
            module.fail_json(msg="{0} {1}/{2} does not exist in Karmada".format(p["kind"], p["namespace"], p["name"]))
        replicas = (template.get("spec") or {}).get("replicas")
        if not p["wait"]:
            module.exit_json(changed=False, **placement(fleet.control.get(binding_kind, p["namespace"], name), replicas))
        started = time.monotonic()
        waiter = FleetWaiter(fleet, binding_kind, p["namespace"], name)
        found = waiter.wait_one(fleet.control, lambda _m, b: placement(b, replicas)["settled"], p["wait_timeout"])
    except FleetError as e:
        module.fail_json(msg=str(e))
    result = placement(found, replicas)
    result.update(changed=False, waited=round(time.monotonic() - started, 1))
    if not result["settled"]:
        result["msg"] = "{0} {1}/{2}: not as placed after {3}s: {4}".format(
            p["kind"], p["namespace"], p["name"], p["wait_timeout"], result["message"])
        if waiter.watch_errors:
            result["msg"] += " (watch: {0})".format("; ".join(sorted(set(waiter.watch_errors.values()))))
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
