"""release_state: image references, the app's container, and what a release or rollback writes."""

import copy

import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import release_state as rs


def rollout(image="ruoyi/ruoyi-vue:1.0.0", name="ruoyi-vue", annotations=None, containers=None):
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": "ruoyi"},
        "spec": {"template": {"spec": {"containers": containers or [
            {"name": "istio-proxy-like-sidecar", "image": "busybox:1.36"},
            {"name": name, "image": image, "ports": [{"containerPort": 80}]},
        ]}}},
    }
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    return obj


@pytest.mark.parametrize("image", [
    "nginx", "ruoyi/ruoyi-vue:1.1.0", "registry.example.com:5000/team/app:v2.0.1-rc.1",
    "localhost/a_b__c/d-e:latest", "ghcr.io/org/app@sha256:" + "a" * 64,
    "ghcr.io/org/app:1.0@sha256:" + "0123456789abcdef" * 4, "[::1]:5000/app:1",
])
def test_image_references_accepted(image):
    assert rs.check_image(image) == image


@pytest.mark.parametrize("image", [
    "v2;rm -rf", "", "Ruoyi/App:1.0", "app:", "app:-bad", "app@sha256:abc", "a//b", "app:1.0 ", " app",
    "app:" + "x" * 129, "$(id)", "app:1;reboot",
])
def test_image_references_refused_naming_the_field(image):
    with pytest.raises(rs.ReleaseError) as e:
        rs.check_image(image)
    assert str(e.value).startswith("image: ")


def test_container_by_name_then_only_one():
    assert rs.pick_container(rollout()) == "ruoyi-vue"
    single = rollout(containers=[{"name": "web", "image": "a:1"}])
    assert rs.pick_container(single) == "web"
    with pytest.raises(rs.ReleaseError, match=r"^container: no container 'nope'"):
        rs.pick_container(rollout(), "nope")
    two = rollout(containers=[{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}])
    with pytest.raises(rs.ReleaseError, match="several containers"):
        rs.pick_container(two)


def test_create_uses_the_definitions_image_and_records_nothing():
    out = rs.plan(None, rollout("ruoyi/ruoyi-vue:1.0.0"))
    assert (out["from_image"], out["to_image"], out["previous_image"]) == (None, "ruoyi/ruoyi-vue:1.0.0", None)
    assert "annotations" not in out["object"]["metadata"]


