#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: karmada_propagation
short_description: Karmada PropagationPolicy with cluster weights and release waves
version_added: 0.1.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Creates, updates or deletes a Karmada C(PropagationPolicy) (or C(ClusterPropagationPolicy)) that places
    resources on member clusters, duplicated or divided by static weights or by available replicas.
  - Releases a new image cluster by cluster in O(waves). The clusters of the waves after O(current_wave) keep
    running their previous image through a Karmada C(OverridePolicy) (C(imageOverrider) with a
    C(predicate.path) on the container, which a Rollout needs). Moving to the next wave shrinks the set of held
    clusters; the last wave deletes the C(OverridePolicy). Run the first wave before changing the image of the
    template, so that the held clusters are read while they still run the previous image.
  - O(clusters) is the placement (C(clusterAffinity.clusterNames)), extended by the clusters named in O(weights).
    With neither (nor O(waves)), the policy has no cluster affinity and Karmada places on every member cluster,
    including clusters joined later.
  - Every input is checked before anything is written, and errors name the option at fault; cluster names must be
    known to Karmada (the error lists the known ones). A short name such as C(beijing) stands for the one Karmada
    cluster named C(*-beijing) (for example C(k8s-master-beijing)).
  - Applies with server-side apply (field manager C(multicluster.canary)). Re-running with the same options
    changes nothing, whatever Karmada's webhook added to the policy (labels, defaults).
  - For Argo Rollouts to be divided by weight, Karmada needs the interpreter customizations installed by
    M(multicluster.canary.karmada_interpreter); without them every member gets the full C(spec.replicas).
