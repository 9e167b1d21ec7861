#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_promote
short_description: Promote, abort, retry, pause or resume one Argo Rollout in every member cluster at once
version_added: 0.1.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Reads or moves one Argo Rollouts C(Rollout) in every member cluster of a Karmada federation, in one module run;
    the clusters are handled concurrently.
  - Sends the same merge patches as C(kubectl argo rollouts) (status subresource first, with a fallback to the object
    when a member serves no status subresource) to each member's Rollout, not to the Karmada template, since the
    controller in each member acts only on its own Rollout.
  - The clusters are O(clusters); when omitted, the clusters where Karmada placed the Rollout (its
    C(ResourceBinding)), else every Ready member cluster.
  - Every cluster is read and checked before anything is written; an unknown cluster name, a member that cannot be
    reached, or a member without the Rollout fails the task with nothing changed.
  - A verb with nothing to do in a cluster sends nothing there (for example O(action=promote) on a rollout that is
    not paused), so re-running a task never skips a step.
options:
  action:
    description:
      - V(status) reads and reports; it never changes anything.
      - V(promote) moves every paused rollout past its current pause (C(kubectl argo rollouts promote)); it clears
        C(status.pauseConditions), and sets C(spec.paused=false) when it is set (a canary paused only by
        C(spec.paused) also moves one step on, as the CLI does). A rollout that is not paused is left alone.
      - V(promote_full) skips the remaining steps, analyses and pauses (C(promote --full), C(status.promoteFull=true)).
      - V(abort) returns traffic and replicas to the stable version (C(status.abort=true)).
      - V(retry) restarts an aborted update from its first step (C(status.abort=false)).
      - V(pause) sets C(spec.paused=true); V(resume) sets C(spec.paused=false) and does not clear pause steps
        (use V(promote) for those).
    type: str
    default: status
    choices: [status, promote, promote_full, abort, retry, pause, resume]
  require_same_step:
    description:
      - With O(action=promote), refuse unless every cluster is paused at the same step, and say where each cluster
        is. A fleet where no cluster is paused passes (there is nothing to promote).
      - Set V(false) to promote whichever clusters are paused, wherever they are.
    type: bool
    default: true
  from_step:
    description:
      - With O(action=promote), the step index (C(status.currentStepIndex), the first number of RV(rollouts.step_text))
        the members were paused at when the promotion was decided, say by an approval in a workflow.
      - Only the members at that step are promoted; a member already past it (the promotion retried, or a timed
        pause that ended by itself) is left where it is and named in RV(past_step), so a promotion decided once
        never moves a member twice. A member before that step fails the task before anything is written.
      - Without it, every member paused is promoted from wherever it is.
    type: int
  wait:
    description:
      - After writing, wait until every changed cluster has settled, that is paused at another step (the next pause),
        Healthy, Degraded or Aborted or, for V(abort), aborted by the controller.
      - The task fails when a cluster ends Degraded or Aborted (other than by O(action=abort)), or on timeout.
      - Skipped in check mode.
      - With a wait, each member's Rollout is read by a watch that starts with it as it is (C(sendInitialEvents))
        and the wait goes on with that watch after the patch, so a promotion costs each member one watch, the patch
        and the reads of the result. A member that refuses such a watch (Kubernetes 1.33 turns its WatchList
        feature off by default) is read with a GET after the refusal, and waited for with a watch from the patch.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for, with O(wait=true).
    type: int
    default: 300
  wait_sleep:
    description:
      - Not used any more - the wait watches each member's Rollout, so a change is seen as soon as the member's API
        server sends it. Kept so that existing tasks keep working.
    type: int
    default: 2
  abort_on_degraded:
    description:
      - With O(wait=true), when any cluster becomes Degraded or Aborted, abort the rollout in every cluster, so
        that no cluster keeps serving a version that failed in another one.
    type: bool
    default: false
  routes:
    description:
      - Also read, at the end (after the wait with O(wait=true)), the route objects the Rollout's C(trafficRouting)
        names in every member, and report where they send plain traffic and the O(lane) (RV(routes)), as
        M(multicluster.canary.release_info) does - so that a playbook can show the release's status without a
        second module run.
      - Costs one read per route object and member.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reports per cluster the patches it would send (checked by the member API server with a dry run).
  diff_mode:
    support: none
