"""Onboarding a fifth cluster from the inventory and offboarding it again, as a user does (issue 9).

The standard lab has four joined members. The module's fixture starts a fifth one that Karmada does
not know (``python -m tools.lab --members 5 --join 4 up``: its own API server, controllers, KWOK and
Argo Rollouts, a context in ``.lab/kubeconfig``), and shrinks the lab back to four at the end, so the
other suites see the lab they expect.

The inventory is the lab's with the fifth member added under ``members`` (its host vars give its
Cluster labels) and a catalogue of two apps: ``ruoyi-vue`` (frontend, TLS secret, one replica per
weight) and ``ruoyi-system`` (backend, a fixed 7 replicas, so that offboarding has replicas to move).
The playbooks run as the lab's automation identity; only the join uses the member's own admin context.

- ``onboard.yml`` joins, checks and bootstraps the fifth member and places both apps on it: Karmada
  has it Ready with its labels, it runs its share of each app's replicas and holds the TLS secret;
  a second run changes nothing.
- the ``multicluster.canary.karmada`` inventory plugin lists the five members with their label groups,
  and ``status.yml`` runs with it as the only inventory;
- ``offboard.yml`` moves its replicas to the others while a watch on every member's Rollouts records the
  ready replicas: at no moment fewer than the app should have; then the cluster is unjoined and Karmada
  removed everything it had placed there; a second run changes nothing;
- the ``karmada_cluster`` module on its own: check mode writes nothing, bad input fails naming the field
  before any write, a join matches ``karmadactl join``'s objects, a lost Secret comes back on a re-run
  without its token ever in the output, and unjoining twice changes nothing the second time.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid

import pytest
import yaml

from tests.playbooks.test_playbooks import ROOT, changed, ok, playbook

pytestmark = pytest.mark.lab

ROLLOUT = "rollouts.argoproj.io"
APPS = ("ruoyi-vue", "ruoyi-system")
FIXED = 7  # ruoyi-system's replicas in this test's catalogue
LABELS = {"wave": "1", "region": "test"}


def lab_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "tools.lab", *args], capture_output=True, text=True,
                          cwd=str(ROOT), timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def cluster_names(lab):
    return sorted(c["metadata"]["name"] for c in json.loads(lab.kubectl("get", "clusters", "-o", "json"))["items"])


@pytest.fixture(scope="module")
def fifth(lab):
    """The name of a fifth member, running and unjoined; the lab is four members again afterwards."""
    assert len(lab.members) == 4, lab.members
    lab_cli("--members", "5", "--join", "4", "up")
    info = json.loads((ROOT / ".lab" / "lab.json").read_text())
    assert info["members"] == lab.members and len(info["unjoined"]) == 1, info
    name = info["unjoined"][0]
    assert name not in cluster_names(lab)
    yield name
    try:
        if name in cluster_names(lab):  # a test failed before offboarding: unjoin with the lab's admin
            lab.kubectl("delete", "cluster", name, "--timeout=180s", check=False)
            lab.kubectl("-n", "karmada-cluster", "delete", "secret", name, name + "-impersonator",
                        "--ignore-not-found", check=False)
    finally:
        lab_cli("--members", "4", "--join", "4", "up")


@pytest.fixture(scope="module")
def inventory(lab, fifth, tmp_path_factory):
    """The lab inventory with the fifth member and a two-app catalogue."""
    inv = tmp_path_factory.mktemp("join") / "inventory"
    shutil.copytree(ROOT / "inventories" / "lab", inv)
    lab_dir = str(ROOT / ".lab")
    for name in ("all.yml", "members.yml"):
        path = inv / "group_vars" / name
        path.write_text(path.read_text().replace("{{ inventory_dir }}/../../.lab", lab_dir))
    all_vars = yaml.safe_load((inv / "group_vars" / "all.yml").read_text())
    apps = dict((a, all_vars["multicluster_canary_apps"][a]) for a in APPS)
    apps["ruoyi-system"] = dict(apps["ruoyi-system"], replicas=FIXED)
    apps["ruoyi-system"].pop("replicas_per_weight", None)
    all_vars["multicluster_canary_apps"] = apps
    (inv / "group_vars" / "all.yml").write_text(yaml.safe_dump(all_vars, sort_keys=False))
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())
    hosts["all"]["children"]["members"]["hosts"][fifth] = None
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    (inv / "host_vars" / (fifth + ".yml")).write_text(yaml.safe_dump({"multicluster_canary_cluster_labels": LABELS}))
    return inv


@pytest.fixture(scope="module")
def namespace(lab):
    name = "t-join-" + uuid.uuid4().hex[:6]
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


class ReadyWatch(object):
    """Every change of every member's Rollouts in a namespace, from one watch per member (no polling).

    Each member is listed once, then watched from that list's resourceVersion, each watch going on from
    the last version seen; only after an error (410 Gone, a reset) is it listed again, and an app
    missing from that list counts as deleted. So every state the members went through is seen.
    """

    def __init__(self, lab, members, namespace):
        import kubernetes  # the venv's client, as the collection's

        self.kubernetes = kubernetes
        self.lab, self.members, self.namespace = lab, members, namespace
        self.events = []  # (time, member, app, ready)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.listed = set()
        self.started = None  # when every member had been listed
        self.threads = [threading.Thread(target=self.watch, args=(m,), daemon=True) for m in members]

    def watch(self, member):
        k = self.kubernetes
        api = k.client.CustomObjectsApi(k.config.new_client_from_config(self.lab.kubeconfig, context=member))
        known = set()
        while not self.stop.is_set():
            try:
                listed = api.list_namespaced_custom_object("argoproj.io", "v1alpha1", self.namespace, "rollouts")
                with self.lock:
                    names = set()
                    for item in listed["items"]:
                        names.add(item["metadata"]["name"])
                        self.record(member, item, "ADDED")
                    for gone in known - names:
                        self.record(member, {"metadata": {"name": gone}}, "DELETED")
                    known = names
                    self.listed.add(member)
                version = listed["metadata"]["resourceVersion"]
                while not self.stop.is_set():
                    w = k.watch.Watch()
                    for event in w.stream(api.list_namespaced_custom_object, "argoproj.io", "v1alpha1",
                                          self.namespace, "rollouts", resource_version=version, timeout_seconds=15):
                        with self.lock:
                            self.record(member, event["object"], event["type"])
                            if event["type"] == "DELETED":
                                known.discard(event["object"]["metadata"]["name"])
                            else:
                                known.add(event["object"]["metadata"]["name"])
                        if self.stop.is_set():
                            return
                    version = w.resource_version or version
            except Exception:  # pylint: disable=broad-exception-caught  # 410 Gone or a reset: list again
                time.sleep(0.2)

    def record(self, member, obj, kind):
        app = obj["metadata"]["name"]
        ready = 0 if kind == "DELETED" else int((obj.get("status") or {}).get("readyReplicas") or 0)
        self.events.append((time.time(), member, app, ready))

    def __enter__(self):
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(self.listed) < len(self.members):
            assert time.monotonic() < deadline, "the Rollout watches did not start: {0}".format(self.listed)
            time.sleep(0.1)
        self.started = time.time()
        return self

    def __exit__(self, *exc):
        self.stop.set()

    def lowest(self, app):
        """The fewest ready replicas of the app in all members together, from when all were listed on."""
        state, low = {}, None
        with self.lock:
            events = sorted(e for e in self.events if e[2] == app)
        for when, member, _app, ready in events:
            state[member] = ready
            if when >= self.started:
                total = sum(state.values())
                low = total if low is None else min(low, total)
        return low if low is not None else sum(state.values())


def gone_or_going(obj):
    """An object that is there and not being deleted."""
    return bool(obj) and not obj["metadata"].get("deletionTimestamp")


def member_rbac():
    """The collection's member RBAC, as the cluster_join role hands it to the module."""
    docs = []
    for name in ("member-clusterrole.yml", "member-binding.yml"):
        docs += [d for d in yaml.safe_load_all((ROOT / "docs" / "rbac" / name).read_text()) if d]
    return docs


