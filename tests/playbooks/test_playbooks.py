"""The release playbooks against the local federation, as a user runs them.

``release.yml -e auto_promote=false`` brings ruoyi-vue to its first pause in a
namespace of its own (so the test never collides with ``make demo``); the test
then checks in each member what a user would check with kubectl, promotes to the
end with ``promote.yml``, and checks that the new image is stable everywhere.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
APP = "ruoyi-vue"
OLD = "ruoyi/ruoyi-vue:1.0.0"
NEW = "ruoyi/ruoyi-vue:1.1.0"
ROLLOUT = "rollouts.argoproj.io"
VS = "virtualservices.networking.istio.io"
GATEWAY = "gateways.networking.istio.io"
FIRST_PAUSE = 2  # setCanaryScale, setHeaderRoute, pause: {} (the catalogue's ruoyi-vue steps)


def playbook(name, inventory=None, **extra_vars):
    """ansible-playbook -i inventories/lab playbooks/NAME with the venv's binary; returns the finished process."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        [str(ROOT / "build" / "collections"), sysconfig.get_paths()["purelib"]])
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
           "-i", str(inventory or ROOT / "inventories" / "lab"), str(ROOT / "playbooks" / name),
           "-e", json.dumps(extra_vars)]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=900, check=False)
    proc.elapsed = time.monotonic() - started
    return proc


def ok(proc):
    assert proc.returncode == 0, "rc={0}\n{1}\n{2}".format(proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:])
    return proc


def failed(proc):
    assert proc.returncode != 0, "expected a failure:\n" + proc.stdout[-4000:]
    return proc


def changed(proc):
    """The changed count of the PLAY RECAP (summed over its hosts)."""
    counts = re.findall(r"\bchanged=(\d+)", proc.stdout.split("PLAY RECAP")[-1])
    assert counts, proc.stdout[-3000:]
    return sum(int(c) for c in counts)


def ran(proc, task):
    """Whether a task whose name ends with ``task`` ran for a host (its block says ok or changed, not skipping)."""
    blocks = re.findall(r"TASK \[[^\]]*{0}\][^\n]*\n(.*?)(?=\nTASK \[|\nPLAY RECAP)".format(re.escape(task)),
                        proc.stdout, re.S)
    assert blocks, "no task {0!r} in the output:\n{1}".format(task, proc.stdout[-3000:])
    return any(re.search(r"^(ok|changed): ", b, re.M) for b in blocks)


def where(lab, app, ns):
    """What a user would compare after a repeat: each member's Rollout image, phase, step, generation."""
    found = {}
    for member in lab.members:
        ro = lab.get(member, ROLLOUT, app, ns) or {}
        st = ro.get("status") or {}
        found[member] = (image_of(ro) if ro else None, st.get("phase"), st.get("currentStepIndex"),
                         ro.get("metadata", {}).get("generation"), bool(st.get("abort")))
    return found


@pytest.fixture
def release_namespace(lab):
    """A namespace name of the test's own; the playbooks create it (bootstrap), the test deletes it."""
    name = "t-pb-" + uuid.uuid4().hex[:6]
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def image_of(obj):
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


def routes(vs):
    return dict((r.get("name"), r) for r in vs["spec"].get("http", []))


def test_unknown_app_is_named(lab):
    proc = playbook("release.yml", app="ruoyi-nope")
    assert proc.returncode != 0
    assert "App 'ruoyi-nope' is not in the catalogue" in proc.stdout, proc.stdout[-3000:]
    assert "ruoyi-vue" in proc.stdout