notes:
  - The patches go to each member through O(member_access); the caller needs C(patch) on C(rollouts) and
    C(rollouts/status) in the members, and C(get) on C(replicasets) to report the stable image.
  - Image changes are not this module's job; make them in the Karmada template, or Karmada reverts them.
seealso:
  - name: Argo Rollouts kubectl plugin
    description: The CLI whose patches this module sends.
    link: https://argo-rollouts.readthedocs.io/en/stable/features/kubectl-plugin/
extends_documentation_fragment:
  - multicluster.canary.fleet
  - multicluster.canary.rollout
  - multicluster.canary.release_view
  - multicluster.canary.release_view.lane
"""

EXAMPLES = r"""
- name: Where is ruoyi-vue in each cluster?
  multicluster.canary.rollout_promote:
    name: ruoyi-vue
    namespace: ruoyi
  register: release

- name: Promote every cluster to its next pause, once they all wait at the same step
  multicluster.canary.rollout_promote:
    name: ruoyi-vue
    namespace: ruoyi
    action: promote
    wait: true
    wait_timeout: 600
    abort_on_degraded: true

- name: Promote, then say where each member's own routes send traffic (the testers' header included)
  multicluster.canary.rollout_promote:
    name: ruoyi-vue
    namespace: ruoyi
    action: promote
    wait: true
    routes: true
    lane: {header: X-canary, value: test-user}
  register: release

- name: Promote only two clusters, reached through a kubeconfig context each
  multicluster.canary.rollout_promote:
    name: ruoyi-gateway
    namespace: ruoyi
    action: promote
    clusters: [k8s-master-beijing, k8s-master-shanghai]
    member_access: kubeconfig
    member_contexts:
      k8s-master-beijing: k8s-master-beijing@kubernetes
      k8s-master-shanghai: k8s-master-shanghai@kubernetes

- name: Roll every cluster back to the stable version
  multicluster.canary.rollout_promote:
    name: ruoyi-vue
    namespace: ruoyi
    action: abort
    wait: true
"""

RETURN = r"""
message:
  description: What happened, in one line.
  returned: always
  type: str
  sample: "promoted in 4 cluster(s); all 4 cluster(s) step 3/4 paused (CanaryPauseStep)"
clusters:
  description: The member clusters acted on.
  returned: always
  type: list
  elements: str
  sample: [k8s-master-beijing, k8s-master-shanghai]