def rollout(lab, member, app, ns):
    return lab.get(member, ROLLOUT, app, ns)


def ready_replicas(obj):
    return int(((obj or {}).get("status") or {}).get("readyReplicas") or 0)


def test_onboard_joins_checks_and_bootstraps_the_fifth_member(lab, fifth, inventory, namespace):
    first = ok(playbook("onboard.yml", inventory=inventory, multicluster_canary_namespace=namespace))
    assert "{0} joined:".format(fifth) in first.stdout, first.stdout[-4000:]
    assert "Argo Rollouts controller: reconciles" in first.stdout

    cluster = json.loads(lab.kubectl("get", "cluster", fifth, "-o", "json"))
    assert cluster["spec"]["syncMode"] == "Push"
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in cluster["status"]["conditions"])
    assert all(cluster["metadata"]["labels"].get(k) == v for k, v in LABELS.items()), cluster["metadata"]

    # its share of every app's replicas, as Karmada assigned them, running and ready in the member
    members = lab.members + [fifth]
    for app in APPS:
        binding = lab.get(lab.karmada, "resourcebindings.work.karmada.io", app + "-rollout", namespace)
        assigned = dict((c["name"], c["replicas"]) for c in binding["spec"]["clusters"])
        total = FIXED if app == "ruoyi-system" else len(members)
        assert sorted(assigned) == sorted(members) and sum(assigned.values()) == total, (app, assigned)
        for member in members:
            ro = rollout(lab, member, app, namespace)
            assert ro["spec"]["replicas"] == assigned[member] == ready_replicas(ro), (app, member, ro.get("status"))
    # bootstrapped: the TLS secret and the apps' namespace with sidecar injection
    assert lab.get(fifth, "secret", "ruoyi-vue-tls", "istio-system"), "no TLS secret in " + fifth
    assert lab.get(fifth, "namespace", namespace)["metadata"]["labels"].get("istio-injection") == "enabled"
    # the collection's identity reaches it through Karmada's cluster proxy (the member RBAC the join applied)
    assert lab.get(fifth, "clusterrolebinding", "multicluster-canary-member")

    again = ok(playbook("onboard.yml", inventory=inventory, multicluster_canary_namespace=namespace))
    assert changed(again) == 0, again.stdout[-6000:]


