#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: karmada_cluster_info
short_description: Whether Karmada's member clusters are Ready and which APIs each one serves
version_added: 0.1.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Reads the C(Cluster) objects of Karmada (C(cluster.karmada.io/v1alpha1)) and, for each member of O(clusters)
    that Karmada knows and reports Ready, the API group versions the member serves (its C(/apis) discovery),
    through the same connection the other modules of the collection use (Karmada's cluster proxy, or a kubeconfig
    context per member) - no kubeconfig is read by the task itself, so an AWX credential's C(K8S_AUTH_*)
    variables are enough.
  - With O(required_api_versions), lists what is missing per member in RV(problems); the module itself never
    fails on a missing member or API, so a play can word its own check (see the C(bootstrap) role).
options:
  clusters:
    description:
      - The member clusters to check, by their Karmada C(Cluster) name (for example the hosts of the inventory's
        C(members) group). Names Karmada does not know are reported in RV(problems), not refused.
      - When omitted, every cluster Karmada knows.
    type: list
    elements: str
  required_api_versions:
    description:
      - API group versions (C(GROUP/VERSION), for example C(argoproj.io/v1alpha1)) every checked member must serve.
    type: list
    elements: str
    default: []
  expected:
    description:
      - What the inventory says of members Karmada already knows, by C(Cluster) name - C(api_endpoint) (the URL
        Karmada reaches it by), C(labels) and C(region), each left out or blank when the inventory does not say.
      - A member whose C(Cluster) differs is listed in RV(outdated), so a play can join it again with
        M(multicluster.canary.karmada_cluster) (the C(cluster_join) role does); names Karmada does not know are left
        out of RV(outdated) (they are not joined yet).
    type: dict
    default: {}
notes:
  - The caller needs C(list) on C(clusters) in Karmada and, with O(member_access=karmada_proxy), C(get) on
    C(clusters/proxy); discovery (C(/apis)) is open to every authenticated user of a member by default.
seealso:
  - module: multicluster.canary.rollout_promote
extends_documentation_fragment:
  - multicluster.canary.fleet
  - multicluster.canary.attributes.read_only
"""

EXAMPLES = r"""
- name: Check the inventory's members before a release
  multicluster.canary.karmada_cluster_info:
    clusters: "{{ groups['members'] }}"
    required_api_versions:
      - argoproj.io/v1alpha1
      - networking.istio.io/v1beta1
  register: members

- name: Fail naming every member that is unknown, not Ready or missing an API
  ansible.builtin.assert:
    that: members.problems | length == 0
    fail_msg: "{{ members.problems | join('; ') }}"
"""

RETURN = r"""
clusters:
  description: Per checked cluster, what Karmada and the member said.
  returned: always
  type: dict
  sample:
    k8s-master-beijing:
      known: true
      ready: true
      api_versions: [argoproj.io/v1alpha1, networking.istio.io/v1, networking.istio.io/v1beta1]
      missing_api_versions: []
      error: null
  contains:
    known:
      description: Whether Karmada has a C(Cluster) of that name.
      type: bool
    ready:
      description: Whether its C(Ready) condition is C(True).
      type: bool
    api_versions:
      description: The group versions the member serves (empty when it was not asked - unknown, not Ready, or an error).
      type: list
      elements: str
    missing_api_versions:
      description: The O(required_api_versions) it does not serve.
      type: list
      elements: str
    error:
      description: Why its APIs could not be read, or null.
      type: str
    api_endpoint:
      description: The URL Karmada reaches it by (its C(Cluster)'s C(spec.apiEndpoint)), or null when unknown.
      type: str
outdated:
  description:
    - Per member of O(expected) whose C(Cluster) in Karmada does not hold what O(expected) says, what differs.
  returned: always
  type: dict
  sample: {k8s-master-shanghai: ["apiEndpoint https://10.0.0.12:6443 (Karmada has https://10.0.0.2:6443)"]}
known:
  description: Every cluster Karmada knows, with whether it is Ready.
  returned: always
  type: dict
  sample: {k8s-master-beijing: true, k8s-master-shanghai: false}
problems:
  description: One sentence per member that is unknown to Karmada, not Ready, unreachable or missing a required API.
  returned: always
  type: list
  elements: str
  sample: ["k8s-master-shanghai: not Ready in Karmada"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.cluster_info import cluster_info
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import fleet_argument_spec
from ansible_collections.multicluster.canary.plugins.module_utils.runner import execute


def main():
    module = AnsibleModule(argument_spec=fleet_argument_spec(
        required_api_versions=dict(type="list", elements="str", default=[]),
        expected=dict(type="dict", default={}),
    ), supports_check_mode=True)
    execute(module, cluster_info)


if __name__ == "__main__":
    main()
