"""An AWX workflow of awx/generate.yml, run node by node the way AWX runs it, against the local federation.

The lab's members in two waves (the first two, then the others; host vars of the AWX inventory, as
``multicluster_canary_wave``), the workflow generated for them, one backend app (two pauses: a short
strategy), in a namespace of its own:

- every node in order, each approval approved by running the next node: after each job the test reads
  every member (image, phase, step, the weights of its VirtualService) and checks that the next node
  got the artifacts (set_stats) of the earlier ones as extra vars, as AWX gives them;
- a second release whose first approval is denied: the failure path runs the abort template, and every
  member is back on its stable version (the first release's image), no traffic on the new one.
"""

import pytest

from tests.awx.conftest import ROOT, WorkflowJob, generate, load_workflows

pytestmark = pytest.mark.lab

APP = "ruoyi-gateway"
ROLLOUT = "rollouts.argoproj.io"
VS = "virtualservices.networking.istio.io"
# the catalogue's backend steps: setWeight 20, pause, setWeight 50, pause
PAUSES = [(1, 20), (3, 50)]  # (currentStepIndex, weight) at each pause
STEPS = 4


def AWX_HOSTVARS(lab):  # noqa: N802  pylint: disable=invalid-name
    """The AWX inventory's host vars: the first two members in wave 1, the others in wave 2."""
    return {m: {"multicluster_canary_wave": wave_of(lab, m)} for m in lab.members}


def wave_of(lab, member):
    return 1 if sorted(lab.members).index(member) < 2 else 2


def image_of(obj):
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


def weights(lab, member, ns):
    vs = lab.get(member, VS, APP, ns)
    primary = next(r for r in vs["spec"]["http"] if r.get("name") == "primary")
    return {d["destination"]["host"].split(".")[0]: d.get("weight") for d in primary["route"]}


def where(lab, member, ns):
    """What a user checks in a member: (image, phase, step, canary weight in its VirtualService)."""
    ro = lab.get(member, ROLLOUT, APP, ns)
    status = ro.get("status") or {}
    return image_of(ro), status.get("phase"), status.get("currentStepIndex"), weights(lab, member, ns)[APP + "-canary"]


def stable_image(lab, member, ns):
    ro = lab.get(member, ROLLOUT, APP, ns)
    rs = lab.get(member, "replicasets.apps", "{0}-{1}".format(APP, ro["status"]["stableRS"]), ns)
    return image_of(rs)


