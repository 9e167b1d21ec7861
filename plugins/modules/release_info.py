#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: release_info
short_description: Where a release is in every member cluster, and where each member's routes really send traffic
version_added: 0.2.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Reads, in every member cluster at once, the app's Argo Rollouts C(Rollout) and the route objects its
    C(trafficRouting) names (Istio C(VirtualService)s, or the C(HTTPRoute)s of the Gateway API plugin), and
    evaluates those objects with Istio's (or the Gateway API's) matching rules.
  - For each member it reports what the member's own objects say, never what the Rollout's step implies - plain
    traffic (no header) to the stable and canary versions, where a request with the lane header goes, where a caller
    with the lane's source labels goes (mesh routes), and whether each header route the Rollout manages
    (C(managedRoutes)) is present. Argo Rollouts removes its managed routes when the canary has no pods, and a route
    edited by hand shows as edited.
  - A member that cannot be read is reported in RV(unreachable_clusters), not failed on.
  - Reads only; never changes anything.
options:
  clusters:
    description:
      - The member clusters to read; when omitted, where Karmada placed the Rollout, else every Ready member.
    type: list
    elements: str
notes:
  - The caller needs, in each member, C(get) on C(rollouts), C(replicasets) (for the stable image), and on
    C(virtualservices) or C(httproutes).
seealso:
  - module: multicluster.canary.rollout_promote
  - module: multicluster.canary.istio_canary_route
extends_documentation_fragment:
  - multicluster.canary.fleet
  - multicluster.canary.rollout
  - multicluster.canary.release_view
  - multicluster.canary.release_view.lane
  - multicluster.canary.attributes.read_only
"""

EXAMPLES = r"""
- name: Where ruoyi-vue's release is, and where its traffic goes, in every member
  multicluster.canary.release_info:
    name: ruoyi-vue
    namespace: ruoyi
    lane:
      header: X-canary
      value: test-user
      source_labels: {lane: canary}
  register: release

- name: Show each member's routes as read from the member
  ansible.builtin.debug:
    msg: "{{ release.routes | dict2items | map(attribute='value.text') | list }}"
"""

RETURN = r"""
clusters:
  description: The member clusters read.
  returned: always
  type: list
  elements: str
rollouts:
  description: Per member, the Rollout's summary (as multicluster.canary.rollout_promote returns it).
  returned: always
  type: dict
routes:
  description: Per member, what its route objects do.
  returned: always
  type: dict
  sample:
    k8s-master-beijing:
      text: "VirtualService ruoyi-vue: stable 70% / canary 30%; X-canary: test-user -> canary 100%; header route canary-header present"
      plain_text: "stable 70% / canary 30%"
      managed_routes: {canary-header: present}
      objects:
        - kind: VirtualService
          name: ruoyi-vue
          found: true
          gateway: istio-system/ruoyi-gateway
          plain: {stable: 70, canary: 30, other: 0}
          lane_header: {stable: 0, canary: 100, other: 0}
  contains:
    text:
      description: One line for humans.
      type: str
    plain_text:
      description: Plain traffic at the first route object, in a few words (C(stable 70% / canary 30%)).
      type: str
    managed_routes:
      description: Each of the Rollout's C(managedRoutes) - C(present), C(absent), or C(unknown) when an object could not be read.
      type: dict
    objects:
      description:
        - Per route object the Rollout names - C(found) (true, false, or null with C(error) when it could not be
          read), and the percent of requests that reach C(stable), C(canary) and C(other) destinations for plain
          traffic (C(plain)), the lane header (C(lane_header)) and the lane's callers (C(lane_source), mesh routes
          only); null when no route matches such a request.
      type: list
      elements: dict
fleet:
  description: Where the members are together (as multicluster.canary.rollout_promote returns it).
  returned: always
  type: dict
unreachable_clusters:
  description: The members that could not be read (down, denied, or without the Rollout), with the reason.
  returned: always
  type: dict
message:
  description: The fleet's position in one line.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import object_argument_spec, view_argument_spec
from ansible_collections.multicluster.canary.plugins.module_utils.release_runner import observe
from ansible_collections.multicluster.canary.plugins.module_utils.runner import execute


def argspec():
    return object_argument_spec(**view_argument_spec())


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    execute(module, observe)


if __name__ == "__main__":
    main()
