# -*- coding: utf-8 -*-
# Copyright: multicluster.canary contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rollout_status against seed 000's Rollouts in the states a release meets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible_collections.multicluster.canary.plugins.module_utils import rollout_status as rs

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "rollouts")


def load(name):
    with open(os.path.join(FIXTURES, name + ".yaml")) as f:
        return yaml.safe_load(f)


@pytest.fixture
def paused():
    return load("paused_step1")


# --- summarize ---------------------------------------------------------------

@pytest.mark.parametrize("fixture, phase, step, paused, reason", [
    ("paused_step1", "Paused", 1, True, "CanaryPauseStep"),
    ("progressing_step2", "Progressing", 2, False, None),
    ("degraded", "Degraded", 2, False, None),
    ("aborted", "Aborted", 0, False, None),
    ("healthy", "Healthy", 10, False, None),
    ("frontend_paused_step3", "Paused", 3, True, "CanaryPauseStep"),
])
def test_summarize_phases(fixture, phase, step, paused, reason):
    s = rs.summarize(load(fixture))
    assert s["phase"] == phase
    assert s["step"] == step
    assert s["paused"] is paused
    assert s["pause_reason"] == reason
    assert s["step_count"] == 10
    assert s["step_text"] == "{0}/10".format(step)
    assert s["observed"] is True


def test_summarize_paused_details(paused):
    s = rs.summarize(paused)
    assert s["set_weight"] == 20
    assert s["canary_weight"] == 20  # no traffic routing: the desired weight
    assert s["current_image"] == "ccr.ccs.tencentyun.com/huanghuanhui/helloworld:canary"
    assert s["stable_image"] is None  # unknown without the stable ReplicaSet
    assert s["stable_rs"] == "7c9d8b6f5d"
    assert s["canary_rs"] == "5f8d7c6b4a"
    assert s["fully_promoted"] is False
    assert s["aborted"] is False
    assert s["message"] == "CanaryPauseStep"
    assert s["replicas"] == {"desired": 4, "current": 5, "updated": 1, "ready": 5, "available": 5}
    assert s["strategy"] == "canary"


def test_summarize_stable_image_from_replicaset(paused):
    stable = {"metadata": {"name": "helloworld-stable-7c9d8b6f5d"},
              "spec": {"template": {"spec": {"containers": [
                  {"name": "helloworld", "image": "ccr.ccs.tencentyun.com/huanghuanhui/helloworld:stable"}]}}}}
    assert rs.summarize(paused, stable)["stable_image"].endswith("helloworld:stable")


def _two_containers(rollout, first, second):
    rollout["spec"]["template"]["spec"]["containers"] = [dict(first), dict(second)]
    return rollout


def test_the_released_container_is_the_given_one_not_the_first(paused):
    sidecar = {"name": "log-shipper", "image": "filebeat:8"}
    app = {"name": "web", "image": "web:2"}
    ro = _two_containers(paused, sidecar, app)
    stable = {"spec": {"template": {"spec": {"containers": [sidecar, {"name": "web", "image": "web:1"}]}}}}
    s = rs.summarize(ro, stable, container="web")
    assert (s["current_image"], s["stable_image"]) == ("web:2", "web:1")
    # unknown container: no image rather than another container's
    assert rs.summarize(ro, stable, container="nope")["current_image"] is None


def test_without_a_container_the_one_named_after_the_rollout_else_the_first(paused):
    name = paused["metadata"]["name"]
    ro = _two_containers(paused, {"name": "istio-proxy", "image": "proxy:1"}, {"name": name, "image": "app:2"})
    assert rs.summarize(ro)["current_image"] == "app:2"
    ro = _two_containers(paused, {"name": "istio-proxy", "image": "proxy:1"}, {"name": "other", "image": "app:2"})
    assert rs.summarize(ro)["current_image"] == "proxy:1"
    assert rs.released_container(ro["spec"]["template"]) == "istio-proxy"
    assert rs.container_names(ro["spec"]["template"]) == ["istio-proxy", "other"]


