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
  name:
    description:
      - Name of the C(Rollout).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the C(Rollout) in the member clusters.
    type: str
    required: true
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
  wait:
    description:
      - After writing, wait until every changed cluster has settled, that is paused at another step (the next pause),
        Healthy, Degraded or Aborted or, for V(abort), aborted by the controller.
      - The task fails when a cluster ends Degraded or Aborted (other than by O(action=abort)), or on timeout.
      - Skipped in check mode.
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
extends_documentation_fragment:
  - multicluster.canary.fleet
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports per cluster the patches it would send (checked by the member API server with a dry run).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - The patches go to each member through O(member_access); the caller needs C(patch) on C(rollouts) and
    C(rollouts/status) in the members, and C(get) on C(replicasets) to report the stable image.
  - Image changes are not this module's job; make them in the Karmada template, or Karmada reverts them.
seealso:
  - name: Argo Rollouts kubectl plugin
    description: The CLI whose patches this module sends.
    link: https://argo-rollouts.readthedocs.io/en/stable/features/kubectl-plugin/
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
      description: The first container image of the Rollout's pod template (the version being rolled out).
      type: str
    stable_image:
      description: The first container image of the stable ReplicaSet, when it could be read.
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
unreachable_clusters:
  description:
    - With O(action=status), the clusters that could not be read (down, denied, or without the Rollout), with the
      reason; the others are reported as usual and the fleet state is C(degraded).
  returned: when O(action=status)
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import (
    FleetError,
    fleet_argument_spec,
    fleet_from_module,
    kind,
)
from ansible_collections.multicluster.canary.plugins.module_utils.rollouts import FleetRollout, RolloutReadError
from ansible_collections.multicluster.canary.plugins.module_utils.rollout_status import (
    ABORTED,
    ACTIONS,
    DEGRADED,
    describe,
    fleet_summary,
    gate,
    patches,
    reached_next_pause,
    unified_patch,
)

VERBS = {
    "promote": "promoted",
    "promote_full": "fully promoted",
    "abort": "aborted",
    "retry": "retried",
    "pause": "paused",
    "resume": "resumed",
}


def argspec():
    return fleet_argument_spec(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        action=dict(type="str", default="status", choices=list(ACTIONS)),
        require_same_step=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        wait_sleep=dict(type="int", default=2),
        abort_on_degraded=dict(type="bool", default=False),
    )


class RolloutPromoter(object):
    """Find the Rollout in every member, check, patch, wait."""

    def __init__(self, module, fleet):
        self.module = module
        self.fleet = fleet
        self.name = module.params["name"]
        self.namespace = module.params["namespace"]
        self.rollout = FleetRollout(fleet, self.name, self.namespace)
        self.rollout_kind = kind("Rollout")

    def clusters(self):
        return self.rollout.clusters(self.module.params.get("clusters"))

    def read(self, names, with_images=True, result=None, context=""):
        """{name: (rollout, summary)}, or fail the module naming unreachable members and missing Rollouts."""
        try:
            return self.rollout.read(names, with_images=with_images)
        except RolloutReadError as e:
            fields = dict(result or dict(changed=False, clusters=list(names), patches={}))
            fields["failed_clusters"] = e.failed
            self.module.fail_json(msg=context + str(e), **fields)

    def summaries(self, names, result, context=""):
        found = self.read(names, result=result, context=context)
        return dict((n, found[n][1]) for n in names)

    def send(self, endpoint, patch_list, dry_run):
        """Send one cluster's patches as the CLI does; returns what was sent."""
        sent = []
        for subresource, patch in patch_list:
            try:
                endpoint.patch(self.rollout_kind, self.namespace, self.name, patch,
                               subresource=subresource, dry_run=dry_run)
                sent.append({"subresource": subresource, "patch": patch})
            except FleetError as e:
                if subresource != "status" or e.status != 404:
                    raise
                # no status subresource (Argo Rollouts < v0.10): one patch of the whole object
                whole = unified_patch(patch_list)
                endpoint.patch(self.rollout_kind, self.namespace, self.name, whole, dry_run=dry_run)
                return [{"subresource": None, "patch": whole}]
        return sent

    def write(self, plan, dry_run):
        """plan: {cluster: patch list}. Returns ({cluster: sent}, {cluster: error})."""
        results = self.fleet.run(sorted(plan), lambda endpoint: self.send(endpoint, plan[endpoint.name], dry_run))
        sent = dict((n, v) for n, (ok, v) in results.items() if ok)
        errors = dict((n, v) for n, (ok, v) in results.items() if not ok)
        return sent, errors

    def wait(self, action, before, names, result):
        """Wait until each changed cluster settles; returns (pending names, {degraded name: where})."""
        p = self.module.params

        def settled(name, summary):
            if action == "abort":
                return summary["phase"] == ABORTED
            return reached_next_pause(before[name], summary)

        try:
            _latest, pending, bad = self.rollout.wait(
                names, settled, p["wait_timeout"],
                fail_on_degraded=p["abort_on_degraded"],
                is_bad=lambda s: s["phase"] == DEGRADED or (s["phase"] == ABORTED and action != "abort"))
        except RolloutReadError as e:
            self.module.fail_json(msg="while waiting: " + str(e), failed_clusters=e.failed, **result)
        if self.rollout.nudged:
            result["nudged"] = dict(self.rollout.nudged)
        for warning in self.rollout.watch_warnings():
            self.module.warn(warning)
        return pending, bad


