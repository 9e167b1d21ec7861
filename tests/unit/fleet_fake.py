# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every unit fake of the fleet client shares: ``Fleet.run`` as the real one answers it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError


class SequentialRun(object):
    """``run(names, fn)`` -> {name: (True, fn(member)) or (False, error text)}, one member after another.

    The class using it keeps its members in ``self.members`` (name -> fake endpoint)."""

    def run(self, names, fn):
        out = {}
        for name in names:
            try:
                out[name] = (True, fn(self.members[name]))
            except FleetError as e:
                out[name] = (False, str(e))
        return out
