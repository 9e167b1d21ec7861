#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: karmada_cluster
short_description: Join a cluster to Karmada in push mode, or unjoin it, through the API
version_added: 0.2.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Does what C(karmadactl join) does in push mode, with the member cluster's own credentials (a kubeconfig
    context) and the collection's connection to Karmada, and then waits until Karmada reports the cluster Ready.
  - In the member, namespace O(cluster_namespace) (created only when missing), the service accounts
    C(karmada-impersonator) (Karmada's cluster proxy acts through it) and C(karmada-NAME) (Karmada's controllers act
    through it), a ClusterRole C(karmada-controller-manager:karmada-NAME) with every permission bound to the latter,
    and a service-account-token Secret for each; the member's token controller fills them in.
  - In Karmada, in O(cluster_namespace), the Secrets C(NAME) (C(caBundle) and C(token)) and C(NAME-impersonator)
    (C(token)), owned by the C(Cluster) C(NAME) with C(syncMode=Push), the member's API server URL, its cluster id
    (the UID of its C(kube-system) namespace) and both secret references. The names and labels are
    C(karmadactl)'s, so C(karmadactl unjoin) can undo a join made here, and the other way round.
  - Every object is written with a server-side apply and only when it differs, so a second run changes nothing; a
    run after an interrupted one completes the join.
  - Before the first write, refuses a member already joined under another name, a name Karmada uses for another
    cluster, a Pull mode (C(karmada-agent)) member, and credentials that may not do what joining does - each error
    names the option at fault.
  - O(state=absent) deletes the C(Cluster) and waits until Karmada has removed it (Karmada first removes what it
    placed in the member), then Karmada's two Secrets and, with O(member_cleanup), the member's objects (like
    C(karmadactl unjoin)). Move the apps' replicas off the cluster first (C(playbooks/offboard.yml) does).
extends_documentation_fragment:
  - multicluster.canary.fleet
options:
  name:
    description:
      - The name of the cluster in Karmada (its C(Cluster) object), a DNS-1123 label of at most 48 characters.
    type: str
    required: true
  state:
    description:
      - V(present) joins the cluster (or checks and completes its join), V(absent) unjoins it.
    type: str
    default: present
    choices: [present, absent]
  cluster_kubeconfig:
    description:
      - The kubeconfig (path or content as a dictionary) with the member's own credentials - a cluster administrator's,
        since Karmada gets every permission in the member. Never logged.
      - Defaults to the Karmada connection's kubeconfig (O(kubeconfig) or E(K8S_AUTH_KUBECONFIG)).
    type: raw
  cluster_context:
    description:
      - The context of the member in O(cluster_kubeconfig); defaults to O(name).
      - Its server is the C(apiEndpoint) Karmada uses unless O(api_endpoint) is given; its C(insecure-skip-tls-verify)
        and C(proxy-url) are carried over to the C(Cluster), as C(karmadactl join) does.
    type: str
  api_endpoint:
    description:
      - The member's API server URL as Karmada reaches it, when it differs from the kubeconfig's (a laptop may reach
        the member through a tunnel or another name).
    type: str
  cluster_namespace:
    description:
      - The namespace of Karmada's credentials, in Karmada and in the member.
    type: str
    default: karmada-cluster
  labels:
    description:
      - Labels of the C(Cluster) in Karmada, for example C(region=north) and C(wave=1); the
        P(multicluster.canary.karmada#inventory) inventory plugin groups members by them.
      - Labels are added or changed, never removed.
    type: dict
    default: {}
  region:
    description: C(spec.region) of the C(Cluster) (C(karmadactl join --cluster-region)).
    type: str
  zones:
    description: C(spec.zones) of the C(Cluster) (C(karmadactl join --cluster-zones)).
    type: list
    elements: str
  provider:
    description: C(spec.provider) of the C(Cluster) (C(karmadactl join --cluster-provider)).
    type: str
  wait:
    description:
      - With O(state=present), wait until Karmada reports the cluster Ready and, with O(member_access=karmada_proxy),
        until the caller reaches the member through Karmada's cluster proxy (Karmada lets the member's impersonator
        act as the caller a moment after the join). Watches the C(Cluster); no wait in check mode.
      - With O(state=absent), the C(Cluster) is always waited for when O(member_cleanup) is on, since Karmada needs the
        member's credentials until it is gone.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for.
    type: int
    default: 120
  member_cleanup:
    description:
      - With O(state=absent), also delete the member's objects (the ClusterRole and its binding, the service account
        and the namespace O(cluster_namespace)). Set V(false) for a member that cannot be reached any more.
    type: bool
    default: true
  member_objects:
    description:
      - Objects to apply in the member with its own credentials before the C(Cluster) is written (so the collection's
        identity can act there as soon as it is Ready), and to delete with O(state=absent) - the collection's member RBAC,
        C(docs/rbac/member-clusterrole.yml) and C(docs/rbac/member-binding.yml). C(List) kinds are flattened.
      - Kinds C(Namespace), C(ServiceAccount), C(ClusterRole), C(ClusterRoleBinding), C(Role) and C(RoleBinding).
    type: list
    elements: dict
    default: []
  check_rollouts_controller:
    description:
      - After the join, check that the member's Argo Rollouts controller reconciles - a Rollout of no replicas in
        O(cluster_namespace) must become Healthy within a minute - and remove it again. Fails naming the member otherwise.
      - Skipped in check mode and without O(wait).
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Server-side dry runs of the writes; a join not made yet is predicted, and its Secrets show no values.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: One entry per object written or deleted; Secret values are never shown.
notes:
  - Needs, in Karmada, C(get), C(list), C(watch), C(create), C(patch) and C(delete) on C(clusters) and C(get),
    C(create), C(patch) and C(delete) on C(secrets) in O(cluster_namespace) (C(docs/rbac/karmada-join.yml)), and a
    cluster administrator's credentials in the member. Both are checked before anything is written.
  - Tokens and the CA bundle are copied from the member's Secrets to Karmada's without being decoded, shown or
    returned.
