# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: surge_replicas
short_description: The replica count that moves a member's share of an app to the others without a dip
version_added: 0.2.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Karmada divides a workload's replicas by static weights and removes a member's copy at once when its weight becomes
    0, while the others only start their new replicas. Offboarding first raises the workload's replica count to the
    number this filter returns - every member keeps at least what it has, every remaining member then holds at least
    its final share - and sets the weight to 0 only once those replicas are ready.
  - Returns 0 when no surge is needed (the others already hold their final share, or the member holds no replica).
  - Reads what Karmada has (the ResourceBinding's assignment, the PropagationPolicy's weights), not the inventory.
options:
  _input:
    description: The workload's ResourceBinding in Karmada (C(work.karmada.io/v1alpha2)), as C(kubernetes.core.k8s_info) returns it.
    type: dict
    required: true
  policy:
    description: The app's PropagationPolicy with its static weight list.
    type: dict
    required: true
  leaving:
    description: The member being offboarded.
    type: str
    required: true
  app:
    description:
      - The app's catalogue entry; its C(replicas), or C(replicas_per_weight) (default 1) times the remaining weights,
        is the replica count once the member is gone.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: How many replicas ruoyi-system needs while k8s-master-shenzhen's move
  ansible.builtin.set_fact:
    surge: "{{ binding | multicluster.canary.surge_replicas(policy, 'k8s-master-shenzhen', multicluster_canary_apps['ruoyi-system']) }}"
"""

RETURN = r"""
_value:
  description: The replica count to raise the workload to first, or 0 when none is needed.
  type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.multicluster.canary.plugins.module_utils.karmada_drain import (
    assigned_of,
    surge_total,
    weights_of,
)


def surge_replicas(binding, policy, leaving, app):
    weights = weights_of(policy)
    app = app or {}
    try:
        if app.get("replicas") is not None:
            final = int(app["replicas"])
        else:
            rest = sum(w for c, w in weights.items() if c != leaving)
            final = int(app.get("replicas_per_weight", 1)) * rest
        return surge_total(assigned_of(binding), weights, leaving, final)
    except (TypeError, ValueError) as e:
        raise AnsibleFilterError("surge_replicas: {0}".format(e))


class FilterModule(object):
    def filters(self):
        return {"surge_replicas": surge_replicas}