def test_onboard_updates_a_member_whose_cluster_is_not_what_the_inventory_says(lab, fifth, inventory, namespace):
    """A member Karmada knows by an old address (nothing listens there any more) and with a label less than its
    host vars give: onboard.yml joins it again with its own credentials, says what differed, and Karmada has it
    at the inventory's address, Ready, with the label; the other members' Clusters are not written; a second run
    changes nothing."""
    now = json.loads(lab.kubectl("get", "cluster", fifth, "-o", "json"))
    address = now["spec"]["apiEndpoint"]
    others = dict((m, lab.get(lab.karmada, "clusters.cluster.karmada.io", m)["metadata"]["resourceVersion"])
                  for m in lab.members)
    lab.kubectl("patch", "cluster", fifth, "--type=merge", "-p", json.dumps({"spec": {"apiEndpoint": "https://127.0.0.1:1"}}))
    labels = dict(LABELS, tier="edge")
    (inventory / "host_vars" / (fifth + ".yml")).write_text(yaml.safe_dump({
        "multicluster_canary_cluster_labels": labels, "multicluster_canary_api_endpoint": address}))

    run = ok(playbook("onboard.yml", inventory=inventory, multicluster_canary_namespace=namespace))
    said = "{0} updated (apiEndpoint {1} (Karmada has https://127.0.0.1:1); label tier=edge (Karmada has none))".format(
        fifth, address)
    assert said in run.stdout, run.stdout[-6000:]
    cluster = json.loads(lab.kubectl("get", "cluster", fifth, "-o", "json"))
    assert cluster["spec"]["apiEndpoint"] == address
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in cluster["status"]["conditions"])
    assert all(cluster["metadata"]["labels"].get(k) == v for k, v in labels.items()), cluster["metadata"]
    for m, version in others.items():
        assert lab.get(lab.karmada, "clusters.cluster.karmada.io", m)["metadata"]["resourceVersion"] == version, m
    # reachable again through Karmada: every app still runs its share there
    for app in APPS:
        ro = rollout(lab, fifth, app, namespace)
        assert ro and ready_replicas(ro) == ro["spec"]["replicas"] > 0, (app, (ro or {}).get("status"))

    again = ok(playbook("onboard.yml", inventory=inventory, multicluster_canary_namespace=namespace))
    assert changed(again) == 0 and "updated (" not in again.stdout, again.stdout[-6000:]


