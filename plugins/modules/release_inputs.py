#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: release_inputs
short_description: Check the answers of a stage playbook (command line or AWX survey) on the controller
version_added: 0.3.0
author:
  - multicluster.canary contributors (@multicluster-canary)
description:
  - Checks the answers a stage playbook was given - with C(-e) on the command line, or by an AWX survey - and returns
    them typed, or fails naming every bad answer (C(app), C(image), C(wave), C(full), ...) and what it accepts.
  - AWX sends an optional question left blank as an empty string or null; both mean "not given" (null in
    RV(answers)), so the playbook's default applies.
  - An action plugin - it runs on the controller, in Ansible's worker, with no module process and no connection.
  - The image reference grammar is checked where the image is used (M(multicluster.canary.rollout_release)).
options:
  answers:
    description:
      - The answers as given, each null when not given - C(app), C(image), C(wave), C(full), C(auto_promote),
        C(force), C(bootstrap), C(clusters), C(from_step).
    type: dict
    required: true
  apps:
    description: The apps of the catalogue (the names of C(multicluster_canary_apps)).
    type: list
    elements: str
    default: []
  app_all_allowed:
    description: Accept C(all) as the app (onboarding every app).
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: It only checks its arguments.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Check the answers (blank ones are not given)
  multicluster.canary.release_inputs:
    answers:
      app: "{{ app | default(none) }}"
      image: "{{ image | default(none) }}"
      wave: "{{ wave | default(none) }}"
      clusters: "{{ clusters | default(none) }}"
    apps: "{{ multicluster_canary_apps | default({}) | list }}"
  register: checked
"""

RETURN = r"""
answers:
  description: The answers checked; null for those not given.
  returned: success
  type: dict
  contains:
    app:
      description: The app, or C(all) with O(app_all_allowed).
      type: str
    image:
      description: The image.
      type: str
    wave:
      description: The wave, an int from 1.
      type: int
    full:
      description: A yes/no answer as a bool.
      type: bool
    auto_promote:
      description: A yes/no answer as a bool.
      type: bool
    force:
      description: A yes/no answer as a bool.
      type: bool
    bootstrap:
      description: A yes/no answer as a bool.
      type: bool
    clusters:
      description: Cluster names (from a list, or names separated by commas); empty when not given.
      type: list
      elements: str
    from_step:
      description: The step index a promotion was decided at, an int from 0.
      type: int
  sample: {app: ruoyi-vue, image: null, wave: 2, full: null, auto_promote: false, force: null, bootstrap: null,
           clusters: [k8s-master-beijing], from_step: null}
field:
  description: The first bad answer.
  returned: when an answer is bad
  type: str
  sample: wave
"""