def test_summarize_healthy_weights_and_images():
    s = rs.summarize(load("healthy"))
    assert s["set_weight"] == 100
    assert s["canary_weight"] == 100
    assert s["fully_promoted"] is True
    assert s["stable_image"] == s["current_image"]


def test_aborted_weight_is_zero():
    s = rs.summarize(load("aborted"))
    assert s["set_weight"] == 0
    assert s["canary_weight"] == 0
    assert s["aborted"] is True
    assert s["message"].startswith("RolloutAborted")


def test_frontend_weight_comes_from_the_router():
    # setCanaryScale steps without setWeight: pods, but 0% of plain traffic (DESIGN.md)
    s = rs.summarize(load("frontend_paused_step3"))
    assert s["canary_weight"] == 0
    assert s["set_weight"] == 0


def test_manual_pause_reported_first(paused):
    paused["spec"]["paused"] = True
    s = rs.summarize(paused)
    assert s["pause_reasons"] == ["manual", "CanaryPauseStep"]
    assert s["pause_reason"] == "manual"


def test_unobserved_generation_is_progressing(paused):
    paused["metadata"]["generation"] = 3
    s = rs.summarize(paused)
    assert s["phase"] == "Progressing"
    assert s["observed"] is False
    assert "observed" in s["message"]


def test_unpausing_is_progressing(paused):
    # promote cleared the pause conditions; the controller has not acted yet
    paused["status"]["pauseConditions"] = None
    assert rs.phase(paused) == ("Progressing", "waiting for rollout to unpause")


def test_abort_not_yet_acted_on(paused):
    paused["status"]["abort"] = True
    assert rs.phase(paused)[0] == "Progressing"


def test_retry_not_yet_acted_on():
    ro = load("aborted")
    ro["status"]["abort"] = False
    assert rs.phase(ro) == ("Progressing", "waiting for rollout to retry")


@pytest.mark.parametrize("fixture, phase", [
    ("paused_step1", "Paused"),
    ("progressing_step2", "Progressing"),
    ("degraded", "Degraded"),
    ("healthy", "Healthy"),
])
def test_client_side_phase_without_status_phase(fixture, phase):
    # controllers older than v1.0 leave status.phase empty: the CLI computes it
    ro = load(fixture)
    del ro["status"]["phase"]
    del ro["status"]["message"]
    assert rs.phase(ro)[0] == phase


def test_client_side_manual_pause(paused):
    del paused["status"]["phase"]
    paused["spec"]["paused"] = True
    assert rs.phase(paused) == ("Paused", "manually paused")


def test_set_weight_walks_back_to_last_set_weight(paused):
    paused["status"]["currentStepIndex"] = 3  # pause: {duration: 10} after setWeight 40
    assert rs.set_weight(paused) == 40
    paused["status"].pop("currentStepIndex")
    assert rs.set_weight(paused) == 20  # no index means step 0


def test_blue_green_has_no_steps():
    ro = load("healthy")
    ro["spec"]["strategy"] = {"blueGreen": {"activeService": "helloworld"}}
    s = rs.summarize(ro)
    assert s["strategy"] == "blueGreen"
    assert s["step"] is None and s["step_text"] is None and s["set_weight"] is None


# --- position, fleet_summary --------------------------------------------------

def test_position_texts():
    assert rs.position(rs.summarize(load("paused_step1"))) == "step 1/10 paused (CanaryPauseStep)"
    assert rs.position(rs.summarize(load("progressing_step2"))) == "step 2/10 progressing"
    assert rs.position(rs.summarize(load("healthy"))) == "healthy"
    assert rs.position(rs.summarize(load("aborted"))).startswith("step 0/10 aborted (RolloutAborted")


def fleet(**states):
    return dict((name, rs.summarize(load(fixture))) for name, fixture in states.items())


