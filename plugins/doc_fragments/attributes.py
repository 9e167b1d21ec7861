# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The support of a module that only reads (multicluster.canary.attributes.read_only).
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    details: It only reads.
  diff_mode:
    support: none
"""
