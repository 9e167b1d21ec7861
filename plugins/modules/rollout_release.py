#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_release
short_description: Apply an app's Argo Rollout template in Karmada, release or roll back its image, wait for the members
version_added: 0.2.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Owns the release state of one Argo Rollouts C(Rollout) template in Karmada - which image runs, and which ran before -
    and applies the template with one server-side apply (field manager C(multicluster.canary)), so re-running a release,
    onboarding again or rolling back twice changes nothing.
  - Without O(image) and O(rollback), applies O(definition) keeping the image the template already has (the definition's
    image is used only to create the Rollout), so onboarding again never undoes a release.
  - With O(image), releases that image - the members' Argo Rollouts controllers then run the canary steps - and records
    the image every member ran as stable in the annotation C(multicluster.canary/previous-image).
  - With O(rollback=true), puts the recorded previous image (or O(image)) back on the template. It does not swap the
    record, so a second rollback finds the template already on the previous image and changes nothing.
  - Every input is checked before anything is written - O(image) against the image reference grammar, O(container) and
    O(definition) against each other - and a bad one fails naming the option.
  - The canary steps of O(definition) are linted against what the Argo Rollouts controller will do with them (see
    RV(findings)) - a header or mirror route missing from C(managedRoutes) fails before any write (Argo would mark the
    Rollout InvalidSpec); a managed route while the canary has no pod (Argo removes it, for good), canary scaling with
    no C(setWeight), a weight going down or C(setWeight) without traffic routing are warnings.
  - O(wait_for) waits until every member where Karmada placed the Rollout reads the target image (V(image)), is paused
    at its first pause or fully promoted (V(first_pause)), or is Healthy on it (V(healthy)). What it reports comes from
    each member's own Rollout.
options:
  definition:
    description:
      - The Rollout template as the app catalogue describes it (C(apiVersion), C(kind), C(metadata), C(spec)).
      - Its image is used only when the Rollout does not exist yet; afterwards the template keeps its image unless
        O(image) or O(rollback) say otherwise.
      - Without it the module writes nothing, and only reads and waits.
    type: dict
  image:
    description:
      - The image to release (or, with O(rollback=true), to go back to), for example C(ruoyi/ruoyi-vue:1.1.0).
      - Checked against the image reference grammar (C([registry[:port]/]name[:tag][@digest])) before any write.
    type: str
  rollback:
    description:
      - Put the previous image back on the template - the one recorded when the release started, or O(image).
      - The members' release in progress is not aborted here (use M(multicluster.canary.rollout_promote) V(abort)).
    type: bool
    default: false
  container:
    description:
      - The container that runs the app. Default - the container named after the Rollout, else the only container.
    type: str
  wait_for:
    description:
      - V(none) returns after the write. V(image) waits until every member's Rollout has the target image and its
        controller has observed it. V(first_pause) also waits until each is paused (at its first pause) or Healthy and
        fully promoted. V(healthy) waits until each is Healthy and fully promoted on the target image.
      - A member that turns Degraded or Aborted ends the wait with a failure naming it (with O(rollback=true) only the
        timeout does, since a rollback starts from aborted members). Skipped in check mode.
    type: str
    default: none
    choices: [none, image, first_pause, healthy]
  wait_timeout:
    description: Seconds to wait for.
    type: int
    default: 300
  routes:
    description:
      - When the release is RV(up_to_date) (nothing to write), also read the route objects the Rollout's
        C(trafficRouting) names in every member and return where they send plain traffic and the O(lane)
        (RV(routes)), as M(multicluster.canary.release_info) does, so that a playbook can show the release's status
        without a second module run. Otherwise nothing more is read.
      - Costs one read per route object and member.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: The apply is a server-side dry run on the Karmada API server.
  diff_mode:
    support: full
    details: The diff shows only the fields the module applies.
notes:
  - Needs C(get) and C(patch) on C(rollouts) in Karmada, C(get) on C(resourcebindings) and C(clusters), and through the
    members' access C(get) on C(rollouts) (and C(replicasets), for the stable image).
seealso:
  - module: multicluster.canary.rollout_promote
extends_documentation_fragment:
  - multicluster.canary.fleet
  - multicluster.canary.rollout
  - multicluster.canary.release_view.lane
"""

EXAMPLES = r"""
- name: Release ruoyi-vue 1.1.0 and wait until every member is at the first pause
  multicluster.canary.rollout_release:
    name: ruoyi-vue
    namespace: ruoyi
    definition: "{{ lookup('ansible.builtin.template', 'rollout.yml.j2') | from_yaml }}"
    image: ruoyi/ruoyi-vue:1.1.0
    wait_for: first_pause

