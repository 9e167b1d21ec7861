# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records each task's wall-clock window and the recap into a JSON file, for bench/.

Enabled only by bench/ (ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_record, MCC_BENCH_RECORD=<file>), for every playbook it times,
the ping baseline included, so it costs all of them the same. The stdout callback stays the default.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bench_record
type: aggregate
short_description: Writes per-task timings and the recap of a run to the file named by MCC_BENCH_RECORD
description:
  - For bench/ only. Each task's start and end (time.time()), its action and status, the C(settled_at) and
    C(waited) a wait returned, and the recap's counts per host.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# Result keys worth keeping: when a wait saw each member settle, and how long it waited.
_KEEP = ("settled_at", "waited", "message")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.started = time.time()
        self.tasks = []
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.current = {"name": task.get_name(), "action": task.action, "start": time.time(), "end": None,
                        "status": None}
        self.tasks.append(self.current)

    def _done(self, result, status):
        entry = self.current
        if entry is None:
            return
        entry["end"] = time.time()
        entry["status"] = status
        res = result._result  # pylint: disable=protected-access
        entry["changed"] = bool(res.get("changed"))
        for key in _KEEP:
            if key in res:
                entry[key] = res[key]

    def v2_runner_on_ok(self, result):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._done(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("MCC_BENCH_RECORD")
        if not path:
            return
        recap = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        with open(path, "w") as fh:
            json.dump({"started": self.started, "ended": time.time(), "tasks": self.tasks, "recap": recap}, fh)