seealso:
  - module: multicluster.canary.karmada_cluster_info
  - plugin: multicluster.canary.karmada
    plugin_type: inventory
"""

EXAMPLES = r"""
- name: Join a new member with its own admin kubeconfig context, Karmada reaching it by another URL
  multicluster.canary.karmada_cluster:
    kubeconfig: ~/.kube/karmada-automation
    context: karmada-apiserver
    name: k8s-master-hangzhou
    cluster_kubeconfig: ~/.kube/config
    cluster_context: hangzhou-admin
    api_endpoint: https://10.20.0.10:6443
    labels:
      region: east
      wave: "2"

- name: Unjoin it (after its replicas moved to the other members)
  multicluster.canary.karmada_cluster:
    name: k8s-master-hangzhou
    state: absent
    cluster_kubeconfig: ~/.kube/config
    cluster_context: hangzhou-admin

- name: Unjoin a member that is gone for good (Karmada's side only)
  multicluster.canary.karmada_cluster:
    name: k8s-master-hangzhou
    state: absent
    member_cleanup: false
"""

RETURN = r"""
name:
  description: The cluster's name.
  returned: always
  type: str
cluster:
  description: The C(Cluster) as Karmada has it after the run (null after O(state=absent), or in check mode before a join).
  returned: always
  type: dict
  contains:
    labels:
      description: Its labels.
      type: dict
    spec:
      description: Its spec, without the resource models Karmada fills in.
      type: dict
    ready:
      description: Whether its C(Ready) condition is C(True).
      type: bool
    conditions:
      description: Its conditions.
      type: list
      elements: dict
    kubernetes_version:
      description: The member's Kubernetes version as Karmada read it.
      type: str
    api_versions:
      description: The group versions the member serves, as Karmada collected them.
      type: list
      elements: str
  sample:
    labels: {wave: "2"}
    spec: {apiEndpoint: "https://10.20.0.10:6443", syncMode: Push, id: 1c2f...}
    ready: true
    kubernetes_version: v1.32.3
ready:
  description: Whether the cluster is Ready in Karmada at the end of the run.
  returned: always
  type: bool
api_endpoint:
  description: The member's API server URL as Karmada reaches it.
  returned: always
  type: str
cluster_id:
  description: The member's cluster id (the UID of its kube-system namespace); null when it was not asked.
  returned: always
  type: str
objects:
  description: Each object written, deleted or found as it should be, in order.
  returned: always
  type: list
  elements: dict
  sample:
    - {cluster: member, kind: ServiceAccount, namespace: karmada-cluster, name: karmada-impersonator, action: created}
    - {cluster: karmada, kind: Cluster, namespace: null, name: k8s-master-hangzhou, action: unchanged}
waited:
  description: Seconds spent waiting for Karmada.
  returned: when it waited
  type: float
rollouts_controller:
  description: C(reconciles) when O(check_rollouts_controller) found the member's Argo Rollouts controller at work.
  returned: when it was checked
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import (
    FleetError,
    fleet_argument_spec,
    fleet_from_module,
)
from ansible_collections.multicluster.canary.plugins.module_utils.join_runner import ClusterMembership
from ansible_collections.multicluster.canary.plugins.module_utils.karmada_join import JoinError


def argspec():
    return fleet_argument_spec(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        cluster_kubeconfig=dict(type="raw", no_log=True),
        cluster_context=dict(type="str"),
        api_endpoint=dict(type="str"),
        cluster_namespace=dict(type="str", default="karmada-cluster"),
        labels=dict(type="dict", default={}),
        region=dict(type="str"),
        zones=dict(type="list", elements="str"),
        provider=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
        member_cleanup=dict(type="bool", default=True),
        member_objects=dict(type="list", elements="dict", default=[]),
        check_rollouts_controller=dict(type="bool", default=False),
    )


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    fleet = fleet_from_module(module)
    runner = ClusterMembership(fleet, module.params, check_mode=module.check_mode, want_diff=module._diff)
    try:
        result = runner.present() if module.params["state"] == "present" else runner.absent()
    except JoinError as e:
        module.fail_json(msg=str(e), field=e.field, changed=runner.changed, objects=runner.objects)
    except FleetError as e:
        module.fail_json(msg=str(e), changed=runner.changed, objects=runner.objects)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
