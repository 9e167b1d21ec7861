# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""multicluster.canary.release_inputs: the answers of a stage playbook checked on the controller.

No module runs and no connection is made: the answers are checked in Ansible's worker, by the
pure logic of module_utils/release_inputs.py, and a bad one fails the task naming the answer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.release_inputs import ANSWERS, check_answers

ARGUMENT_SPEC = dict(
    answers=dict(type="dict", required=True),
    apps=dict(type="list", elements="str", default=[]),
    app_all_allowed=dict(type="bool", default=False),
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        unknown = sorted(set(args["answers"]) - set(ANSWERS))
        if unknown:
            result.update(failed=True, msg="answers: unknown answer(s) {0}; known: {1}".format(
                ", ".join(unknown), ", ".join(ANSWERS)))
            return result
        try:
            result["answers"] = check_answers(args["answers"], args["apps"], args["app_all_allowed"])
        except InputError as e:
            result.update(failed=True, msg=str(e), field=e.field)
        result["changed"] = False
        return result