def test_release_to_first_pause_then_promote_to_the_end(lab, release_namespace):
    ns = release_namespace
    first = ok(playbook("release.yml", app=APP, image=NEW, auto_promote=False, multicluster_canary_namespace=ns,
                        onboard_images={APP: OLD}))
    assert "paused for a human at the first pause" in first.stdout
    # said before anything was written, then done: created at OLD, released NEW
    assert "not onboarded yet: onboarding creates it, then {0} is released".format(NEW) in first.stdout
    assert "{0} -> {1}".format(OLD, NEW) in first.stdout

    template = lab.get(lab.karmada, ROLLOUT, APP, ns)
    assert image_of(template) == NEW
    assert template["metadata"]["annotations"]["multicluster.canary/previous-image"] == OLD

    for member in lab.members:
        ro = lab.get(member, ROLLOUT, APP, ns)
        # weights 1:1:1:1 of 4 replicas (needs the Rollout interpreter customization)
        assert ro["spec"]["replicas"] == 1, (member, ro["spec"]["replicas"])
        assert image_of(ro) == NEW, member
        status = ro["status"]
        assert status["phase"] == "Paused" and status["currentStepIndex"] == FIRST_PAUSE, (member, status)
        assert status["stableRS"] != status["currentPodHash"], member

        vs = lab.get(member, VS, APP, ns)
        assert vs, "no VirtualService {0} in {1}".format(APP, member)
        assert vs["spec"]["gateways"] == [APP + "-gateway"]
        by_name = routes(vs)
        # Argo Rollouts' header route (setHeaderRoute), kept in the member by the retention customization
        header = by_name.get("canary-header")
        assert header, (member, list(by_name))
        assert header["match"][0]["headers"]["X-canary"] == {"exact": "test-user"}, header
        assert [d["destination"]["host"] for d in header["route"]] == [APP + "-canary"], header
        primary = by_name["primary"]
        assert [(d["destination"]["host"], d["weight"]) for d in primary["route"]] == \
            [(APP + "-stable", 100), (APP + "-canary", 0)], primary

        gw = lab.get(member, GATEWAY, APP + "-gateway", ns)
        assert gw["spec"]["servers"][0]["tls"]["credentialName"] == "ruoyi-vue-tls"
        assert lab.get(member, "secret", "ruoyi-vue-tls", "istio-system"), member
        assert lab.get(member, "namespace", ns)["metadata"]["labels"].get("istio-injection") == "enabled"

    check_status_reads_live_routes(lab, ns)

    promotions = []
    for _attempt in range(6):
        proc = ok(playbook("promote.yml", app=APP, multicluster_canary_namespace=ns))
        promotions.append(round(proc.elapsed, 1))
        if all(((lab.get(m, ROLLOUT, APP, ns) or {}).get("status") or {}).get("phase") == "Healthy" for m in lab.members):
            break
        # at every pause of the canary the testers keep their header route (the catalogue scales the
        # canary with the weight only once the weight is above 0), as each member's status line says
        status = ok(playbook("status.yml", app=APP, multicluster_canary_namespace=ns))
        for member in lab.members:
            assert "canary-header" in routes(lab.get(member, VS, APP, ns)), (member, promotions)
            line = route_line(status, member)
            assert "X-canary: test-user -> canary 100%; header route canary-header present" in line, (member, line)
    assert len(promotions) == 4, promotions  # pauses at steps 2, 5, 7 and 9, then the end

    for member in lab.members:
        ro = lab.get(member, ROLLOUT, APP, ns)
        status = ro["status"]
        assert image_of(ro) == NEW and ro["spec"]["replicas"] == 1, member
        assert status["phase"] == "Healthy" and status["stableRS"] == status["currentPodHash"], (member, status)
        vs = lab.get(member, VS, APP, ns)
        by_name = routes(vs)
        assert "canary-header" not in by_name, (member, list(by_name))
        assert [d["weight"] for d in by_name["primary"]["route"]] == [100, 0], by_name["primary"]

    status = ok(playbook("status.yml", app=APP, multicluster_canary_namespace=ns))
    for member in lab.members:
        assert member in status.stdout
    assert "aligned" in status.stdout or "Healthy" in status.stdout

    # Safe to repeat: promote after the end, and the same release again (the catalogue's image
    # is NEW), change nothing and leave every member where it was.
    settled = where(lab, APP, ns)
    assert changed(ok(playbook("promote.yml", app=APP, multicluster_canary_namespace=ns))) == 0
    again = ok(playbook("release.yml", app=APP, multicluster_canary_namespace=ns))
    assert "already on {0}: nothing to release".format(NEW) in again.stdout, again.stdout[-3000:]
    assert changed(again) == 0, again.stdout[-6000:]
    assert where(lab, APP, ns) == settled
    # ... and, done already and onboarded as the catalogue says, it only reads the members, once: no onboarding,
    # and the status shows what the plan read, each member's route as its VirtualService holds it.
    assert "Show every member as the plan has just read it" in again.stdout, again.stdout[-6000:]
    assert "Write the Services" not in again.stdout, again.stdout[-6000:]
    assert not ran(again, "Read the app's Rollout and its routes in every member"), again.stdout[-6000:]
    for member in lab.members:
        line = route_line(again, member)
        assert line == route_line(status, member), (member, line)  # as status.yml read it, after the last promotion
        assert "stable 100% / canary 0%; X-canary: test-user -> stable 100%" in line, (member, line)

    # A change to what onboarding writes, the image the same (here the Gateway's selector, which nothing in
    # the Rollout says): the release onboards again and the change lands in every member; the next run is
    # done already again, with the change kept.
    selector = {"istio": "ingressgateway", "mcc-test": "selector"}
    moved = ok(playbook("release.yml", app=APP, multicluster_canary_namespace=ns,
                        app_onboard_gateway_selector=selector))
    assert "Write the Services" in moved.stdout and changed(moved) > 0, moved.stdout[-6000:]
    for member in lab.members:
        assert lab.get(member, GATEWAY, APP + "-gateway", ns)["spec"]["selector"] == selector, member
    kept = ok(playbook("release.yml", app=APP, multicluster_canary_namespace=ns,
                       app_onboard_gateway_selector=selector))
    assert changed(kept) == 0 and "Write the Services" not in kept.stdout, kept.stdout[-6000:]
    assert where(lab, APP, ns) == settled

    # The members reached with their own kubeconfig contexts report the same.
    by_context = ok(playbook("status.yml", app=APP, multicluster_canary_namespace=ns,
                             multicluster_canary_member_access="kubeconfig",
                             multicluster_canary_member_kubeconfig=lab.kubeconfig))
    for member in lab.members:
        assert re.search(r"{0}\s+Healthy\s".format(member), by_context.stdout), by_context.stdout[-3000:]


