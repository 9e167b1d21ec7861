"""Real workloads from the catalogue, released as users release them: the members hold exactly what it says.

``ruoyi-system`` of the lab catalogue is a RuoYi service as a team describes it: two containers (the
service and a log shipper sharing a volume), an init container, env (Nacos, Redis, MySQL, a password
from a Secret), requests and limits, startup, readiness and liveness probes, image pull secrets. It is
released through every pause with release.yml and promote.yml; at each pause every member's Rollout
template is compared with the catalogue's pod template as written in ``inventories/lab/group_vars/all.yml``
(read here with PyYAML, not through the collection's renderer), and its pods with it too.

Then an app described by the team's own Deployment file, routed by DestinationRule subsets, is onboarded
from a copy of the lab inventory and brought to its first pause.
"""

import copy
import json
import shutil
import uuid
from pathlib import Path

import pytest
import yaml

from tests.playbooks.test_playbooks import ROLLOUT, VS, changed, ok, playbook, where

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text())[
    "multicluster_canary_apps"]
DR = "destinationrules.networking.istio.io"


@pytest.fixture
def catalogue_namespace(lab):
    name = "t-cat-" + uuid.uuid4().hex[:6]
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def expected_template(app, image):
    """The catalogue's pod template as written, with the released container's image and the pod label app=NAME.

    The only other addition is the Rollout CRD's own default (protocol TCP on ports); everything else
    (resources, quantities, probes, env) the lab catalogue spells exactly as Kubernetes stores it.
    """
    spec = CATALOGUE[app]
    template = copy.deepcopy(spec["pod_template"])
    released = spec.get("container", app)
    for c in template["spec"]["containers"] + template["spec"].get("initContainers", []):
        if c["name"] == released:
            c["image"] = image
        for port in c.get("ports", []):
            port.setdefault("protocol", "TCP")
    template.setdefault("metadata", {}).setdefault("labels", {})["app"] = app
    return template


def pods(lab, member, ns, selector):
    return json.loads(lab.kubectl("get", "pods", "-n", ns, "-l", selector, "-o", "json", context=member))["items"]


# The ServiceAccount admission plugin appends the token volume and its mounts to every pod.
APPENDED = ("volumes", "volumeMounts")


def contains(actual, wanted, path=""):
    """Whether ``actual`` holds everything ``wanted`` says (the API server adds its defaults to pods)."""
    if isinstance(wanted, dict):
        assert isinstance(actual, dict), (path, actual)
        for key, value in wanted.items():
            assert key in actual, "{0}.{1} missing".format(path, key)
            contains(actual[key], value, "{0}.{1}".format(path, key))
    elif isinstance(wanted, list):
        assert isinstance(actual, list), (path, actual)
        if path.rsplit(".", 1)[-1] in APPENDED:
            actual = actual[:len(wanted)]
        assert len(actual) == len(wanted), (path, actual, wanted)
        for i, (a, w) in enumerate(zip(actual, wanted)):
            contains(a, w, "{0}[{1}]".format(path, i))
    else:
        assert actual == wanted, (path, actual, wanted)


def check_members_hold_the_catalogue(lab, app, ns, image, stable_image):
    """Each member's Rollout template is the catalogue's; its canary and stable pods run it."""
    want = expected_template(app, image)
    template = lab.get(lab.karmada, ROLLOUT, app, ns)
    assert template["spec"]["template"] == want, "Karmada's template"
    for member in lab.members:
        ro = lab.get(member, ROLLOUT, app, ns)
        assert ro["spec"]["template"] == want, member
        # the pods of the canary and of the stable ReplicaSet (an older one may still be scaling down)
        status = ro["status"]
        for pod_hash, pod_image in ((status["currentPodHash"], image), (status["stableRS"], stable_image)):
            found = pods(lab, member, ns, "app={0},rollouts-pod-template-hash={1}".format(app, pod_hash))
            assert found, (member, pod_hash)
            pod_spec = expected_template(app, pod_image)["spec"]
            for pod in found:
                contains(pod["spec"], pod_spec, "{0} pod {1}".format(member, pod["metadata"]["name"]))


def test_ruoyi_system_with_a_sidecar_released_through_every_pause(lab, catalogue_namespace):
    ns, app = catalogue_namespace, "ruoyi-system"
    old, new = CATALOGUE[app]["image"], "ruoyi/ruoyi-system:1.1.0"
    assert len(CATALOGUE[app]["pod_template"]["spec"]["containers"]) == 2

    first = ok(playbook("release.yml", app=app, image=new, auto_promote=False, multicluster_canary_namespace=ns,
                        onboard_images={app: old}))
    assert "{0} -> {1}".format(old, new) in first.stdout
    pauses = 0
    while True:
        states = dict((m, (lab.get(m, ROLLOUT, app, ns) or {}).get("status") or {}) for m in lab.members)
        if all(s.get("phase") == "Healthy" for s in states.values()):
            break
        assert all(s.get("phase") == "Paused" for s in states.values()), states
        pauses += 1
        # a canary pod per member on the new template, the stable ones on the old
        for member in lab.members:
            assert pods(lab, member, ns, "app={0},lane=canary".format(app)), member
        check_members_hold_the_catalogue(lab, app, ns, new, old)
        ok(playbook("promote.yml", app=app, multicluster_canary_namespace=ns))
        assert pauses <= 3, states
    assert pauses == 2  # setWeight 20, pause, setWeight 50, pause
    check_members_hold_the_catalogue(lab, app, ns, new, new)
    for member in lab.members:
        ro = lab.get(member, ROLLOUT, app, ns)
        assert ro["status"]["stableRS"] == ro["status"]["currentPodHash"], member
        # the new ReplicaSet's pods (the old one is scaled down after Argo's delay)
        ready = [p for p in pods(lab, member, ns, "app={0},rollouts-pod-template-hash={1}".format(
                 app, ro["status"]["stableRS"]))
                 if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]
        assert len(ready) == ro["spec"]["replicas"] == 1, (member, len(ready))

    # The catalogue's template is what Argo Rollouts and Karmada keep: onboarding and the release again
    # change nothing, and no member's Rollout moves (its generation included).
    settled = where(lab, app, ns)
    again = ok(playbook("onboard.yml", app=app, multicluster_canary_namespace=ns))
    assert changed(again) == 0, again.stdout[-6000:]
    again = ok(playbook("release.yml", app=app, image=new, multicluster_canary_namespace=ns))
    assert changed(again) == 0, again.stdout[-6000:]
    assert where(lab, app, ns) == settled