rollouts:
  description:
    - Each cluster's Rollout after the action (after the wait with O(wait=true)), by cluster name.
  returned: when every cluster could be read
  type: dict
  contains:
    phase:
      description: C(Healthy), C(Paused), C(Progressing), C(Degraded) or C(Aborted), computed as Argo's CLI does.
      type: str
      sample: Paused
    message:
      description: The controller's status message (or the CLI's reason for the phase).
      type: str
      sample: CanaryPauseStep
    paused:
      description: Whether C(spec.paused) is set or the controller holds pause conditions.
      type: bool
    pause_reason:
      description: The first pause reason (C(manual) for C(spec.paused)), or null.
      type: str
      sample: CanaryPauseStep
    pause_reasons:
      description: Every pause reason.
      type: list
      elements: str
    aborted:
      description: Whether C(status.abort) is set.
      type: bool
    step:
      description: C(status.currentStepIndex), or null without canary steps.
      type: int
      sample: 1
    step_count:
      description: Number of canary steps, or null.
      type: int
      sample: 4
    step_text:
      description: The CLI's C(Step) column, C(index/count).
      type: str
      sample: 1/4
    set_weight:
      description: The desired canary weight of the current step (the CLI's C(SetWeight)).
      type: int
      sample: 25
    canary_weight:
      description: With traffic routing, the canary weight the controller last set in the router
        (C(status.canary.weights.canary.weight)); otherwise the desired weight.
      type: int
      sample: 25
    current_image:
      description: The image of the app's container (O(container)) in the Rollout's pod template (the version being
        rolled out).
      type: str
    stable_image:
      description: The image of the app's container in the stable ReplicaSet, when it could be read.
      type: str
    stable_rs:
      description: Pod template hash of the stable ReplicaSet (C(status.stableRS)).
      type: str
    canary_rs:
      description: Pod template hash of the current pod template (C(status.currentPodHash)).
      type: str
    fully_promoted:
      description: Whether the stable ReplicaSet is the current one.
      type: bool
    observed:
      description: Whether the controller has seen the latest spec (C(status.observedGeneration)).
      type: bool
    generation:
      description: C(metadata.generation).
      type: int
    observed_generation:
      description: C(status.observedGeneration).
      type: int
    replicas:
      description: Desired, current, updated, ready and available replica counts.
      type: dict
    strategy:
      description: C(canary) or C(blueGreen).
      type: str
fleet:
  description: The fleet at a glance.
  returned: when every cluster could be read
  type: dict
  contains:
    state:
      description: C(aligned) (every cluster at the same place), C(aborted) (every cluster aborted), C(mixed) or C(degraded).
      type: str
      sample: aligned
    step:
      description: The common step when aligned.
      type: int
    phase:
      description: The common phase when aligned.
      type: str
    by_phase:
      description: Cluster names by phase.
      type: dict
    clusters:
      description: Number of clusters.
      type: int
    message:
      description: One line for humans.
      type: str
      sample: "mixed: k8s-master-beijing: step 1/4 paused (CanaryPauseStep); k8s-master-shanghai: step 2/4 progressing"
patches:
  description:
    - The patches sent (or, in check mode, that would be sent) by cluster; clusters with nothing to do are absent.
  returned: always
  type: dict
  sample:
    k8s-master-beijing:
      - subresource: status
        patch: {status: {pauseConditions: null}}
settled_at:
  description:
    - With O(wait=true), when the wait saw each member reach its state (its next pause, or Aborted), as seconds since the
      epoch; the wait watches each member's Rollout, so this is when the member's API server sent the change.
  returned: with O(wait=true), after something was sent
  type: dict
  sample: {k8s-master-beijing: 1795350594.752}
failed_clusters:
  description: Clusters where reading or writing failed, with the error.
  returned: on failure
  type: dict
nudged:
  description:
    - Members whose Argo Rollouts controller had not observed the latest spec for a minute while the Rollout was
      paused or idle (its metadata.generation ahead of status.observedGeneration) during the wait, with what was seen;
      each was nudged once with the annotation C(multicluster.canary/reconcile-requested-at), a metadata-only change
      that makes the controller reconcile.
  returned: when a member was nudged
  type: dict
routes:
  description:
    - With O(routes=true), per member, what its route objects do, read at the end (as
      M(multicluster.canary.release_info) returns them).
  returned: with O(routes=true), when the task succeeds
  type: dict
  sample:
    k8s-master-beijing:
      text: "VirtualService ruoyi-vue: stable 70% / canary 30%; X-canary: test-user -> canary 100%"
past_step:
  description:
    - With O(from_step), the members found past that step and left alone (sorted names).
  returned: with O(from_step)
  type: list
  elements: str
  sample: [k8s-master-shanghai]
unreachable_clusters:
  description:
    - With O(action=status), the clusters that could not be read (down, denied, or without the Rollout), with the
      reason; the others are reported as usual and the fleet state is C(degraded).
  returned: when O(action=status)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import object_argument_spec, view_argument_spec
from ansible_collections.multicluster.canary.plugins.module_utils.promote_runner import promote
from ansible_collections.multicluster.canary.plugins.module_utils.rollout_status import ACTIONS
from ansible_collections.multicluster.canary.plugins.module_utils.runner import execute


def argspec():
    return object_argument_spec(
        action=dict(type="str", default="status", choices=list(ACTIONS)),
        require_same_step=dict(type="bool", default=True),
        from_step=dict(type="int"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        wait_sleep=dict(type="int", default=2),
        abort_on_degraded=dict(type="bool", default=False),
        routes=dict(type="bool", default=False),
        **view_argument_spec()
    )


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    execute(module, promote, clusters=[], patches={})


if __name__ == "__main__":
    main()