def run(module, fleet):
    p = module.params
    action = p["action"]
    promoter = RolloutPromoter(module, fleet)
    names = promoter.clusters()
    if action == "status":
        # Show every member that answers; name the others instead of failing on them.
        found, failed = promoter.rollout.read_partial(names)
        before = dict((n, found[n][1]) for n in names if n in found)
        result = dict(changed=False, clusters=names, patches={}, rollouts=before, fleet=fleet_summary(before),
                      unreachable_clusters=failed)
        if failed:
            result["fleet"].update(state="degraded", message="{0}: {1}".format(
                "; ".join("{0} could not be read ({1})".format(n, failed[n]) for n in sorted(failed)),
                result["fleet"]["message"]))
        result["message"] = result["fleet"]["message"]
        module.exit_json(**result)
    found = promoter.read(names)
    before = dict((n, found[n][1]) for n in names)
    result = dict(changed=False, clusters=names, patches={}, rollouts=before, fleet=fleet_summary(before))

    ok, gate_message = gate(before, action)
    if p["require_same_step"] and not ok:
        module.fail_json(msg=gate_message, **result)

    plan = dict((n, patches(found[n][0], action)) for n in names)
    plan = dict((n, v) for n, v in plan.items() if v)
    if not plan:
        reason = gate_message if action == "promote" and gate_message.startswith("nothing") else \
            "nothing to do: {0}".format(result["fleet"]["message"])
        result["message"] = "{0} needs no change in any cluster; {1}".format(action, reason)
        module.exit_json(**result)

    sent, errors = promoter.write(plan, dry_run=module.check_mode)
    result["patches"] = sent
    result["changed"] = bool(sent)
    if errors:
        module.fail_json(msg="{0} failed in {1}{2}".format(
            action, "; ".join("{0}: {1}".format(n, errors[n]) for n in sorted(errors)),
            " (sent to {0})".format(", ".join(sorted(sent))) if sent else ""),
            failed_clusters=errors, **result)

    verb = VERBS[action]
    if module.check_mode:
        result["message"] = "would be {0} in {1} cluster(s): {2}".format(verb, len(sent), ", ".join(sorted(sent)))
        module.exit_json(**result)

    if not p["wait"]:
        after = promoter.summaries(names, result, "sent, but cannot read back: ")
        result.update(rollouts=after, fleet=fleet_summary(after))
        result["message"] = "{0} in {1} cluster(s); {2}".format(verb, len(sent), result["fleet"]["message"])
        module.exit_json(**result)

    start = time.monotonic()
    pending, bad = promoter.wait(action, before, sorted(sent), result)
    aborted_by_us = []
    if bad and p["abort_on_degraded"]:
        now = promoter.read(names, with_images=False, result=result, context="degraded, and cannot read to abort: ")
        abort_plan = dict((n, patches(now[n][0], "abort")) for n in names)
        abort_plan = dict((n, v) for n, v in abort_plan.items() if v)
        abort_sent, abort_errors = promoter.write(abort_plan, dry_run=False)
        aborted_by_us = sorted(abort_sent)
        for n, v in abort_sent.items():
            result["patches"].setdefault(n, []).extend(v)
        if abort_errors:
            errors.update(abort_errors)
    after = promoter.summaries(names, result, "cannot read back after the wait: ")
    result.update(rollouts=after, fleet=fleet_summary(after), waited=round(time.monotonic() - start, 1),
                  settled_at=dict((n, round(v, 3)) for n, v in promoter.rollout.seen_at.items()))
    if bad:
        msg = "{0} in {1} cluster(s), then degraded: {2}".format(
            verb, len(sent), "; ".join("{0}: {1}".format(n, bad[n]) for n in sorted(bad)))
        if p["abort_on_degraded"]:
            msg += "; aborted in {0}".format(", ".join(aborted_by_us) or "no cluster (all already aborted)")
        if errors:
            msg += "; abort failed in {0}".format("; ".join("{0}: {1}".format(n, errors[n]) for n in sorted(errors)))
            result["failed_clusters"] = errors
        module.fail_json(msg=msg, **result)
    if pending:
        module.fail_json(msg="{0} in {1} cluster(s), but after {2}s not settled: {3}".format(
            verb, len(sent), p["wait_timeout"], describe(dict((n, after[n]) for n in sorted(pending)))), **result)
    result["message"] = "{0} in {1} cluster(s); {2}".format(verb, len(sent), result["fleet"]["message"])
    module.exit_json(**result)


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    fleet = fleet_from_module(module)
    try:
        run(module, fleet)
    except FleetError as e:
        module.fail_json(msg=str(e), changed=False)


if __name__ == "__main__":
    main()