def route_line(proc, member):
    found = re.search(r'"route {0}: ([^"]*)"'.format(re.escape(member)), proc.stdout)
    assert found, proc.stdout[-4000:]
    return found.group(1)


def check_status_reads_live_routes(lab, ns):
    """status.yml shows what each member's VirtualService says, not what the step implies.

    At the first pause every member has Argo's header route and 100/0. Then, in one member, with its Argo
    Rollouts controller stopped (so nothing puts it back), the VirtualService is edited by hand to 70/30
    without the header route: that member's line must say so, the others' must not change.
    """
    at_pause = ("VirtualService {0}: stable 100% / canary 0%; X-canary: test-user -> canary 100%; "
                "header route canary-header present").format(APP)
    status = ok(playbook("status.yml", app=APP, multicluster_canary_namespace=ns))
    for member in lab.members:
        assert route_line(status, member) == at_pause, member

    edited = lab.members[0]
    lab_cli = [sys.executable, "-m", "tools.lab"]
    component = "{0}/rollouts-controller".format(edited)
    http = lab.get(edited, VS, APP, ns)["spec"]["http"]
    by_hand = [dict(r) for r in http if r.get("name") != "canary-header"]
    for r in by_hand:
        if r.get("name") == "primary":
            r["route"] = [dict(d, weight=w) for d, w in zip(r["route"], (70, 30))]
    subprocess.run(lab_cli + ["stop", component], cwd=str(ROOT), check=True, capture_output=True, timeout=120)
    try:
        lab.kubectl("-n", ns, "patch", VS, APP, "--type=merge", "-p", json.dumps({"spec": {"http": by_hand}}),
                    context=edited)
        status = ok(playbook("status.yml", app=APP, multicluster_canary_namespace=ns))
        assert route_line(status, edited) == (
            "VirtualService {0}: stable 70% / canary 30%; X-canary: test-user -> stable 70% / canary 30%; "
            "header route canary-header absent").format(APP), status.stdout[-4000:]
        for member in lab.members[1:]:
            assert route_line(status, member) == at_pause, member
    finally:
        # put back what Argo had written, then let the controller run again
        lab.kubectl("-n", ns, "patch", VS, APP, "--type=merge", "-p", json.dumps({"spec": {"http": http}}),
                    context=edited)
        subprocess.run(lab_cli + ["start", component], cwd=str(ROOT), check=True, capture_output=True, timeout=300)


