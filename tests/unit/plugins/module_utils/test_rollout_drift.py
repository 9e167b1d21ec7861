"""rollout_drift.stuck_unobserved: a member Rollout whose spec its controller has not observed."""

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.multicluster.canary.plugins.module_utils import rollout_drift as rd
from ansible_collections.multicluster.canary.plugins.module_utils import rollout_status

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "karmada"


def member(generation=7, observed="7", **status):
    ro = yaml.safe_load((FIXTURES / "helloworld-rollout-member.yml").read_text())
    ro["metadata"]["generation"] = generation
    ro["status"]["observedGeneration"] = observed
    del ro["spec"]["paused"]  # paused at a canary step (pauseConditions), not by hand
    ro["status"].update(status)
    return ro


def test_observed_is_not_stuck_however_long():
    r = rd.stuck_unobserved(member(), seconds=3600)
    assert r["state"] == rd.OBSERVED and r["stuck"] is False and r["behind"] == 0


def test_paused_and_behind_past_the_threshold_is_stuck_and_says_why_and_what_to_do():
    r = rd.stuck_unobserved(member(generation=6, observed="3"), seconds=120, threshold=60, cluster="k8s-master-beijing")
    assert r["state"] == rd.STUCK and r["stuck"] is True
    assert (r["generation"], r["observed_generation"], r["behind"]) == (6, 3, 3)
    msg = r["message"]
    assert msg.startswith("Rollout helloworld-stable in k8s-master-beijing: stuck unobserved")
    assert "generation 6 but status.observedGeneration 3 for 120s" in msg
    assert "paused (CanaryPauseStep)" in msg
    assert rd.NUDGE_ANNOTATION in msg and r["nudge"] == rd.NUDGE_ANNOTATION


def test_behind_within_the_threshold_is_catching_up():
    r = rd.stuck_unobserved(member(generation=8, observed="7"), seconds=59, threshold=60)
    assert r["state"] == rd.CATCHING_UP and r["stuck"] is False
    assert r["seconds"] == 59 and r["behind"] == 1
    # exactly at the threshold: not yet
    assert rd.stuck_unobserved(member(generation=8, observed="7"), seconds=60, threshold=60)["stuck"] is False


def test_a_busy_rollout_is_never_stuck():
    busy = member(generation=8, observed="7", phase="Progressing")
    del busy["status"]["pauseConditions"]
    r = rd.stuck_unobserved(busy, seconds=600)
    assert r["state"] == rd.CATCHING_UP and not r["stuck"]


@pytest.mark.parametrize("change, why", [
    (lambda ro: ro["spec"].update(paused=True), "paused by hand (spec.paused)"),
    (lambda ro: (ro["status"].pop("pauseConditions"), ro["status"].update(phase="Healthy")), "idle (phase Healthy)"),
    (lambda ro: (ro["status"].pop("pauseConditions"), ro["status"].update(controllerPause=True, phase="")),
     "paused by the controller"),
])
def test_every_kind_of_idle(change, why):
    ro = member(generation=9, observed="8")
    change(ro)
    r = rd.stuck_unobserved(ro, seconds=61)
    assert r["stuck"] and why in r["message"]


def test_works_on_a_rollout_status_summary():
    ro = member(generation=6, observed="5")
    summary = rollout_status.summarize(ro)
    assert summary["phase"] == "Progressing"  # what the flaky wait saw
    r = rd.stuck_unobserved(summary, seconds=300, cluster="k8s-master-shanghai")
    assert r["stuck"] and (r["generation"], r["observed_generation"]) == (6, 5)
    assert "paused (CanaryPauseStep)" in r["message"]
    busy = dict(summary, paused=False, fully_promoted=False)
    assert rd.stuck_unobserved(busy, seconds=300)["state"] == rd.CATCHING_UP
    done = dict(summary, paused=False, fully_promoted=True)
    assert "idle (fully promoted)" in rd.stuck_unobserved(done, seconds=300)["message"]


def test_without_generations_nothing_is_claimed():
    ro = member()
    del ro["status"]["observedGeneration"]
    r = rd.stuck_unobserved(ro, seconds=999)
    assert r["state"] == rd.UNKNOWN and not r["stuck"] and "nothing to compare" in r["message"]
    assert rd.stuck_unobserved({}, seconds=1)["state"] == rd.UNKNOWN


def test_input_is_not_modified():
    ro = member(generation=6, observed="3")
    before = copy.deepcopy(ro)
    rd.stuck_unobserved(ro, seconds=100)
    assert ro == before


@pytest.mark.parametrize("seconds, threshold, field", [(-1, 60, "seconds"), (None, 60, "seconds"),
                                                       (10, -5, "threshold"), (10, None, "threshold")])
def test_bad_numbers_name_the_argument(seconds, threshold, field):
    with pytest.raises(ValueError) as e:
        rd.stuck_unobserved(member(), seconds=seconds, threshold=threshold)
    assert str(e.value).startswith(field + ":")


def test_nudge_patch_is_a_metadata_only_merge_patch():
    assert rd.nudge_patch("2025-01-01T00:00:00Z") == {
        "metadata": {"annotations": {rd.NUDGE_ANNOTATION: "2025-01-01T00:00:00Z"}}}
    with pytest.raises(ValueError) as e:
        rd.nudge_patch("")
    assert "now:" in str(e.value)
