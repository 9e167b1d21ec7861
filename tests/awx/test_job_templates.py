"""Every job template of awx/job_templates.yml, run the way AWX runs it, against the local federation.

One flow in a namespace of its own (``t-awx-*``): bootstrap, onboard, release with a blank image,
canary, promote, status, abort, rollback; each optional survey question is also answered with ""
and null (what AWX sends for a blank answer). After each stage the test reads the members with
kubectl, as a user would. Bad answers must fail the job naming the survey variable, before the
Rollout template in Karmada changes.
"""

import pytest
import yaml

from tests.awx.conftest import ROOT, load_job_templates

pytestmark = pytest.mark.lab

APP = "ruoyi-vue"
# OLD: the catalogue's image (what onboard creates and a blank image means); NEW: another tag of it
OLD = yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text())[
    "multicluster_canary_apps"][APP]["image"]
NEW = OLD.rsplit(":", 1)[0] + ":awx-canary"
ROLLOUT = "rollouts.argoproj.io"
VS = "virtualservices.networking.istio.io"
FIRST_PAUSE = 2  # setCanaryScale, setHeaderRoute, pause (the catalogue's ruoyi-vue steps)
BLANKS = ["", None]  # what AWX sends for an optional question left blank


def image_of(obj):
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


def ok(job):
    assert job.status == "successful", job
    return job


def failed_naming(job, field, text):
    assert job.status == "failed", job
    assert "{0}: ".format(field) in job.stdout and text in job.stdout, job
    return job


def members_rollouts(lab, ns):
    return {m: lab.get(m, ROLLOUT, APP, ns) for m in lab.members}


def template_version(lab, ns):
    ro = lab.get(lab.karmada, ROLLOUT, APP, ns)
    return ro["metadata"]["resourceVersion"], image_of(ro)


def primary_weights(lab, member, ns):
    vs = lab.get(member, VS, APP, ns)
    primary = next(r for r in vs["spec"]["http"] if r.get("name") == "primary")
    return [(d["destination"]["host"], d.get("weight")) for d in primary["route"]]


# --- the surveys themselves -------------------------------------------------------------------

def test_every_template_runs_a_playbook_of_the_project():
    for t in load_job_templates():
        assert (ROOT / t["playbook"]).is_file(), t["name"]


def test_app_choices_are_the_catalogue():
    """The survey's app choices are the lab catalogue's apps (awx/generate.yml writes them from the inventory)."""
    catalogue = yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text())
    apps = sorted(catalogue["multicluster_canary_apps"])
    for t in load_job_templates():
        for q in (t.get("survey_spec") or {}).get("spec", []):
            if q["variable"] == "app":
                extra = ["all"] if t["playbook"] == "playbooks/onboard.yml" else []
                assert sorted(q["choices"]) == sorted(apps + extra), t["name"]
                # no default but onboard's `all`: a release names its app
                assert q.get("default") == ("all" if extra else None), t["name"]


def test_optional_questions_allow_a_blank_answer():
    for t in load_job_templates():
        for q in (t.get("survey_spec") or {}).get("spec", []):
            if not q.get("required"):
                assert q["type"] != "text" or q.get("min", 0) == 0, (t["name"], q["variable"])


# --- the flow, in template order ----------------------------------------------------------------

def test_bootstrap(awx, lab):
    ok(awx.launch("bootstrap"))
    ns = awx.namespace
    lab.wait_for(lambda: all(lab.get(m, "namespace", ns) for m in lab.members), what="namespace in every member")
    for m in lab.members:
        assert lab.get(m, "namespace", ns)["metadata"]["labels"].get("istio-injection") == "enabled", m
    assert lab.get(lab.karmada, "resourceinterpretercustomizations.config.karmada.io",
                   "multicluster-canary-rollout"), "no Rollout interpreter customization"


def test_bootstrap_with_a_kubeconfig_credential(awx, lab):
    """The other AWX pattern: a custom credential type injecting K8S_AUTH_KUBECONFIG and K8S_AUTH_CONTEXT."""
    with open(lab.kubeconfig, encoding="utf-8") as f:
        ok(awx.launch("bootstrap", credential=("kubeconfig", (f.read(), lab.karmada))))


def test_the_lab_has_a_bearer_token_credential(awx):
    """The flow above ran with AWX's built-in bearer token credential (the lab's least-privilege ServiceAccount)."""
    assert awx.credential[0] == "bearer", "no .lab/kubeconfig-automation: the flow ran with the kubeconfig credential"


def test_onboard(awx, lab):
    ok(awx.launch("onboard", app=APP))
    ns = awx.namespace
    for m, ro in members_rollouts(lab, ns).items():
        assert ro, "no Rollout {0} in {1}".format(APP, m)
        assert image_of(ro) == OLD, m
        assert ro["spec"]["replicas"] == 1, (m, ro["spec"]["replicas"])
        assert lab.get(m, VS, APP, ns), m


