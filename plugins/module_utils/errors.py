# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error every pure-logic layer raises for input it cannot act on.

The runner turns it into the module's failure as it is: its message names the option at fault
(``field``), and it is raised before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class InputError(ValueError):
    """Bad input (or a request that cannot be met), found before any write; ``field`` names the option."""

    def __init__(self, msg, field=None):
        super(InputError, self).__init__(msg)
        self.field = field
