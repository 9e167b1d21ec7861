# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner layer: one module run against a fleet, the result it builds, and the one way out.

A module's ``main`` builds its AnsibleModule and hands it to :func:`execute` with the runner of
that module (a function taking a :class:`Run`). The runner reads and writes through the service
and client layers and records what it did on the :class:`Run`: per-cluster results, warnings,
diffs, ``changed``. It ends by returning (success) or by raising: :class:`RunError` (a failure
with the message and the fields to add), an :class:`InputError` (bad input, before any write) or
a :class:`FleetError` (an API server said no). :func:`execute` is the only place that exits the
module, and a failure always carries what was done before it (``changed`` and the result so far).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError, fleet_for


class RunError(Exception):
    """Ends a run as failed: ``msg`` and the result ``fields`` to add to what the run recorded."""

    def __init__(self, msg, **fields):
        super(RunError, self).__init__(msg)
        self.msg = msg
        self.fields = fields


class Run(object):
    """One run of a module: its options, check and diff mode, the fleet (built on first use), the result."""

    def __init__(self, params, check_mode=False, want_diff=False, fleet=None, **result):
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        self._fleet = fleet
        self.result = dict(changed=False)
        self.result.update(result)
        self.warnings = []
        self.diffs = []

    @property
    def fleet(self):
        if self._fleet is None:
            self._fleet = fleet_for(self.params)
        return self._fleet

    def update(self, **fields):
        self.result.update(fields)

    def changed(self, flag=True):
        """Record that something changed (``flag``); the run's ``changed`` only ever goes up."""
        self.result["changed"] = bool(self.result["changed"] or flag)

    def warn(self, message):
        self.warnings.append(message)

    def diff(self, entry, prefix=None):
        """Keep one diff entry (``{before, after, before_header, after_header}``) when the user asked for a diff."""
        if self.want_diff and entry:
            if prefix:
                entry = dict(entry, before_header="{0}: {1}".format(prefix, entry.get("before_header")),
                             after_header="{0}: {1}".format(prefix, entry.get("after_header")))
            self.diffs.append(entry)

    def fail(self, msg, **fields):
        raise RunError(msg, **fields)

    def per_cluster(self, names, results, done):
        """The ``clusters`` result from ``Fleet.run``'s ``{name: (ok, value)}``: ``done(name, value)`` makes the
        entry of a cluster that succeeded; one that failed gets ``{changed: false, msg}``, and the run fails
        naming every such cluster (after recording every entry)."""
        clusters, failed = {}, []
        for name in names:
            ok, value = results[name]
            if ok:
                clusters[name] = done(name, value)
            else:
                failed.append(name)
                clusters[name] = {"changed": False, "msg": value}
        self.update(clusters=clusters)
        if failed:
            self.fail("failed in {0}: {1}".format(", ".join(failed), "; ".join(clusters[n]["msg"] for n in failed)))
        return clusters

    def outcome(self, **fields):
        """The module result: what was recorded, ``fields`` on top, and the diffs under --diff."""
        out = dict(self.result)
        out.update(fields)
        if self.want_diff:
            out["diff"] = list(self.diffs)
        return out


def split(results):
    """``Fleet.run``'s ``{name: (ok, value)}`` as ``({name: value}, {name: error})``."""
    done = dict((n, v) for n, (ok, v) in results.items() if ok)
    failed = dict((n, v) for n, (ok, v) in results.items() if not ok)
    return done, failed


def listing(errors):
    """``{cluster: message}`` as one line: ``a: why; b: why``, by cluster name."""
    return "; ".join("{0}: {1}".format(n, errors[n]) for n in sorted(errors))


def execute(module, runner, **result):
    """Run ``runner(run)`` for ``module`` and exit with its result, or fail with its error: the one exit path.

    ``result`` holds the fields every result has from the start (with their values before anything
    is known), so that a failure reports them too.
    """
    run = Run(module.params, check_mode=module.check_mode, want_diff=module._diff, **result)
    msg, fields = None, {}
    try:
        runner(run)
    except RunError as e:
        msg, fields = e.msg, e.fields
    except InputError as e:
        msg = str(e)
        if e.field is not None:
            fields["field"] = e.field
    except FleetError as e:
        msg = str(e)
    for warning in run.warnings:
        module.warn(warning)
    if msg is None:
        module.exit_json(**run.outcome())
    module.fail_json(msg=msg, **run.outcome(**fields))