def test_fleet_aligned():
    f = rs.fleet_summary(fleet(beijing="paused_step1", shanghai="paused_step1"))
    assert f["state"] == "aligned"
    assert f["step"] == 1
    assert f["phase"] == "Paused"
    assert f["message"] == "all 2 cluster(s) step 1/10 paused (CanaryPauseStep)"


def test_fleet_mixed():
    f = rs.fleet_summary(fleet(beijing="paused_step1", shanghai="progressing_step2"))
    assert f["state"] == "mixed"
    assert f["step"] is None
    assert f["message"] == "mixed: beijing: step 1/10 paused (CanaryPauseStep); shanghai: step 2/10 progressing"
    assert f["by_phase"] == {"Paused": ["beijing"], "Progressing": ["shanghai"]}


def test_fleet_degraded_names_only_the_bad_ones():
    f = rs.fleet_summary(fleet(beijing="paused_step1", guangzhou="degraded", shenzhen="aborted"))
    assert f["state"] == "degraded"
    assert "guangzhou: step 2/10 degraded (ProgressDeadlineExceeded" in f["message"]
    assert "shenzhen: step 0/10 aborted" in f["message"]
    assert "beijing" not in f["message"]


def test_fleet_empty():
    assert rs.fleet_summary({})["state"] == "empty"


# --- gate ---------------------------------------------------------------------

def test_gate_same_step_passes():
    ok, msg = rs.gate(fleet(beijing="paused_step1", shanghai="paused_step1"), "promote")
    assert ok and msg == "all 2 cluster(s) paused at step 1/10"


def test_gate_mixed_steps_refuses_and_says_where():
    ok, msg = rs.gate(fleet(beijing="paused_step1", shanghai="progressing_step2"), "promote")
    assert not ok
    assert "beijing: step 1/10 paused (CanaryPauseStep); shanghai: step 2/10 progressing" in msg
    assert "require_same_step" in msg


def test_gate_paused_at_different_steps_refuses():
    per = fleet(beijing="paused_step1", shanghai="frontend_paused_step3")
    ok, msg = rs.gate(per, "promote")
    assert not ok and "step 3/10 paused" in msg


def test_gate_one_paused_one_healthy_refuses():
    assert not rs.gate(fleet(beijing="paused_step1", shanghai="healthy"), "promote")[0]


def test_gate_nothing_paused_passes_as_noop():
    ok, msg = rs.gate(fleet(beijing="healthy", shanghai="healthy"), "promote")
    assert ok and msg.startswith("nothing to promote")


# --- from_step -----------------------------------------------------------------

def test_split_from_step_at_past_and_behind():
    per = fleet(beijing="paused_step1", shanghai="frontend_paused_step3", guangzhou="healthy", shenzhen="aborted")
    assert rs.split_from_step(per, 1) == (["beijing"], ["guangzhou", "shanghai"], ["shenzhen"])
    assert rs.split_from_step(per, 3) == (["shanghai"], ["guangzhou"], ["beijing", "shenzhen"])


def test_split_from_step_without_steps_is_at():
    per = {"beijing": dict(rs.summarize(load("healthy")), step=None)}
    assert rs.split_from_step(per, 2) == (["beijing"], [], [])


@pytest.mark.parametrize("action", ["status", "promote_full", "abort", "retry", "pause", "resume"])
def test_gate_only_promote(action):
    assert rs.gate(fleet(beijing="paused_step1", shanghai="degraded"), action) == (True, "")


# --- patches --------------------------------------------------------------------

def test_promote_paused_step_clears_pause_conditions(paused):
    assert rs.patches(paused, "promote") == [("status", {"status": {"pauseConditions": None}})]


def test_promote_manual_pause_with_conditions(paused):
    paused["spec"]["paused"] = True
    assert rs.patches(paused, "promote") == [
        ("status", {"status": {"pauseConditions": None}}),
        (None, {"spec": {"paused": False}}),
    ]


def test_promote_manual_pause_only_moves_a_step_on_like_the_cli():
    ro = load("progressing_step2")
    ro["spec"]["paused"] = True
    assert rs.patches(ro, "promote") == [
        ("status", {"status": {"pauseConditions": None, "currentStepIndex": 3}}),
        (None, {"spec": {"paused": False}}),
    ]