@pytest.mark.parametrize("blank", BLANKS, ids=["empty", "null"])
def test_release_without_image_keeps_the_catalogue_image(awx, lab, blank):
    """Image left blank: the catalogue's image, already there, so nothing changes (and no error)."""
    ns = awx.namespace
    before = template_version(lab, ns)
    ok(awx.launch("release", app=APP, image=blank, auto_promote="false"))
    assert template_version(lab, ns)[1] == OLD
    assert before[1] == OLD
    for m, ro in members_rollouts(lab, ns).items():
        assert image_of(ro) == OLD and ro["status"]["phase"] == "Healthy", (m, ro["status"])


@pytest.mark.parametrize("answers,field,text", [
    ({"app": "ruoyi-nope", "_check_choices": False}, "app", "App 'ruoyi-nope' is not in the catalogue"),
    ({"app": APP, "image": "ruoyi/ruoyi-vue 1.1.0"}, "image", "is not an image reference"),
    ({"app": APP, "image": NEW, "wave": 0}, "wave", "is not a wave number"),
], ids=["app", "image", "wave"])
def test_canary_refuses_a_bad_answer_before_writing(awx, lab, answers, field, text):
    ns = awx.namespace
    before = template_version(lab, ns)
    failed_naming(awx.launch("canary", **answers), field, text)
    assert template_version(lab, ns) == before


@pytest.mark.parametrize("blank", BLANKS, ids=["empty", "null"])
def test_canary(awx, lab, blank):
    """The new image to the first pause; the second run (same image) finds it there and changes nothing."""
    ns = awx.namespace
    ok(awx.launch("canary", app=APP, image=NEW, wave=blank))
    template = lab.get(lab.karmada, ROLLOUT, APP, ns)
    assert image_of(template) == NEW
    assert template["metadata"]["annotations"]["multicluster.canary/previous-image"] == OLD
    for m, ro in members_rollouts(lab, ns).items():
        assert image_of(ro) == NEW, m
        status = ro["status"]
        assert status["phase"] == "Paused" and status["currentStepIndex"] == FIRST_PAUSE, (m, status)
        assert primary_weights(lab, m, ns) == [(APP + "-stable", 100), (APP + "-canary", 0)], m


def test_promote_refuses_an_unknown_cluster(awx, lab):
    ns = awx.namespace
    before = {m: ro["status"]["currentStepIndex"] for m, ro in members_rollouts(lab, ns).items()}
    failed_naming(awx.launch("promote", app=APP, clusters="k8s-master-nowhere"), "clusters", "k8s-master-nowhere")
    assert {m: ro["status"]["currentStepIndex"] for m, ro in members_rollouts(lab, ns).items()} == before


@pytest.mark.parametrize("blank,step,weight", [("", 5, 20), (None, 7, 50)], ids=["empty", "null"])
def test_promote(awx, lab, blank, step, weight):
    """Each run moves every member (clusters left blank: all of them) to the next pause."""
    ns = awx.namespace
    ok(awx.launch("promote", app=APP, full="false", clusters=blank))
    for m, ro in members_rollouts(lab, ns).items():
        status = ro["status"]
        assert status["phase"] == "Paused" and status["currentStepIndex"] == step, (m, status)
        assert primary_weights(lab, m, ns) == [(APP + "-stable", 100 - weight), (APP + "-canary", weight)], m


def test_status(awx, lab):
    job = ok(awx.launch("status", app=APP))
    for m in lab.members:
        assert m in job.stdout, job


def test_rollback_refuses_the_image_being_released(awx, lab):
    """Rolling "back" to the canary's own image would promote it fully everywhere: refused, nothing changes."""
    ns = awx.namespace
    before = {m: (ro["status"]["currentStepIndex"], ro["status"].get("abort")) for m, ro in members_rollouts(lab, ns).items()}
    template = template_version(lab, ns)
    failed_naming(awx.launch("rollback", app=APP, image=NEW), "image", "is the image being released")
    assert {m: (ro["status"]["currentStepIndex"], ro["status"].get("abort"))
            for m, ro in members_rollouts(lab, ns).items()} == before
    assert template_version(lab, ns) == template


def test_abort(awx, lab):
    ok(awx.launch("abort", app=APP))
    ns = awx.namespace
    for m, ro in members_rollouts(lab, ns).items():
        assert ro["status"].get("abort") is True, (m, ro["status"])
        assert primary_weights(lab, m, ns) == [(APP + "-stable", 100), (APP + "-canary", 0)], m


@pytest.mark.parametrize("blank", BLANKS, ids=["empty", "null"])
def test_rollback(awx, lab, blank):
    """Image left blank: the image recorded before the canary; every member runs it as stable again."""
    ns = awx.namespace
    ok(awx.launch("rollback", app=APP, image=blank))
    assert image_of(lab.get(lab.karmada, ROLLOUT, APP, ns)) == OLD

    def healthy_on_old():
        rollouts = members_rollouts(lab, ns)
        return all(image_of(ro) == OLD and ro["status"].get("phase") == "Healthy" for ro in rollouts.values()) \
            and rollouts

    rollouts = lab.wait_for(healthy_on_old, timeout=120, what="every member Healthy on " + OLD)
    for m, ro in rollouts.items():
        assert ro["status"]["stableRS"] == ro["status"]["currentPodHash"], (m, ro["status"])


def test_every_template_was_launched(awx):
    assert set(awx.launched) == set(t["name"] for t in load_job_templates()), sorted(awx.launched)