options:
  name:
    description:
      - Name of the policy.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the C(PropagationPolicy) (and of the resources it selects). Required unless
        O(kind=ClusterPropagationPolicy).
    type: str
  kind:
    description:
      - V(PropagationPolicy) selects resources of its own namespace; V(ClusterPropagationPolicy) is cluster-scoped,
        and its wave hold is a C(ClusterOverridePolicy).
    type: str
    default: PropagationPolicy
    choices: [PropagationPolicy, ClusterPropagationPolicy]
  state:
    description:
      - V(present) creates or updates the policy (and the wave C(OverridePolicy)).
      - V(absent) deletes the policy and its wave C(OverridePolicy).
    type: str
    default: present
    choices: [present, absent]
  resource_selectors:
    description:
      - The resources to propagate. Required when O(state=present); must not be empty.
    type: list
    elements: dict
    suboptions:
      api_version:
        description: API version of the resource, for example C(argoproj.io/v1alpha1).
        type: str
        required: true
        aliases: [apiVersion]
      kind:
        description: Kind of the resource, for example C(Rollout).
        type: str
        required: true
      name:
        description:
          - Name of the resource. Without it, every resource of the kind (that matches
            O(resource_selectors[].label_selector)).
        type: str
      namespace:
        description: Namespace of the resource (for a C(ClusterPropagationPolicy)).
        type: str
      label_selector:
        description: A Kubernetes label selector (C(matchLabels), C(matchExpressions)).
        type: dict
        aliases: [labelSelector]
  weights:
    description:
      - "Static weight per member cluster, for example C({k8s-master-beijing: 1, k8s-master-shanghai: 1})."
      - Non-negative integers, at least one above zero. A cluster of weight 0 gets no replicas of a divided
        workload but still gets the other selected resources (such as Services).
      - The placement is O(clusters) plus the clusters named here; the list of weights follows that order.
      - Implies O(replica_scheduling=divided).
    type: dict
  replica_scheduling:
    description:
      - V(divided) spreads the replicas of workloads over the clusters (by O(weights), O(dynamic_weight), or equally
        when neither is given); V(duplicated) gives each cluster the full count.
      - Defaults to V(divided) when O(weights) or O(dynamic_weight) is given, else V(duplicated).
    type: str
    choices: [duplicated, divided]
  division_preference:
    description:
      - With O(replica_scheduling=divided), V(weighted) (by weights) or V(aggregated) (as few clusters as possible).
    type: str
    default: weighted
    choices: [weighted, aggregated]
  dynamic_weight:
    description:
      - Weigh clusters by the replicas they can still run, instead of O(weights).
    type: str
    choices: [AvailableReplicas]
  spread_constraints:
    description:
      - "Karmada C(spreadConstraints), passed through as given (for example C([{spreadByField: cluster, maxGroups: 2}]))."
    type: list
    elements: dict
  priority:
    description:
      - Karmada C(priority) of the policy, when several policies match one resource.
    type: int
  preemption:
    description:
      - Karmada C(preemption) (V(Always) lets this policy take resources from policies of lower priority).
    type: str
    choices: [Always, Never]
  conflict_resolution:
    description:
      - Karmada C(conflictResolution), for resources that already exist in a member (Karmada's default is V(Abort)).
    type: str
    choices: [Abort, Overwrite]
  propagate_deps:
    description:
      - Karmada C(propagateDeps) - also propagate what the resources depend on (ConfigMaps, Secrets; for a Rollout,
        with M(multicluster.canary.karmada_interpreter), its Services, VirtualServices and DestinationRule).
    type: bool
  failover:
    description:
      - "Karmada C(failover) behaviour, passed through as given (for example
        C({application: {decisionConditions: {tolerationSeconds: 120}, purgeMode: Graciously}}))."
    type: dict
  waves:
    description:
      - Release waves - a list of lists of member clusters, for example C([[beijing], [shanghai, guangzhou, shenzhen]]).
        Each cluster may be in one wave only.
      - When O(clusters) and O(weights) are omitted, the waves also give the placement.
      - Or, as a dict, the wave number of each cluster, for example C(beijing=1, shanghai=2, guangzhou=2) (the
        members' inventory variable C(multicluster_canary_wave)); one wave in all means no waves.
    type: raw
  current_wave:
    description:
      - The wave being released, from 1. The clusters of waves 1 to O(current_wave) get the template as it is;
        the later ones keep their previous image. The last wave releases every cluster.
      - Omitted with O(waves), the wave recorded on the current hold is kept (every cluster is released when there is
        no hold), so re-applying the placement in the middle of a release keeps the held clusters on their image.
    type: int
  hold_image:
    description:
      - Which container to hold in the clusters of later waves, and at which image.
    type: dict
    suboptions:
      container:
        description:
          - Name or index of the container. Defaults to the only container (required when there are several).
        type: raw
      image:
        description:
          - The previous image to keep. Defaults to the image the first held cluster runs now, read from the
            member (through O(member_access)); required when that cluster does not run the workload yet.
        type: str
  hold_name:
    description:
      - Name of the wave C(OverridePolicy). Defaults to O(name) followed by C(-hold).
    type: str
attributes:
  check_mode:
    support: full
    details: The API server checks the objects with a server-side dry run; nothing is written.
  diff_mode:
    support: full
notes:
  - The caller needs, in Karmada, C(get), C(list), C(patch) and C(delete) on C(propagationpolicies) and
    C(overridepolicies) (or their cluster-scoped kinds), C(list) on C(clusters), and for O(waves) C(get) on the
    selected workloads; reading the previous image also needs C(get) on them in the held member.
  - Karmada keeps the fields it defaults in the policy (cluster tolerations, resource selector namespaces); they
    are not reported as changes.
seealso:
  - module: multicluster.canary.karmada_interpreter
  - name: Karmada PropagationPolicy
    description: The API this module writes.
    link: https://karmada.io/docs/userguide/scheduling/resource-propagating
extends_documentation_fragment:
  - multicluster.canary.fleet
"""

EXAMPLES = r"""
- name: Divide helloworld-stable 1:1:1:1 over the four clusters
  multicluster.canary.karmada_propagation:
    name: helloworld-stable-propagation
    namespace: helloworld-rollout
    resource_selectors:
      - api_version: argoproj.io/v1alpha1
        kind: Rollout
        name: helloworld-stable
      - api_version: v1
        kind: Service
        name: helloworld
    weights:
      k8s-master-beijing: 1
      k8s-master-shanghai: 1
      k8s-master-guangzhou: 1
      k8s-master-shenzhen: 1

# Run with -e wave=1 before changing the template (only beijing gets the new image; the others are held
# at the image they run), then with -e wave=2 to release every cluster (deletes the hold).
- name: Release ruoyi-vue in waves
  multicluster.canary.karmada_propagation:
    name: ruoyi-vue
    namespace: ruoyi
    resource_selectors:
      - {api_version: argoproj.io/v1alpha1, kind: Rollout, name: ruoyi-vue}
    replica_scheduling: divided
    waves: [[beijing], [shanghai, guangzhou, shenzhen]]
    current_wave: "{{ wave | int }}"
    hold_image:
      container: ruoyi-vue

- name: Duplicate the gateway objects everywhere, with failover and dependencies
  multicluster.canary.karmada_propagation:
    name: ruoyi-gateway
    namespace: ruoyi
    resource_selectors:
      - {api_version: networking.istio.io/v1beta1, kind: Gateway, name: ruoyi-gateway}
      - {api_version: networking.istio.io/v1beta1, kind: VirtualService, name: ruoyi-vue}
    conflict_resolution: Overwrite
    propagate_deps: true

- name: Remove the policy and its wave hold
  multicluster.canary.karmada_propagation:
    name: ruoyi-vue
    namespace: ruoyi
    state: absent
"""

RETURN = r"""
policy:
  description: The policy as the Karmada API server has it (or would have it, in check mode).
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: policy.karmada.io/v1alpha1
    kind: PropagationPolicy
    metadata: {name: helloworld-stable-propagation, namespace: helloworld-rollout}
    spec:
      resourceSelectors: [{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: helloworld-stable}]
      placement:
        clusterAffinity: {clusterNames: [k8s-master-beijing, k8s-master-shanghai]}
override:
  description: The wave C(OverridePolicy) as the server has it, or null when no cluster is held.
  returned: when O(state=present)
  type: dict
released_clusters:
  description: Clusters of waves 1 to O(current_wave) (every placed cluster without O(waves)).
  returned: when O(state=present)
  type: list
  elements: str
  sample: [k8s-master-beijing]
held_clusters:
  description: Clusters that keep their previous image.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [k8s-master-shanghai, k8s-master-guangzhou, k8s-master-shenzhen]
holds:
  description: What is held - one entry per workload.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{kind: Rollout, name: ruoyi-vue, namespace: ruoyi, container: 0, image: "ruoyi/vue:1.4.0"}]