def test_promote_manual_pause_at_end_does_not_pass_the_last_step():
    ro = load("healthy")
    ro["spec"]["paused"] = True
    assert rs.patches(ro, "promote")[0] == ("status", {"status": {"pauseConditions": None, "currentStepIndex": 10}})


@pytest.mark.parametrize("fixture", ["progressing_step2", "healthy", "degraded", "aborted"])
def test_promote_not_paused_is_noop(fixture):
    assert rs.patches(load(fixture), "promote") == []


def test_promote_full(paused):
    assert rs.patches(paused, "promote_full") == [("status", {"status": {"promoteFull": True}})]
    paused["status"]["promoteFull"] = True
    assert rs.patches(paused, "promote_full") == []
    assert rs.patches(load("healthy"), "promote_full") == []


def test_abort_and_retry(paused):
    assert rs.patches(paused, "abort") == [("status", {"status": {"abort": True}})]
    assert rs.patches(paused, "retry") == []
    aborted = load("aborted")
    assert rs.patches(aborted, "abort") == []
    assert rs.patches(aborted, "retry") == [("status", {"status": {"abort": False}})]
    assert rs.patches(load("healthy"), "abort") == []  # nothing in flight


def test_pause_and_resume(paused):
    assert rs.patches(paused, "pause") == [(None, {"spec": {"paused": True}})]
    assert rs.patches(paused, "resume") == []
    paused["spec"]["paused"] = True
    assert rs.patches(paused, "pause") == []
    assert rs.patches(paused, "resume") == [(None, {"spec": {"paused": False}})]


def test_status_never_patches(paused):
    assert rs.patches(paused, "status") == []


def test_unknown_action(paused):
    with pytest.raises(ValueError):
        rs.patches(paused, "rollback")


def test_unified_patch_is_the_clis_fallback(paused):
    paused["spec"]["paused"] = True
    assert rs.unified_patch(rs.patches(paused, "promote")) == {
        "status": {"pauseConditions": None}, "spec": {"paused": False}}


def test_patches_do_not_share_state(paused):
    a = rs.patches(paused, "promote")
    a[0][1]["status"]["x"] = 1
    assert rs.patches(paused, "promote") == [("status", {"status": {"pauseConditions": None}})]


# --- reached_next_pause ---------------------------------------------------------

def after_promote(paused):
    ro = copy.deepcopy(paused)
    ro["status"]["pauseConditions"] = None
    return ro


def test_next_pause_sequence(paused):
    before = rs.summarize(paused)
    # the patch is in, the controller has not acted
    assert not rs.reached_next_pause(before, rs.summarize(after_promote(paused)))
    # the controller moved to setWeight 40
    assert not rs.reached_next_pause(before, rs.summarize(load("progressing_step2")))
    # still the same pause (a stale read)
    assert not rs.reached_next_pause(before, before)
    nxt = copy.deepcopy(paused)
    nxt["status"]["currentStepIndex"] = 3
    assert rs.reached_next_pause(before, rs.summarize(nxt))


@pytest.mark.parametrize("fixture", ["healthy", "degraded", "aborted"])
def test_terminal_states_settle(paused, fixture):
    assert rs.reached_next_pause(rs.summarize(paused), rs.summarize(load(fixture)))


def test_pause_from_running_settles(paused):
    assert rs.reached_next_pause(rs.summarize(load("progressing_step2")), rs.summarize(paused))


def test_unobserved_never_settles(paused):
    after = load("healthy")
    after["metadata"]["generation"] = 5
    assert not rs.reached_next_pause(rs.summarize(paused), rs.summarize(after))


def test_fleet_all_aborted_is_its_own_state():
    f = rs.fleet_summary(fleet(beijing="aborted", shanghai="aborted"))
    assert f["state"] == "aborted"
    assert f["message"] == "all 2 cluster(s) aborted: back on the stable version"
