# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The Rollout a module acts on (fleet.object_argument_spec).
    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the C(Rollout).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the C(Rollout), the same in Karmada and in the member clusters.
    type: str
    required: true
"""