@pytest.fixture(scope="module")
def workflow(lab, tmp_path_factory):
    """The workflow of APP, generated from the lab inventory with the members in two waves."""
    base = tmp_path_factory.mktemp("wf-inventory")
    inventory = base / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    for name in ("hosts.yml", "group_vars/all.yml", "group_vars/members.yml"):
        (inventory / name).parent.mkdir(parents=True, exist_ok=True)
        (inventory / name).write_text((ROOT / "inventories" / "lab" / name).read_text())
    for member in lab.members:
        (inventory / "host_vars" / (member + ".yml")).write_text(
            "multicluster_canary_wave: {0}\n".format(wave_of(lab, member)))
    proc = generate(inventory, base / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return next(w for w in load_workflows(base / "out" / "workflows.yml") if w["extra_vars"]["app"] == APP)


def ok(job):
    assert job.status == "successful", job
    return job


@pytest.fixture(scope="module")
def images(awx, lab):
    """Onboard APP in the test's namespace (bootstrapping it) at the catalogue's image."""
    ok(awx.launch("onboard", app=APP))
    ro = lab.get(lab.karmada, ROLLOUT, APP, awx.namespace)
    old = image_of(ro)
    return old, old.rsplit(":", 1)[0] + ":wf-1", old.rsplit(":", 1)[0] + ":wf-2"


def expected(lab, member, node, old, new):
    """Where a member is after ``node`` of a successful run (the node names say the wave and the pause)."""
    parts = node.split("-")  # wave-W-canary | wave-W-pause-K-promote
    wave = int(parts[1])
    mine = wave_of(lab, member)
    done = ("image", "Healthy", STEPS, 0)
    if mine < wave:
        return (new,) + done[1:]
    if mine > wave:
        return (old,) + done[1:]
    if parts[2] == "canary":
        return new, "Paused", PAUSES[0][0], PAUSES[0][1]
    pause = int(parts[3])
    if pause < len(PAUSES):
        return new, "Paused", PAUSES[pause][0], PAUSES[pause][1]
    return (new,) + done[1:]


def test_workflow_runs_node_by_node_and_passes_the_release_on(awx, lab, workflow, images):
    old, new = images[:2]
    ns = awx.namespace
    run = WorkflowJob(awx, workflow, image=new)
    canary_artifacts = None
    while run.next:
        assert run.next != "abort", run.ran
        identifier, status, job = run.run_next(approve=True)
        assert status == "successful", job
        if job is None:
            continue  # an approval: nothing runs
        if identifier.endswith("canary"):
            wave = int(identifier.split("-")[1])
            assert job.extravars["wave"] == wave, job.extravars  # the node's extra_data, not an artifact
            canary_artifacts = job.artifacts
            assert job.artifacts["clusters"] == sorted(m for m in lab.members if wave_of(lab, m) == wave), job.artifacts
            assert job.artifacts["image"] == new and job.artifacts["previous_image"] == old, job.artifacts
            assert job.artifacts["release_wave"] == wave and job.artifacts["app"] == APP, job.artifacts
        else:
            # the promote node promotes the clusters the canary node passed on, nothing else
            assert job.extravars["clusters"] == canary_artifacts["clusters"], job.extravars
            assert job.extravars["image"] == new and job.extravars["full"] == "false", job.extravars
            if identifier == "wave-1-pause-1-promote":
                # AWX's relaunch of the node (a retry): decided at the first pause, it must not move the
                # members a pause further
                assert job.extravars["from_step"] == PAUSES[0][0], job.extravars
                before = dict((m, where(lab, m, ns)) for m in lab.members)
                retry = awx.run(awx.template("promote"), job.extravars)
                ok(retry)
                assert "changed=0" in retry.stdout and "past step" in retry.stdout, retry
                assert dict((m, where(lab, m, ns)) for m in lab.members) == before
        for member in lab.members:
            want = expected(lab, member, identifier, old, new)
            got = where(lab, member, ns)
            assert got == want, (identifier, member, got, want)
    order = [ran[0] for ran in run.ran]
    assert order == [n["identifier"] for n in workflow["simplified_workflow_nodes"] if n["identifier"] != "abort"]
    assert order[-1] == "wave-2-pause-2-promote"
    template = lab.get(lab.karmada, ROLLOUT, APP, ns)
    assert image_of(template) == new
    for member in lab.members:
        assert stable_image(lab, member, ns) == new, member


def test_a_denied_approval_aborts_and_leaves_every_member_on_stable(awx, lab, workflow, images):
    """The failure path: the abort template; every member serves its stable version (the first release's image)."""
    stable, newer = images[1:]
    ns = awx.namespace
    run = WorkflowJob(awx, workflow, image=newer)
    ok(run.run_next()[2])  # wave 1's canary
    started = run.ran[0][2].artifacts["clusters"]
    assert started == sorted(m for m in lab.members if wave_of(lab, m) == 1)
    for member in started:
        assert where(lab, member, ns)[:2] == (newer, "Paused"), member
    identifier, status = run.run_next(approve=False)[:2]
    assert (identifier, status) == ("wave-1-pause-1-approval", "failed")
    assert run.pending == ["abort"], run.pending
    identifier, status, job = run.run_next()
    assert (identifier, status) == ("abort", "successful"), job
    assert job.extravars["clusters"] == started and job.extravars["image"] == newer, job.extravars
    assert not run.pending
    assert job.artifacts["release_phase"] in ("Aborted", None), job.artifacts
    for member in lab.members:
        assert stable_image(lab, member, ns) == stable, member
        assert weights(lab, member, ns) == {APP + "-stable": 100, APP + "-canary": 0}, member
        ro = lab.get(member, ROLLOUT, APP, ns)
        if member in started:
            assert ro["status"].get("abort") is True, (member, ro["status"])
        else:  # wave 2 was held on the stable image all along, untouched
            assert image_of(ro) == stable and ro["status"]["phase"] == "Healthy", (member, ro["status"])