diff:
  description: Before and after of each object written or deleted, without the metadata the server changes on every write.
  returned: when run with C(--diff)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import fleet_argument_spec
from ansible_collections.multicluster.canary.plugins.module_utils.propagation_runner import propagate
from ansible_collections.multicluster.canary.plugins.module_utils.runner import execute


def argspec():
    selector = dict(
        api_version=dict(type="str", required=True, aliases=["apiVersion"]),
        kind=dict(type="str", required=True),
        name=dict(type="str"),
        namespace=dict(type="str"),
        label_selector=dict(type="dict", aliases=["labelSelector"]),
    )
    return fleet_argument_spec(
        name=dict(type="str", required=True),
        namespace=dict(type="str"),
        kind=dict(type="str", default="PropagationPolicy", choices=["PropagationPolicy", "ClusterPropagationPolicy"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        resource_selectors=dict(type="list", elements="dict", options=selector),
        weights=dict(type="dict"),
        replica_scheduling=dict(type="str", choices=["duplicated", "divided"]),
        division_preference=dict(type="str", default="weighted", choices=["weighted", "aggregated"]),
        dynamic_weight=dict(type="str", choices=["AvailableReplicas"]),
        spread_constraints=dict(type="list", elements="dict"),
        priority=dict(type="int"),
        preemption=dict(type="str", choices=["Always", "Never"]),
        conflict_resolution=dict(type="str", choices=["Abort", "Overwrite"]),
        propagate_deps=dict(type="bool"),
        failover=dict(type="dict"),
        waves=dict(type="raw"),
        current_wave=dict(type="int"),
        hold_image=dict(type="dict", options=dict(container=dict(type="raw"), image=dict(type="str"))),
        hold_name=dict(type="str"),
    )


def main():
    module = AnsibleModule(
        argument_spec=argspec(),
        supports_check_mode=True,
        required_if=[("state", "present", ["resource_selectors"])],
    )
    execute(module, propagate)


if __name__ == "__main__":
    main()
