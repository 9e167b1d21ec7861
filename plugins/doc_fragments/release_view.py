# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How a module reports an app's release: which container's image (DOCUMENTATION), and the lane its routes are
    # probed with (LANE); a module reporting a release takes both.
    DOCUMENTATION = r"""
options:
  container:
    description:
      - The app's container, the one a release changes, whose image is reported as each member's C(current_image) and
        C(stable_image) (the catalogue's C(container)).
      - When omitted, the container named after the Rollout, else the first container of its pod template.
      - A member whose Rollout has no such container fails the task, naming the containers it has.
    type: str
"""

    # multicluster.canary.release_view.lane
    LANE = r"""
options:
  lane:
    description:
      - The canary lane to probe the routes with; without it only plain traffic is evaluated.
    type: dict
    suboptions:
      header:
        description: Header name testers send.
        type: str
      value:
        description: Its value.
        type: str
      source_labels:
        description: Labels of canary callers (canary pods carry them), for mesh routes.
        type: dict
"""
