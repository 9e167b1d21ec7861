# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner layer: one exit path, failures that carry what was done, per-cluster results."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import runner
from ansible_collections.multicluster.canary.plugins.module_utils.errors import InputError
from ansible_collections.multicluster.canary.plugins.module_utils.fleet import FleetError


class Exited(Exception):
    pass


class Module(object):
    """An AnsibleModule as the runner sees it; counts how it was ended."""

    def __init__(self, check_mode=False, diff=False, **params):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self.ends = []

    def warn(self, msg):
        self.warnings.append(msg)

    def exit_json(self, **result):
        self.ends.append(("exit", result))
        raise Exited()

    def fail_json(self, **result):
        self.ends.append(("fail", result))
        raise Exited()


def execute(module, fn, **result):
    with pytest.raises(Exited):
        runner.execute(module, fn, **result)
    assert len(module.ends) == 1  # one way out, whatever happened
    return module.ends[0]


def test_success_exits_with_what_the_run_recorded():
    def fn(run):
        run.update(clusters=["a"])
        run.changed(False)
        run.changed(True)
        run.changed(False)  # changed only ever goes up
        run.warn("careful")
        run.diff({"before": {}, "after": {"x": 1}, "before_header": "X", "after_header": "X"}, prefix="a")

    module = Module(diff=True)
    end, result = execute(module, fn, clusters=[], message=None)
    assert end == "exit"
    assert result["changed"] is True and result["clusters"] == ["a"] and result["message"] is None
    assert result["diff"] == [{"before": {}, "after": {"x": 1}, "before_header": "a: X", "after_header": "a: X"}]
    assert module.warnings == ["careful"]


def test_no_diff_without_diff_mode():
    def fn(run):
        run.diff({"before": {}, "after": {"x": 1}})

    end, result = execute(Module(), fn)
    assert "diff" not in result


def test_a_failure_carries_what_was_done_before_it():
    def fn(run):
        run.update(patches={"a": ["sent"]})
        run.changed()
        run.warn("seen before the failure")
        run.fail("broke in b", failed_clusters={"b": "refused"})

    module = Module()
    end, result = execute(module, fn, patches={})
    assert end == "fail"
    assert result == {"msg": "broke in b", "changed": True, "patches": {"a": ["sent"]},
                      "failed_clusters": {"b": "refused"}}
    assert module.warnings == ["seen before the failure"]


def test_bad_input_names_its_field_and_an_api_error_is_shown_as_it_is():
    def bad(run):
        raise InputError("weights: must be numbers", "weights")

    assert execute(Module(), bad)[1] == {"msg": "weights: must be numbers", "field": "weights", "changed": False}

    def refused(run):
        raise FleetError("karmada: GET /apis: Forbidden", status=403)

    assert execute(Module(), refused)[1] == {"msg": "karmada: GET /apis: Forbidden", "changed": False}


def test_the_fleet_is_built_only_when_the_run_needs_it(monkeypatch):
    built = []
    monkeypatch.setattr(runner, "fleet_for", lambda params: built.append(params) or "fleet")

    def checks_first(run):
        raise InputError("name: required", "name")

    execute(Module(name=None), checks_first)
    assert built == []

    def uses_it(run):
        assert run.fleet == "fleet" and run.fleet == "fleet"

    execute(Module(name="x"), uses_it)
    assert built == [{"name": "x"}]


def test_a_connection_failure_fails_the_module_once(monkeypatch):
    def no_fleet(params):
        raise FleetError("cannot connect to the Karmada API server: kubeconfig file 'x' does not exist")

    monkeypatch.setattr(runner, "fleet_for", no_fleet)
    end, result = execute(Module(), lambda run: run.fleet.control)
    assert end == "fail" and result["msg"].startswith("cannot connect")


def test_per_cluster_records_every_entry_then_fails_naming_the_failed():
    run = runner.Run({})
    results = {"a": (True, 1), "b": (False, "b: refused"), "c": (True, 3)}
    with pytest.raises(runner.RunError) as e:
        run.per_cluster(["a", "b", "c"], results, lambda name, value: {"changed": value > 1})
    assert str(e.value) == "failed in b: b: refused"
    assert run.result["clusters"] == {"a": {"changed": False}, "b": {"changed": False, "msg": "b: refused"},
                                      "c": {"changed": True}}
    ok = runner.Run({})
    assert ok.per_cluster(["a"], {"a": (True, 1)}, lambda n, v: {"v": v}) == {"a": {"v": 1}}


def test_split_and_listing():
    done, failed = runner.split({"a": (True, "x"), "b": (False, "why")})
    assert done == {"a": "x"} and failed == {"b": "why"}
    assert runner.listing({"b": "why", "a": "because"}) == "a: because; b: why"
