# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hands karmada_interpreter the Lua scripts the collection ships.

The scripts are data files (``plugins/module_utils/lua/*.lua``), and AnsiballZ packs only the
Python a module imports into the module's process: the module cannot read them where it runs.
This action plugin reads them on the controller and passes them as the module's ``lua_scripts``,
then leaves them out of the task's ``invocation`` (they are long and say nothing about the task).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.multicluster.canary.plugins.module_utils.karmada_interpreter import read_scripts

MODULE = "multicluster.canary.karmada_interpreter"


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        args["lua_scripts"] = read_scripts()
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        module_args = (result.get("invocation") or {}).get("module_args")
        if isinstance(module_args, dict):
            module_args.pop("lua_scripts", None)
        return result