def test_the_inventory_plugin_follows_karmada(lab, fifth, inventory, namespace, tmp_path):
    """The plugin as the only inventory: the five members with their label groups; status.yml runs with it."""
    plugin_inv = tmp_path / "karmada-inventory"
    plugin_inv.mkdir()
    shutil.copytree(inventory / "group_vars", plugin_inv / "group_vars")
    (plugin_inv / "karmada.yml").write_text(yaml.safe_dump({
        "plugin": "multicluster.canary.karmada", "kubeconfig": lab.automation_kubeconfig,
        "context": lab.karmada}))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
        [str(ROOT / "build" / "collections")] + [p for p in sys.path if p.endswith("site-packages")]))
    listed = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"),
                             "-i", str(plugin_inv / "karmada.yml"), "--list"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr[-3000:]
    groups = json.loads(listed.stdout)
    assert sorted(groups["members"]["hosts"]) == sorted(lab.members + [fifth])
    assert groups["karmada"]["hosts"] == [lab.karmada]
    assert groups["wave_1"]["hosts"] == [fifth] and groups["region_test"]["hosts"] == [fifth]
    hostvars = groups["_meta"]["hostvars"][fifth]
    assert hostvars["multicluster_canary_wave"] == 1 and hostvars["karmada_cluster"]["ready"] is True

    status = ok(playbook("status.yml", inventory=plugin_inv / "karmada.yml", app="ruoyi-vue",
                         multicluster_canary_namespace=namespace))
    assert "ruoyi-vue in {0}: all 5 cluster(s) healthy".format(namespace) in status.stdout, status.stdout[-3000:]
    assert fifth in status.stdout


def test_offboard_moves_the_replicas_first_then_unjoins(lab, fifth, inventory, namespace):
    members = lab.members + [fifth]
    with ReadyWatch(lab, members, namespace) as watched:
        off = ok(playbook("offboard.yml", inventory=inventory, cluster=fifth, multicluster_canary_namespace=namespace))
    # ruoyi-system (7 replicas, one or two per member) needed a surge so the others held their new share
    # before the fifth let go of its own; ruoyi-vue (one per member) moved nothing
    raised = re.findall(r"Raise the Rollout's replicas in Karmada, (\S+)\] \**\n(\w+):", off.stdout)
    assert raised == [("ruoyi-vue", "skipping"), ("ruoyi-system", "changed")], (raised, off.stdout[-6000:])
    for app, should_have in (("ruoyi-vue", len(lab.members)), ("ruoyi-system", FIXED)):
        assert watched.lowest(app) >= should_have, (app, watched.lowest(app), [e for e in watched.events if e[2] == app])
    assert any(e[1] == fifth and e[3] == 0 for e in watched.events), "the fifth member never let go"

    assert fifth not in cluster_names(lab)
    assert not lab.get(lab.karmada, "secret", fifth, "karmada-cluster")
    for app in APPS:
        assert rollout(lab, fifth, app, namespace) is None, app
        total = sum(ready_replicas(rollout(lab, m, app, namespace)) for m in lab.members)
        assert total == (FIXED if app == "ruoyi-system" else len(lab.members)), (app, total)
    # Karmada removed what it placed there; the join's and the collection's objects are gone too
    assert lab.get(fifth, "secret", "ruoyi-vue-tls", "istio-system") is None
    assert not gone_or_going(lab.get(fifth, "namespace", "karmada-cluster"))
    assert lab.get(fifth, "clusterrolebinding", "multicluster-canary-member") is None
    assert lab.get(fifth, "clusterrole", "karmada-controller-manager:karmada-" + fifth) is None

    again = ok(playbook("offboard.yml", inventory=inventory, cluster=fifth, multicluster_canary_namespace=namespace))
    assert "nothing to offboard" in again.stdout and changed(again) == 0, again.stdout[-3000:]