def test_onboarding_again_keeps_the_released_image():
    live = rollout("ruoyi/ruoyi-vue:1.1.0", annotations={rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"})
    out = rs.plan(live, rollout("ruoyi/ruoyi-vue:1.0.0"))
    assert out["to_image"] == "ruoyi/ruoyi-vue:1.1.0" and not out["image_changed"]
    assert rs.image_of(out["object"], "ruoyi-vue") == "ruoyi/ruoyi-vue:1.1.0"
    assert out["object"]["metadata"]["annotations"] == {rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"}
    # the sidecar is not the app's container and keeps the definition's image
    assert rs.image_of(out["object"], "istio-proxy-like-sidecar") == "busybox:1.36"


def test_release_records_the_stable_image_as_previous():
    live = rollout("ruoyi/ruoyi-vue:1.0.0")
    out = rs.plan(live, rollout(), image="ruoyi/ruoyi-vue:1.1.0", stable_image="ruoyi/ruoyi-vue:1.0.0")
    assert (out["from_image"], out["to_image"]) == ("ruoyi/ruoyi-vue:1.0.0", "ruoyi/ruoyi-vue:1.1.0")
    assert out["object"]["metadata"]["annotations"] == {rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"}


def test_release_over_an_unfinished_one_keeps_the_stable_image_as_previous():
    live = rollout("ruoyi/ruoyi-vue:1.1.0", annotations={rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"})
    out = rs.plan(live, rollout(), image="ruoyi/ruoyi-vue:1.2.0", stable_image="ruoyi/ruoyi-vue:1.0.0")
    assert out["previous_image"] == "ruoyi/ruoyi-vue:1.0.0"


def test_same_image_again_changes_nothing():
    live = rollout("ruoyi/ruoyi-vue:1.1.0", annotations={rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"})
    out = rs.plan(live, rollout(), image="ruoyi/ruoyi-vue:1.1.0", stable_image="ruoyi/ruoyi-vue:1.1.0")
    assert not out["image_changed"]
    assert out["object"]["metadata"]["annotations"] == {rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"}


def test_rollback_twice_never_brings_the_bad_image_back():
    released = rollout("ruoyi/ruoyi-vue:1.1.0", annotations={rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"})
    first = rs.plan(released, rollout(), rollback=True)
    assert (first["from_image"], first["to_image"]) == ("ruoyi/ruoyi-vue:1.1.0", "ruoyi/ruoyi-vue:1.0.0")
    assert first["object"]["metadata"]["annotations"] == {
        rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0", rs.ROLLED_BACK_FROM: "ruoyi/ruoyi-vue:1.1.0"}
    live = copy.deepcopy(first["object"])
    second = rs.plan(live, rollout(), rollback=True)
    assert not second["image_changed"]
    assert second["to_image"] == "ruoyi/ruoyi-vue:1.0.0"
    assert second["object"]["metadata"]["annotations"] == live["metadata"]["annotations"]
    # and the next release starts from the rolled-back image
    nxt = rs.plan(live, rollout(), image="ruoyi/ruoyi-vue:1.2.0", stable_image="ruoyi/ruoyi-vue:1.0.0")
    assert nxt["object"]["metadata"]["annotations"] == {rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"}


def test_rollback_without_a_record_uses_the_stable_image_or_says_what_to_give():
    live = rollout("ruoyi/ruoyi-vue:1.1.0")
    assert rs.plan(live, rollout(), rollback=True, stable_image="ruoyi/ruoyi-vue:1.0.0")["to_image"] == \
        "ruoyi/ruoyi-vue:1.0.0"
    with pytest.raises(rs.ReleaseError, match="^rollback: no previous image"):
        rs.plan(live, rollout(), rollback=True)
    with pytest.raises(rs.ReleaseError, match="^rollback: the Rollout does not exist"):
        rs.plan(None, rollout(), rollback=True)


def test_only_onboarding_records_the_onboarding_digest():
    """Onboarding (no image, no rollback) records the catalogue's digest; a release or a rollback writes the
    Rollout but not the app's Services and routes, so it keeps the template's and reports the difference."""
    new, old = {rs.ONBOARDED: "sha256:new"}, {rs.ONBOARDED: "sha256:old"}
    created = rs.plan(None, rollout(annotations=new))
    assert created["object"]["metadata"]["annotations"] == new and not created["onboarded"]
    live = rollout("ruoyi/ruoyi-vue:1.1.0", annotations=dict(old, **{rs.PREVIOUS_IMAGE: "ruoyi/ruoyi-vue:1.0.0"}))
    onboarding = rs.plan(live, rollout(annotations=new))
    assert onboarding["object"]["metadata"]["annotations"][rs.ONBOARDED] == "sha256:new"
    assert not onboarding["onboarded"]
    for release in (rs.plan(live, rollout(annotations=new), image="ruoyi/ruoyi-vue:1.2.0"),
                    rs.plan(live, rollout(annotations=new), image="ruoyi/ruoyi-vue:1.1.0"),
                    rs.plan(live, rollout(annotations=new), rollback=True)):
        assert release["object"]["metadata"]["annotations"][rs.ONBOARDED] == "sha256:old"
        assert not release["onboarded"]
    again = rs.plan(live, rollout(annotations=old), image="ruoyi/ruoyi-vue:1.1.0")
    assert again["onboarded"] and not again["image_changed"]
    assert again["object"]["metadata"]["annotations"] == live["metadata"]["annotations"]
    # a template from before the digest: not onboarded as the catalogue says, and a release records none
    bare = rollout("ruoyi/ruoyi-vue:1.1.0")
    assert not rs.plan(bare, rollout(annotations=new), image="ruoyi/ruoyi-vue:1.1.0")["onboarded"]
    assert "annotations" not in rs.plan(bare, rollout(annotations=new), image="ruoyi/ruoyi-vue:1.1.0")[
        "object"]["metadata"]


def test_bad_image_is_refused_before_planning():
    with pytest.raises(rs.ReleaseError, match="^image: 'v2;rm -rf'"):
        rs.plan(rollout(), rollout(), image="v2;rm -rf")


def summary(phase, image="x:2", observed=True, fully_promoted=False):
    return {"phase": phase, "current_image": image, "observed": observed, "fully_promoted": fully_promoted}


@pytest.mark.parametrize("target,s,want", [
    ("image", summary("Progressing"), True),
    ("image", summary("Progressing", observed=False), False),
    ("image", summary("Paused", image="x:1"), False),
    ("first_pause", summary("Progressing"), False),
    ("first_pause", summary("Paused"), True),
    ("first_pause", summary("Healthy", fully_promoted=True), True),
    ("healthy", summary("Paused"), False),
    ("healthy", summary("Healthy", fully_promoted=False), False),
    ("healthy", summary("Healthy", fully_promoted=True), True),
    ("none", summary("Degraded", image="y:1"), True),
])
def test_reached(target, s, want):
    assert rs.reached(s, target, "x:2") is want


def test_up_to_date_only_when_onboarded_unchanged_and_every_member_runs_the_image_fully_promoted():
    done = summary("Healthy", image="x:2", fully_promoted=True)
    assert rs.up_to_date(True, False, {"a": done, "b": done}, "x:2")
    assert not rs.up_to_date(False, False, {"a": done}, "x:2")        # the catalogue changed since onboarding
    assert not rs.up_to_date(True, True, {"a": done}, "x:2")          # the template would change
    assert not rs.up_to_date(True, False, {}, "x:2")                  # no member read
    assert not rs.up_to_date(True, False, {"a": done}, "x:3")         # another image
    for other in (summary("Paused", image="x:2"), summary("Healthy", image="x:2", fully_promoted=False),
                  summary("Healthy", image="x:2", observed=False, fully_promoted=True)):
        assert not rs.up_to_date(True, False, {"a": done, "b": other}, "x:2"), other
