# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of awx/generate.yml: the AWX workflow of each app, from the catalogue and the members' waves.

Plain functions on plain data (the inventory's ``multicluster_canary_apps`` and each member's
``multicluster_canary_wave``), loaded by Ansible as the playbook's own filter plugins. The graph
follows what the stage playbooks do: ``canary.yml -e wave=N`` stops every cluster of wave N at the
strategy's first pause, ``promote.yml`` moves them to the next pause (the last one to the end); an
approval node stands before every promotion and before every later wave, and every node fails over
to one abort node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import yaml
from ansible.errors import AnsibleFilterError

PREFIX = "multicluster-canary "
ABORT = "abort"


def _int(value, what):
    if isinstance(value, bool):
        raise AnsibleFilterError("{0}: {1!r} is not a wave number".format(what, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise AnsibleFilterError("{0}: {1!r} is not a wave number".format(what, value))
    if number < 1:
        raise AnsibleFilterError("{0}: {1!r} is not a wave number (1, 2, ...)".format(what, value))
    return number


def waves_of(members):
    """{wave number: sorted member names} from {member: multicluster_canary_wave}."""
    waves = {}
    for member in sorted(members or {}):
        wave = _int(members[member], "multicluster_canary_wave of " + member)
        waves.setdefault(wave, []).append(member)
    return waves or {1: []}


def pauses_of(app, spec):
    """Each pause of the app's canary steps: its step index, the canary weight there and its duration."""
    steps = (spec or {}).get("steps") or []
    if not isinstance(steps, list):
        raise AnsibleFilterError("multicluster_canary_apps.{0}.steps: not a list of canary steps".format(app))
    pauses, weight = [], 0
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            raise AnsibleFilterError("multicluster_canary_apps.{0}.steps[{1}]: not a canary step".format(app, index))
        if step.get("setWeight") is not None:
            weight = step["setWeight"]
        if "pause" in step:
            duration = (step.get("pause") or {}).get("duration")
            pauses.append({"step": index, "steps": len(steps), "weight": weight, "duration": duration})
    return pauses


def _clusters(names):
    return ", ".join(names) if names else "no member yet"


def _pause_text(app, wave, clusters, pause, number, count):
    # step index/count, as the status template and Argo's CLI show it
    where = "{0} is paused at step {1}/{2} in wave {3} ({4}), the canary at {5}% of the traffic".format(
        app, pause["step"], pause["steps"], wave, _clusters(clusters), pause["weight"])
    if pause["duration"] not in (None, ""):
        where += " for {0} (a timed pause: approving before it ends cuts it short)".format(pause["duration"])
    after = "the next pause" if number < count else "the end: the new image becomes stable in wave {0}".format(wave)
    return (where + ". Check it (status template, the testers' lane), then approve to promote it to "
            + after + "; deny, or let the approval time out, to abort (back to the stable version).")


def awx_workflow(app, spec, members, timeout=0, prefix=PREFIX):
    """The workflow job template of one app, in the controller_workflows layout of infra.aap_configuration.

    Nodes use the options of awx.awx.workflow_job_template_node (simplified_workflow_nodes).
    """
    waves = waves_of(members)
    pauses = pauses_of(app, spec)
    numbers = sorted(waves)
    nodes = []

    def node(identifier, success=None, **fields):
        item = {"identifier": identifier}
        item.update(fields)
        item["success_nodes"] = [success] if success else []
        item["failure_nodes"] = [ABORT]
        nodes.append(item)

    def approval(identifier, success, name, description):
        node(identifier, success, approval_node={"name": name, "description": description, "timeout": int(timeout)})

    for position, wave in enumerate(numbers):
        clusters = waves[wave]
        last_wave = position == len(numbers) - 1
        if position > 0:
            approval("wave-{0}-approval".format(wave), "wave-{0}-canary".format(wave),
                     "{0}: release wave {1}".format(app, wave),
                     "The new image of {0} is stable in wave(s) {1}. Approve to start the canary in wave {2} ({3}); "
                     "deny to stop here (the waves released so far keep the new image, the later ones stay held on "
                     "the previous one; canary.yml -e wave={2} goes on later).".format(
                         app, ", ".join(str(n) for n in numbers[:position]), wave, _clusters(clusters)))
        after_wave = None if last_wave else "wave-{0}-approval".format(numbers[position + 1])
        first = "wave-{0}-pause-1-approval".format(wave) if pauses else after_wave
        node("wave-{0}-canary".format(wave), first,
             unified_job_template=prefix + "canary", extra_data={"wave": wave})
        for number, pause in enumerate(pauses, 1):
            promote = "wave-{0}-pause-{1}-promote".format(wave, number)
            approval("wave-{0}-pause-{1}-approval".format(wave, number), promote,
                     "{0} wave {1}: pause {2}/{3}".format(app, wave, number, len(pauses)),
                     _pause_text(app, wave, clusters, pause, number, len(pauses)))
            following = "wave-{0}-pause-{1}-approval".format(wave, number + 1) if number < len(pauses) else after_wave
            # from_step: the pause this approval was for; a retried node, or one approved after a timed pause
            # ended by itself, leaves the members that are past it where they are
            node(promote, following, unified_job_template=prefix + "promote",
                 extra_data={"full": "false", "from_step": pause["step"]})

    nodes.append({"identifier": ABORT, "unified_job_template": prefix + "abort", "all_parents_must_converge": False,
                  "success_nodes": [], "failure_nodes": []})
    return {
        "name": "{0}workflow {1}".format(prefix, app),
        "description": "Release {0} wave by wave ({1}), with an approval at every pause and before every wave; "
                       "a failure or a denial aborts it".format(app, ", ".join(
                           "{0}: {1}".format(w, _clusters(waves[w])) for w in numbers)),
        "extra_vars": {"app": app},
        "allow_simultaneous": False,
        "survey_enabled": True,
        "survey_spec": {
            "name": "Release " + app,
            "description": "Release a new image of {0}".format(app),
            "spec": [{
                "question_name": "Image",
                "question_description": "The new image of {0} (empty - the catalogue's image)".format(app),
                "variable": "image",
                "type": "text",
                "min": 0,
                "max": 512,
                "required": False,
            }],
        },
        "simplified_workflow_nodes": nodes,
    }


def awx_workflows(apps, members, timeout=0, prefix=PREFIX):
    """One workflow per app of the catalogue, in the catalogue's order."""
    if not isinstance(apps, dict) or not apps:
        raise AnsibleFilterError("multicluster_canary_apps: the inventory has no app catalogue")
    return [awx_workflow(app, apps[app], members, timeout=timeout, prefix=prefix) for app in apps]


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as yamllint (ansible-lint) wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super(_IndentedDumper, self).increase_indent(flow, False)


def awx_yaml(data):
    """YAML text of plain data, lists indented, keys in their order, long lines folded at 120."""
    plain = json.loads(json.dumps(data))  # the inventory's strings may be Ansible's own str types
    return yaml.dump(plain, Dumper=_IndentedDumper, default_flow_style=False, sort_keys=False, width=120,
                     allow_unicode=True)


class FilterModule(object):
    def filters(self):
        return {"awx_workflows": awx_workflows, "awx_yaml": awx_yaml}