def member_context_inventory(lab, tmp_path):
    """The lab inventory with members reached through kubeconfig contexts of their own: a kubeconfig whose
    member contexts are renamed (ctx-NAME), and each member's host vars naming its context."""
    with open(lab.kubeconfig) as f:
        config = yaml.safe_load(f)
    for context in config["contexts"]:
        if context["name"] in lab.members:
            context["name"] = "ctx-" + context["name"]
    kubeconfig = tmp_path / "members-kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    kubeconfig.chmod(0o600)
    inventory = tmp_path / "inventory-member-contexts"
    shutil.copytree(ROOT / "inventories" / "lab", inventory)
    group_vars = (ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text().replace(
        "{{ inventory_dir }}/../../.lab", str(ROOT / ".lab")).replace(
        "multicluster_canary_member_access: karmada_proxy",
        "multicluster_canary_member_access: kubeconfig\nmulticluster_canary_member_kubeconfig: " + str(kubeconfig))
    assert "multicluster_canary_member_access: kubeconfig" in group_vars
    (inventory / "group_vars" / "all.yml").write_text(group_vars)
    for member in lab.members:
        (inventory / "host_vars" / (member + ".yml")).write_text(
            "multicluster_canary_member_context: ctx-{0}\n".format(member))
    return inventory


def test_backend_lane_then_rollback(lab, release_namespace, tmp_path):
    """A backend's canary takes lane traffic (header or canary caller) and 20% of the rest; rollback undoes it."""
    ns, app = release_namespace, "ruoyi-system"
    old, new = "ruoyi/ruoyi-system:1.0.0", "ruoyi/ruoyi-system:1.1.0"
    ok(playbook("release.yml", app=app, image=new, auto_promote=False, multicluster_canary_namespace=ns,
                onboard_images={app: old}))

    for member in lab.members:
        ro = lab.get(member, ROLLOUT, app, ns)
        assert ro["spec"]["replicas"] == 1 and image_of(ro) == new, member
        assert ro["status"]["phase"] == "Paused" and ro["status"]["currentStepIndex"] == 1, (member, ro["status"])
        vs = lab.get(member, VS, app, ns)
        assert vs["spec"]["gateways"] == ["mesh"] and vs["spec"]["hosts"] == [app], vs["spec"]
        by_name = routes(vs)
        lane = by_name["canary-lane"]
        assert {"headers": {"X-canary": {"exact": "test-user"}}} in lane["match"], lane
        assert {"sourceLabels": {"lane": "canary"}} in lane["match"], lane
        assert [d["destination"]["host"] for d in lane["route"]] == [app + "-canary"], lane
        assert [(d["destination"]["host"], d["weight"]) for d in by_name["primary"]["route"]] == \
            [(app + "-stable", 80), (app + "-canary", 20)], by_name["primary"]
        # the canary pods carry the lane label that the callers' VirtualServices match
        pods = json.loads(lab.kubectl("get", "pods", "-n", ns, "-l", "lane=canary,app=" + app, "-o", "json",
                                      context=member))["items"]
        assert pods, "no canary pod labelled lane=canary in " + member

    # the status table says the same, read from each member's VirtualService
    status = ok(playbook("status.yml", app=app, multicluster_canary_namespace=ns))
    for member in lab.members:
        assert route_line(status, member) == (
            "VirtualService {0}: stable 80% / canary 20%; X-canary: test-user -> canary 100%; "
            "callers lane=canary -> canary 100%").format(app), member

    # abort twice: the second changes nothing. The first reaches each member through its own kubeconfig
    # context, named in the member's host vars (member_access: kubeconfig), as a user without the
    # Karmada cluster proxy runs it.
    ok(playbook("abort.yml", inventory=member_context_inventory(lab, tmp_path), app=app,
                multicluster_canary_namespace=ns))
    aborted = where(lab, app, ns)
    assert all(state[4] and state[0] == new for state in aborted.values()), aborted
    assert changed(ok(playbook("abort.yml", app=app, multicluster_canary_namespace=ns))) == 0
    assert where(lab, app, ns) == aborted

    ok(playbook("rollback.yml", app=app, multicluster_canary_namespace=ns))
    assert image_of(lab.get(lab.karmada, ROLLOUT, app, ns)) == old
    for member in lab.members:
        ro = lab.get(member, ROLLOUT, app, ns)
        assert image_of(ro) == old, member
        assert ro["status"]["phase"] == "Healthy" and ro["status"]["stableRS"] == ro["status"]["currentPodHash"], \
            (member, ro["status"])
        primary = routes(lab.get(member, VS, app, ns))["primary"]
        assert [d["weight"] for d in primary["route"]] == [100, 0], primary

    # rollback twice (an AWX retry): the bad image never returns, nothing changes
    settled = where(lab, app, ns)
    second = ok(playbook("rollback.yml", app=app, multicluster_canary_namespace=ns))
    assert changed(second) == 0, second.stdout[-6000:]
    assert "nothing to roll back" in second.stdout
    assert where(lab, app, ns) == settled
    assert image_of(lab.get(lab.karmada, ROLLOUT, app, ns)) == old


def test_onboard_during_a_wave_keeps_the_hold(lab, release_namespace, tmp_path):
    """Waves from the inventory: wave 1 released, wave 2 held; onboarding again keeps the hold; release.yml
    then finishes the release wave by wave, and a second run changes nothing."""
    ns, app = release_namespace, "ruoyi-auth"
    old, new = "ruoyi/ruoyi-auth:1.0.0", "ruoyi/ruoyi-auth:1.1.0"
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "lab", inventory)
    (inventory / "group_vars" / "all.yml").write_text(
        (ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text().replace(
            "{{ inventory_dir }}/../../.lab", str(ROOT / ".lab")))
    first, later = lab.members[:2], lab.members[2:]
    for member in later:
        (inventory / "host_vars" / (member + ".yml")).write_text("multicluster_canary_wave: 2\n")

    ok(playbook("onboard.yml", inventory=inventory, app=app, multicluster_canary_namespace=ns,
                onboard_images={app: old}))
    ok(playbook("canary.yml", inventory=inventory, app=app, image=new, wave=1, multicluster_canary_namespace=ns))
    during = where(lab, app, ns)
    assert all(during[m][0] == new and during[m][1] == "Paused" for m in first), during
    assert all(during[m][0] == old and during[m][1] == "Healthy" for m in later), during

    again = ok(playbook("onboard.yml", inventory=inventory, app=app, multicluster_canary_namespace=ns))
    assert changed(again) == 0, again.stdout[-6000:]
    assert where(lab, app, ns) == during

    # release.yml finishes the release wave by wave: wave 1 promoted to the end, then wave 2's canary
    # (its hold lifted) promoted to the end; a second run finds no wave to release and changes nothing.
    done = ok(playbook("release.yml", inventory=inventory, app=app, image=new, multicluster_canary_namespace=ns))
    after = where(lab, app, ns)
    assert all(after[m][0] == new and after[m][1] == "Healthy" for m in lab.members), after
    out = done.stdout
    assert out.index("Start the canary, wave 1") < out.index("Promote pause by pause, wave 1") \
        < out.index("Start the canary, wave 2") < out.index("Promote pause by pause, wave 2"), out[-6000:]
    rerun = ok(playbook("release.yml", inventory=inventory, app=app, image=new, multicluster_canary_namespace=ns))
    assert changed(rerun) == 0, rerun.stdout[-6000:]
    assert "Start the canary, wave" not in rerun.stdout
    assert where(lab, app, ns) == after