def test_the_module_checks_before_writing_and_matches_karmadactl(lab, fifth, run_module):
    member_kubeconfig = {"cluster_kubeconfig": lab.kubeconfig, "cluster_context": fifth, "member_objects": member_rbac()}

    def fifth_untouched():
        assert fifth not in cluster_names(lab)
        assert lab.get(fifth, "namespace", "karmada-cluster") is None

    lab.wait_for(lambda: lab.get(fifth, "namespace", "karmada-cluster") is None, timeout=120,
                 what="the member's karmada-cluster namespace to be gone after the unjoin")

    # check mode: every object predicted, nothing written
    plan = run_module("karmada_cluster", dict(member_kubeconfig, name=fifth), check=True, diff=True)
    assert not plan.get("failed"), plan.get("msg")
    assert plan["changed"] and {o["action"] for o in plan["objects"]} == {"created", "unchanged"}
    fifth_untouched()

    # bad input fails naming the field, before anything is written
    bad = run_module("karmada_cluster", dict(member_kubeconfig, name="K8s-Member"))
    assert bad.get("failed") and bad["field"] == "name" and "DNS-1123" in bad["msg"], bad
    bad = run_module("karmada_cluster", dict(member_kubeconfig, name=fifth, labels={"wave": "two words"}))
    assert bad.get("failed") and bad["field"] == "labels", bad
    twice = run_module("karmada_cluster", dict(name="k8s-other", cluster_kubeconfig=lab.kubeconfig,
                                               cluster_context=lab.members[0]))
    assert twice.get("failed") and "already joined to Karmada as {0}".format(lab.members[0]) in twice["msg"], twice
    fifth_untouched()

    joined = run_module("karmada_cluster", dict(member_kubeconfig, name=fifth))
    try:
        assert not joined.get("failed"), joined.get("msg")
        assert joined["changed"] and joined["ready"] and joined["cluster"]["spec"]["syncMode"] == "Push"
        # the same objects as karmadactl join made for the lab's first member, named for this one
        reference, ours = lab.members[0], fifth
        for context, name in ((lab.karmada, "clusters.cluster.karmada.io"),):
            theirs = lab.get(context, name, reference)["spec"]
            mine = lab.get(context, name, ours)["spec"]
            assert sorted(k for k in mine if k != "resourceModels") == sorted(
                k for k in theirs if k != "resourceModels"), (mine, theirs)
        for suffix in ("", "-impersonator"):
            theirs = lab.get(lab.karmada, "secret", reference + suffix, "karmada-cluster")
            mine = lab.get(lab.karmada, "secret", ours + suffix, "karmada-cluster")
            assert sorted(mine["data"]) == sorted(theirs["data"]) and mine["metadata"]["labels"] == {
                "karmada.io/system": "true"}
            assert mine["metadata"]["ownerReferences"][0]["kind"] == "Cluster"
        for kind, name in (("serviceaccount", "karmada-impersonator"), ("serviceaccount", "karmada-{0}"),
                           ("secret", "karmada-{0}"), ("clusterrole", "karmada-controller-manager:karmada-{0}"),
                           ("clusterrolebinding", "karmada-controller-manager:karmada-{0}")):
            ns = "karmada-cluster" if kind in ("serviceaccount", "secret") else None
            assert lab.get(reference, kind, name.format(reference), ns), (kind, name, reference)
            assert lab.get(ours, kind, name.format(ours), ns), (kind, name, ours)

        again = run_module("karmada_cluster", dict(member_kubeconfig, name=fifth))
        assert not again["changed"] and {o["action"] for o in again["objects"]} == {"unchanged"}, again["objects"]

        # after a failure: a lost Secret comes back, and its token never shows, not even in the diff
        lab.kubectl("-n", "karmada-cluster", "delete", "secret", fifth + "-impersonator")
        token = base64.b64decode(lab.get(fifth, "secret", "karmada-impersonator", "karmada-cluster")["data"]["token"])
        repaired = run_module("karmada_cluster", dict(member_kubeconfig, name=fifth), diff=True)
        assert repaired["changed"] and [o["name"] for o in repaired["objects"] if o["action"] != "unchanged"] == [
            fifth + "-impersonator"], repaired["objects"]
        assert token.decode() not in repaired["_stdout"] and lab.get(lab.karmada, "secret", fifth + "-impersonator",
                                                                     "karmada-cluster")
        raw = lab.get(lab.karmada, "secret", fifth + "-impersonator", "karmada-cluster")["data"]["token"]
        assert raw not in repaired["_stdout"] and raw not in json.dumps(repaired)
    finally:
        gone = run_module("karmada_cluster", dict(member_kubeconfig, name=fifth, state="absent"))
    assert not gone.get("failed") and gone["changed"], gone.get("msg")
    assert fifth not in cluster_names(lab)
    assert run_module("karmada_cluster", dict(member_kubeconfig, name=fifth, state="absent"))["changed"] is False