- name: Say from which image to which, without writing
  multicluster.canary.rollout_release:
    name: ruoyi-vue
    namespace: ruoyi
    definition: "{{ ruoyi_vue_rollout }}"
    image: ruoyi/ruoyi-vue:1.1.0
  check_mode: true
  register: plan

- name: Roll back to the image recorded when the release started
  multicluster.canary.rollout_release:
    name: ruoyi-vue
    namespace: ruoyi
    definition: "{{ ruoyi_vue_rollout }}"
    rollback: true
    wait_for: image
"""

RETURN = r"""
findings:
  description:
    - What the lint of O(definition)'s canary steps found - C(severity) (C(error) or C(warning)), C(field), C(message),
      C(fix). Warnings are shown as the task's warnings too.
  returned: when O(definition) is given
  type: list
  elements: dict
  sample:
    - severity: warning
      field: "spec.strategy.canary.steps[3]"
      message: "the canary has no pod here (weight 0%, scaled with the weight), and Argo Rollouts removes every managed
        route then: route 'canary-header' (set at step 1) is gone from this step on"
      fix: "give the canary a pod first: setCanaryScale {replicas: 1} before the route, and setCanaryScale
        {matchTrafficWeight: true} only after a setWeight above 0"
message:
  description: What happened, in one line.
  returned: always
  type: str
  sample: "ruoyi-vue ruoyi/ruoyi-vue:1.0.0 -> ruoyi/ruoyi-vue:1.1.0; all 4 cluster(s) step 2/9 paused (CanaryPauseStep)"
container:
  description: The container that runs the app.
  returned: always
  type: str
from_image:
  description: The image on the template before the run (null when the Rollout did not exist).
  returned: always
  type: str
to_image:
  description: The image on the template after the run.
  returned: always
  type: str
previous_image:
  description: The image recorded as previous (what a rollback goes back to).
  returned: always
  type: str
rolled_back_from:
  description: The image the last rollback left, when the template is rolled back.
  returned: always
  type: str
image_changed:
  description: Whether the template's image changed.
  returned: always
  type: bool
onboarded:
  description:
    - Whether the template records onboarding of exactly O(definition) (annotation C(multicluster.canary/onboarded),
      a digest of everything onboarding writes for the app, the released image left out). Only a run without
      O(image) and without O(rollback) (onboarding's) records the definition's digest; a release or a rollback keeps
      the template's.
  returned: when O(definition) is given
  type: bool
up_to_date:
  description:
    - Whether a release of RV(to_image) has nothing to write, onboarding included - RV(onboarded), the template
      unchanged, and every member read (before any write) on RV(to_image), Healthy and fully promoted, its latest
      spec observed. C(release.yml) then skips bootstrapping, onboarding and the canary and only reads the members.
  returned: when O(definition) is given
  type: bool
clusters:
  description: The member clusters read (where Karmada placed the Rollout).
  returned: always
  type: list
  elements: str
rollouts:
  description: Per member, where its own Rollout is (as M(multicluster.canary.rollout_promote) reports it).
  returned: when the members were read
  type: dict
fleet:
  description: The fleet at a glance (state aligned, mixed, degraded or aborted, and a message).
  returned: when the members were read
  type: dict
nudged:
  description:
    - Members nudged during the wait because their controller had not observed the latest spec, as for
      RV(multicluster.canary.rollout_promote#module:nudged).
  returned: when a member was nudged
  type: dict
routes:
  description:
    - With O(routes=true) and RV(up_to_date), per member, what its route objects do (as
      M(multicluster.canary.release_info) returns them).
  returned: with O(routes=true), when RV(up_to_date)
  type: dict
unreachable_clusters:
  description:
    - With RV(routes), the members that could not be read (always empty - a release that cannot read every member
      fails), for the shape of M(multicluster.canary.release_info).
  returned: with RV(routes)
  type: dict
waited:
  description: Seconds spent waiting.
  returned: when O(wait_for) is not V(none)
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import object_argument_spec, view_argument_spec
from ansible_collections.multicluster.canary.plugins.module_utils.release_runner import release
from ansible_collections.multicluster.canary.plugins.module_utils.release_state import WAIT_TARGETS
from ansible_collections.multicluster.canary.plugins.module_utils.runner import execute


def argspec():
    return object_argument_spec(
        definition=dict(type="dict"),
        image=dict(type="str"),
        rollback=dict(type="bool", default=False),
        container=dict(type="str"),
        wait_for=dict(type="str", default="none", choices=list(WAIT_TARGETS)),
        wait_timeout=dict(type="int", default=300),
        routes=dict(type="bool", default=False),
        lane=view_argument_spec()["lane"],
    )


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    execute(module, release, clusters=[], container=None, from_image=None, to_image=None, previous_image=None,
            rolled_back_from=None, image_changed=False)


if __name__ == "__main__":
    main()