def test_ruoyi_vue_with_its_exporter_sidecar_is_onboarded_as_written(lab, catalogue_namespace):
    ns, app = catalogue_namespace, "ruoyi-vue"
    ok(playbook("onboard.yml", app=app, multicluster_canary_namespace=ns))
    image = CATALOGUE[app]["image"]
    check_members_hold_the_catalogue(lab, app, ns, image, image)
    for member in lab.members:
        service = lab.get(member, "service", app + "-stable", ns)
        # the Services expose the frontend's port, not the exporter's
        assert [(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [("http", 80, "http")]


DEPLOYMENT = """\
# ruoyi-file as the team deployed it before canary releases
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ruoyi-file
  labels: {app: ruoyi-file}
spec:
  replicas: 3
  minReadySeconds: 5
  strategy: {type: RollingUpdate}
  selector:
    matchLabels: {app: ruoyi-file}
  template:
    metadata:
      labels: {app: ruoyi-file, tier: backend}
    spec:
      containers:
        - name: ruoyi-file
          image: ruoyi/ruoyi-file:0.9.0
          ports:
            - {name: http, containerPort: 9300}
          env:
            - {name: SPRING_PROFILES_ACTIVE, value: prod}
          resources:
            requests: {cpu: "0.25", memory: 512Mi}
            limits: {cpu: "1", memory: 1024Mi}
          readinessProbe:
            tcpSocket: {port: http}
            initialDelaySeconds: 0
            periodSeconds: 10
"""


def test_an_app_from_the_team_s_deployment_routed_by_subsets(lab, catalogue_namespace, tmp_path):
    ns, app = catalogue_namespace, "ruoyi-file"
    old, new = "ruoyi/ruoyi-file:1.0.0", "ruoyi/ruoyi-file:1.1.0"
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "lab", inventory)
    (inventory / "manifests").mkdir()
    (inventory / "manifests" / "ruoyi-file.yml").write_text(DEPLOYMENT)
    all_vars = (inventory / "group_vars" / "all.yml").read_text().replace(
        "{{ inventory_dir }}/../../.lab", str(ROOT / ".lab"))
    all_vars += "\n".join([
        "  ruoyi-file:",
        "    image: {0}".format(old),
        "    manifest: manifests/ruoyi-file.yml",
        "    routing: subsets",
        "    replicas_per_weight: 1",
        "    steps: [{setWeight: 20}, {pause: {}}, {setWeight: 50}, {pause: {}}]",
        ""])
    (inventory / "group_vars" / "all.yml").write_text(all_vars)

    ok(playbook("onboard.yml", inventory=inventory, app=app, multicluster_canary_namespace=ns))
    for member in lab.members:
        ro = lab.get(member, ROLLOUT, app, ns)
        assert ro["spec"]["minReadySeconds"] == 5 and ro["spec"]["replicas"] == 1, member
        template = ro["spec"]["template"]
        assert template["metadata"]["labels"] == {"app": app, "tier": "backend"}
        container = template["spec"]["containers"][0]
        assert container["image"] == old
        # as Kubernetes prints them, so Argo Rollouts' write-back changes nothing
        assert container["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"},
                                          "limits": {"cpu": "1", "memory": "1Gi"}}
        assert container["readinessProbe"] == {"tcpSocket": {"port": "http"}, "periodSeconds": 10}
        assert ro["status"]["phase"] == "Healthy", (member, ro["status"])
        assert lab.get(member, "service", app, ns) and not lab.get(member, "service", app + "-stable", ns)
        assert [s["name"] for s in lab.get(member, DR, app, ns)["spec"]["subsets"]] == ["stable", "canary"]

    ok(playbook("canary.yml", inventory=inventory, app=app, image=new, multicluster_canary_namespace=ns))
    for member in lab.members:
        ro = lab.get(member, ROLLOUT, app, ns)
        assert ro["status"]["phase"] == "Paused" and ro["status"]["currentStepIndex"] == 1, (member, ro["status"])
        subsets = dict((s["name"], s["labels"]) for s in lab.get(member, DR, app, ns)["spec"]["subsets"])
        # Argo Rollouts pins each subset to its ReplicaSet, and Karmada keeps what it wrote
        assert subsets["stable"]["rollouts-pod-template-hash"] == ro["status"]["stableRS"], subsets
        assert subsets["canary"]["rollouts-pod-template-hash"] == ro["status"]["currentPodHash"], subsets
        primary = [r for r in lab.get(member, VS, app, ns)["spec"]["http"] if r.get("name") == "primary"][0]
        assert [(d["destination"].get("subset"), d["weight"]) for d in primary["route"]] == \
            [("stable", 80), ("canary", 20)], primary
