"""catalogue: each bad field of an entry is named; rendering is pure and completes only what the collection owns."""

import copy
from pathlib import Path

import re

import pytest
import yaml

from ansible_collections.multicluster.canary.plugins.module_utils import catalogue as cat

ROOT = Path(__file__).resolve().parents[4]
MEMBERS = ["k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou", "k8s-master-shenzhen"]
SETTINGS = {"namespace": "ruoyi", "weights": dict((m, 1) for m in MEMBERS)}
P = "multicluster_canary_apps."


def lab_apps():
    return yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text())[
        "multicluster_canary_apps"]


def backend(**extra):
    spec = {"tier": "backend", "image": "ruoyi/ruoyi-system:1.0.0", "replicas_per_weight": 1,
            "steps": [{"setWeight": 20}, {"pause": {}}]}
    spec.update(extra)
    return spec


def two_containers(**extra):
    """ruoyi-vue with a sidecar, a pod template as a user writes it."""
    spec = {
        "tier": "frontend", "image": "ruoyi/ruoyi-vue:1.1.0", "hosts": ["ruoyi.example.com"],
        "tls_secret": "ruoyi-vue-tls", "steps": [{"setWeight": 20}, {"pause": {}}],
        "pod_template": {"spec": {"containers": [
            {"name": "ruoyi-vue", "ports": [{"name": "http", "containerPort": 80}],
             "env": [{"name": "TZ", "value": "Asia/Shanghai"}],
             "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "0.5", "memory": "256Mi"}},
             "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5}},
            {"name": "nginx-exporter", "image": "nginx/nginx-prometheus-exporter:1.3.0",
             "ports": [{"name": "metrics", "containerPort": 9113}]},
        ]}},
    }
    spec.update(extra)
    return spec


def errors_of(name, spec, settings=None):
    with pytest.raises(cat.CatalogueError) as exc:
        cat.render_app(name, spec, SETTINGS if settings is None else settings)
    return exc.value.errors


# --- the short form renders exactly what the roles rendered before the catalogue moved to Python -----

def test_short_form_backend_is_what_onboarding_always_wrote():
    plan = cat.render_app("ruoyi-gateway", {"tier": "backend", "image": "ruoyi/ruoyi-gateway:1.0.0", "port": 8080,
                                            "replicas_per_weight": 1,
                                            "steps": [{"setWeight": 20}, {"pause": {}}]}, SETTINGS)
    digest = plan["rollout"]["metadata"]["annotations"].pop("multicluster.canary/onboarded")
    assert re.match(r"^sha256:[0-9a-f]{32}$", digest), digest
    assert plan["rollout"] == {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "ruoyi-gateway", "namespace": "ruoyi", "labels": {"app": "ruoyi-gateway"},
                     "annotations": {"multicluster.canary/app": "ruoyi-gateway"}},
        "spec": {
            "replicas": 4, "revisionHistoryLimit": 3, "selector": {"matchLabels": {"app": "ruoyi-gateway"}},
            "template": {"metadata": {"labels": {"app": "ruoyi-gateway"}}, "spec": {"containers": [
                {"name": "ruoyi-gateway", "image": "ruoyi/ruoyi-gateway:1.0.0",
                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}], "resources": {}}]}},
            "strategy": {"canary": {
                "stableService": "ruoyi-gateway-stable", "canaryService": "ruoyi-gateway-canary",
                "canaryMetadata": {"labels": {"lane": "canary"}},
                "trafficRouting": {"istio": {"virtualService": {"name": "ruoyi-gateway", "routes": ["primary"]}}},
                "steps": [{"setWeight": 20}, {"pause": {}}]}},
        },
    }
    assert [s["metadata"]["name"] for s in plan["services"]] == [
        "ruoyi-gateway-stable", "ruoyi-gateway-canary", "ruoyi-gateway"]
    assert plan["services"][0] == {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "ruoyi-gateway-stable", "namespace": "ruoyi", "labels": {"app": "ruoyi-gateway"}},
        "spec": {"type": "ClusterIP", "selector": {"app": "ruoyi-gateway"},
                 "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]}}
    assert plan["gateway"] is None
    assert plan["objects"] == plan["services"] + [plan["rollout"]]
    assert plan["route"] == {
        "name": "ruoyi-gateway", "namespace": "ruoyi", "api_version": "v1", "gateways": ["mesh"],
        "hosts": ["ruoyi-gateway"], "stable": {"host": "ruoyi-gateway-stable"},
        "canary": {"host": "ruoyi-gateway-canary"}, "managed_routes": [], "labels": {"app": "ruoyi-gateway"},
        "lanes": [{"name": "canary-lane", "headers": {"X-canary": {"exact": "test-user"}},
                   "source_labels": {"lane": "canary"}}]}
    assert plan["propagation"] == {
        "name": "ruoyi-gateway", "namespace": "ruoyi", "weights": SETTINGS["weights"],
        "hold_image": {"container": "ruoyi-gateway"},
        "resource_selectors": [
            {"api_version": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "ruoyi-gateway"},
            {"api_version": "v1", "kind": "Service", "name": "ruoyi-gateway-stable"},
            {"api_version": "v1", "kind": "Service", "name": "ruoyi-gateway-canary"},
            {"api_version": "networking.istio.io/v1", "kind": "VirtualService", "name": "ruoyi-gateway"},
            {"api_version": "v1", "kind": "Service", "name": "ruoyi-gateway"}]}
    assert plan["binding_names"] == ["ruoyi-gateway-stable-service", "ruoyi-gateway-canary-service",
                                     "ruoyi-gateway-service"]


def test_short_form_frontend_gateway_header_route_and_port_as_string():
    steps = [{"setCanaryScale": {"replicas": 1}},
             {"setHeaderRoute": {"name": "canary-header",
                                 "match": [{"headerName": "X-canary", "headerValue": {"exact": "test-user"}}]}},
             {"pause": {}}]
    plan = cat.render_app("ruoyi-vue", {"tier": "frontend", "image": "ruoyi/ruoyi-vue:1.0.0", "port": "80",
                                        "hosts": ["ruoyi.example.com"], "tls_secret": "ruoyi-vue-tls", "steps": steps},
                          dict(SETTINGS, gateway_selector={"istio": "ingress-public"}, istio_api_version="v1beta1"))
    assert plan["rollout"]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 80
    assert plan["rollout"]["spec"]["strategy"]["canary"]["trafficRouting"]["managedRoutes"] == [{"name": "canary-header"}]
    assert plan["managed_routes"] == ["canary-header"]
    assert [s["metadata"]["name"] for s in plan["services"]] == ["ruoyi-vue-stable", "ruoyi-vue-canary"]
    assert plan["gateway"] == {
        "apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
        "metadata": {"name": "ruoyi-vue-gateway", "namespace": "ruoyi", "labels": {"app": "ruoyi-vue"}},
        "spec": {"selector": {"istio": "ingress-public"}, "servers": [{
            "port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["ruoyi.example.com"],
            "tls": {"mode": "SIMPLE", "credentialName": "ruoyi-vue-tls"}}]}}
    assert [o["kind"] for o in plan["objects"]] == ["Service", "Service", "Gateway", "Rollout"]
    assert plan["route"]["gateways"] == ["ruoyi-vue-gateway"] and plan["route"]["hosts"] == ["ruoyi.example.com"]
    assert "lanes" not in plan["route"] and plan["route"]["managed_routes"] == ["canary-header"]
    assert plan["propagation"]["resource_selectors"][-1] == {
        "api_version": "networking.istio.io/v1beta1", "kind": "Gateway", "name": "ruoyi-vue-gateway"}


# --- a full pod template -------------------------------------------------------------------------

def test_pod_template_is_kept_as_written_and_completed():
    spec = two_containers()
    given = copy.deepcopy(spec)
    plan = cat.render_app("ruoyi-vue", spec, SETTINGS)
    assert spec == given, "the entry must not be changed"
    template = plan["rollout"]["spec"]["template"]
    assert template["metadata"] == {"labels": {"app": "ruoyi-vue"}}
    app, exporter = template["spec"]["containers"]
    assert app == {
        "name": "ruoyi-vue", "image": "ruoyi/ruoyi-vue:1.1.0",
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
        "env": [{"name": "TZ", "value": "Asia/Shanghai"}],
        # 0.5 as Kubernetes prints it
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5}}
    # no resources given: the empty value Argo Rollouts would write back
    assert exporter == {"name": "nginx-exporter", "image": "nginx/nginx-prometheus-exporter:1.3.0",
                        "ports": [{"name": "metrics", "containerPort": 9113, "protocol": "TCP"}], "resources": {}}
    assert plan["container"] == "ruoyi-vue" and plan["image"] == "ruoyi/ruoyi-vue:1.1.0"
    # the Services expose the released container's ports, not the sidecar's
    assert plan["services"][0]["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http",
                                                     "protocol": "TCP"}]
    assert cat.render_app("ruoyi-vue", spec, SETTINGS) == plan, "rendering is pure"


def test_released_container_named_explicitly_and_image_to_create_with():
    spec = backend(container="system", pod_template={"spec": {"containers": [
        {"name": "filebeat", "image": "docker.elastic.co/beats/filebeat:8.15.0"},
        {"name": "system", "ports": [{"name": "http", "containerPort": 9201}]}]}})
    plan = cat.render_app("ruoyi-system", spec, dict(SETTINGS, image="ruoyi/ruoyi-system:0.9.0"))
    containers = plan["rollout"]["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["docker.elastic.co/beats/filebeat:8.15.0", "ruoyi/ruoyi-system:0.9.0"]
    assert plan["container"] == "system" and plan["propagation"]["hold_image"] == {"container": "system"}
    assert plan["image"] == "ruoyi/ruoyi-system:1.0.0"  # the catalogue's, what release.yml releases


def test_container_named_after_the_app_is_released_by_default_and_the_only_one_otherwise():
    named = backend(pod_template={"spec": {"containers": [
        {"name": "sidecar", "image": "busybox:1.36"}, {"name": "ruoyi-system", "ports": [
            {"name": "http", "containerPort": 9201}]}]}})
    assert cat.render_app("ruoyi-system", named, SETTINGS)["container"] == "ruoyi-system"
    only = backend(pod_template={"spec": {"containers": [{"name": "app", "ports": [
        {"name": "http", "containerPort": 9201}]}]}})
    assert cat.render_app("ruoyi-system", only, SETTINGS)["container"] == "app"


def test_what_argo_rollouts_writes_back_is_what_is_rendered():
    """Zero values of omitempty fields go, pointer fields stay, the CRD's defaults appear."""
    spec = backend(pod_template={"metadata": {"annotations": {}}, "spec": {
        "hostNetwork": False, "nodeSelector": {}, "terminationGracePeriodSeconds": 0,
        "securityContext": {"runAsUser": 0, "runAsNonRoot": False},
        "containers": [{
            "name": "ruoyi-system", "tty": False, "workingDir": "", "args": [],
            "ports": [{"name": "http", "containerPort": 9201, "hostPort": 0}, {"name": "grpc", "containerPort": 9090}],
            "env": [{"name": "EMPTY", "value": ""}],
            "volumeMounts": [{"name": "logs", "mountPath": "/logs", "readOnly": False}],
            "securityContext": {"allowPrivilegeEscalation": False},
            "livenessProbe": {"grpc": {"port": 9090}, "initialDelaySeconds": 0, "failureThreshold": 3},
            "readinessProbe": {"httpGet": {"port": "http", "path": "/ready", "scheme": ""}, "timeoutSeconds": 0},
        }],
        "volumes": [{"name": "logs", "emptyDir": {}}]}})
    pod = cat.render_app("ruoyi-system", spec, SETTINGS)["rollout"]["spec"]["template"]
    assert pod["metadata"] == {"labels": {"app": "ruoyi-system"}}
    assert pod["spec"] == {
        "terminationGracePeriodSeconds": 0, "securityContext": {"runAsUser": 0, "runAsNonRoot": False},
        "containers": [{
            "name": "ruoyi-system", "image": "ruoyi/ruoyi-system:1.0.0",
            "ports": [{"name": "http", "containerPort": 9201, "protocol": "TCP"},
                      {"name": "grpc", "containerPort": 9090, "protocol": "TCP"}],
            "env": [{"name": "EMPTY"}],
            "volumeMounts": [{"name": "logs", "mountPath": "/logs"}],
            "securityContext": {"allowPrivilegeEscalation": False},
            "livenessProbe": {"grpc": {"port": 9090, "service": ""}, "failureThreshold": 3},
            "readinessProbe": {"httpGet": {"port": "http", "path": "/ready"}},
            "resources": {},
        }],
        "volumes": [{"name": "logs", "emptyDir": {}}]}


# --- the user's own manifest ---------------------------------------------------------------------

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "ruoyi-auth", "namespace": "ruoyi", "labels": {"app": "ruoyi-auth", "team": "platform"},
                 "uid": "0d1e", "resourceVersion": "42", "creationTimestamp": "2024-01-30T00:00:00Z"},
    "spec": {"replicas": 2, "minReadySeconds": 10, "revisionHistoryLimit": 5, "progressDeadlineSeconds": 600,
             "strategy": {"type": "RollingUpdate"}, "selector": {"matchLabels": {"app": "ruoyi-auth"}},
             "template": {"metadata": {"labels": {"app": "ruoyi-auth", "tier": "backend"}, "creationTimestamp": None},
                          "spec": {"containers": [{"name": "ruoyi-auth", "image": "ruoyi/ruoyi-auth:0.1.0",
                                                   "ports": [{"name": "http", "containerPort": 9200}]}]}}},
    "status": {"replicas": 2},
}


def test_a_deployment_becomes_the_app_s_rollout():
    spec = backend(image="ruoyi/ruoyi-auth:1.0.0", manifest=copy.deepcopy(DEPLOYMENT))
    rollout = cat.render_app("ruoyi-auth", spec, SETTINGS)["rollout"]
    assert rollout["metadata"]["annotations"].pop("multicluster.canary/onboarded").startswith("sha256:")
    assert rollout["metadata"] == {"name": "ruoyi-auth", "namespace": "ruoyi",
                                   "labels": {"app": "ruoyi-auth", "team": "platform"},
                                   "annotations": {"multicluster.canary/app": "ruoyi-auth"}}
    assert rollout["spec"]["replicas"] == 4  # the weights', not the Deployment's 2
    assert rollout["spec"]["minReadySeconds"] == 10 and rollout["spec"]["revisionHistoryLimit"] == 5
    assert rollout["spec"]["progressDeadlineSeconds"] == 600
    assert "status" not in rollout and set(rollout["spec"]["strategy"]) == {"canary"}
    template = rollout["spec"]["template"]
    assert template["metadata"] == {"labels": {"app": "ruoyi-auth", "tier": "backend"}}
    assert template["spec"]["containers"][0]["image"] == "ruoyi/ruoyi-auth:1.0.0"  # the catalogue's image


def test_a_rollout_keeps_its_own_settings_and_gets_the_collection_s_strategy():
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "ruoyi-auth"},
        "spec": {"replicas": 9, "paused": True, "analysis": {"successfulRunHistoryLimit": 3},
                 "template": DEPLOYMENT["spec"]["template"],
                 "strategy": {"canary": {"maxSurge": "50%", "dynamicStableScale": True, "stableService": "mine",
                                         "canaryMetadata": {"labels": {"track": "canary"},
                                                            "annotations": {"a": "b"}},
                                         "steps": [{"setWeight": 100}]}}}}
    spec = backend(image="ruoyi/ruoyi-auth:1.0.0", manifest=[rollout])
    out = cat.render_app("ruoyi-auth", spec, SETTINGS)["rollout"]["spec"]
    assert out["analysis"] == {"successfulRunHistoryLimit": 3} and "paused" not in out and out["replicas"] == 4
    canary = out["strategy"]["canary"]
    assert canary["maxSurge"] == "50%" and canary["dynamicStableScale"] is True
    assert canary["stableService"] == "ruoyi-auth-stable" and canary["steps"] == spec["steps"]
    assert canary["canaryMetadata"] == {"labels": {"track": "canary", "lane": "canary"}, "annotations": {"a": "b"}}


# --- DestinationRule subsets ----------------------------------------------------------------------

def test_subsets_routing_has_one_service_and_a_destination_rule():
    plan = cat.render_app("ruoyi-system", backend(port=9201, routing="subsets"), SETTINGS)
    assert [s["metadata"]["name"] for s in plan["services"]] == ["ruoyi-system"]
    canary = plan["rollout"]["spec"]["strategy"]["canary"]
    assert "stableService" not in canary and "canaryService" not in canary
    assert canary["trafficRouting"]["istio"]["destinationRule"] == {
        "name": "ruoyi-system", "canarySubsetName": "canary", "stableSubsetName": "stable"}
    assert plan["route"]["stable"] == {"host": "ruoyi-system", "subset": "stable"}
    assert plan["route"]["canary"] == {"host": "ruoyi-system", "subset": "canary"}
    assert plan["route"]["destination_rule"] == {"name": "ruoyi-system", "subsets": [
        {"name": "stable", "labels": {"app": "ruoyi-system"}}, {"name": "canary", "labels": {"app": "ruoyi-system"}}]}
    kinds = [(s["kind"], s["name"]) for s in plan["propagation"]["resource_selectors"]]
    assert kinds == [("Rollout", "ruoyi-system"), ("Service", "ruoyi-system"), ("VirtualService", "ruoyi-system"),
                     ("DestinationRule", "ruoyi-system")]
    assert plan["binding_names"] == ["ruoyi-system-service"]


def test_namespace_of_the_entry_wins_and_waves_and_replicas_come_from_the_members():
    plan = cat.render_app("ruoyi-system", backend(port=9201, namespace="ruoyi-core", replicas_per_weight=2),
                          dict(SETTINGS, weights={"k8s-master-beijing": 2, "k8s-master-shanghai": 1},
                               waves={"k8s-master-beijing": 1, "k8s-master-shanghai": 2}))
    assert plan["namespace"] == "ruoyi-core"
    assert all(o["metadata"]["namespace"] == "ruoyi-core" for o in plan["objects"])
    assert plan["route"]["namespace"] == plan["propagation"]["namespace"] == "ruoyi-core"
    assert plan["replicas"] == plan["rollout"]["spec"]["replicas"] == 6
    assert plan["propagation"]["waves"] == {"k8s-master-beijing": 1, "k8s-master-shanghai": 2}
    fixed = backend(port=9201, replicas=3)
    del fixed["replicas_per_weight"]
    assert cat.render_app("ruoyi-system", fixed, SETTINGS)["replicas"] == 3


def test_replicas_setting_replaces_the_catalogues_count_and_zero_keeps_it():
    # offboarding's surge: the others hold their share while a member's weight goes to 0
    weights = {"k8s-master-beijing": 1, "k8s-master-shanghai": 1, "k8s-master-shenzhen": 0}
    plan = cat.render_app("ruoyi-system", backend(port=9201), dict(SETTINGS, weights=weights, replicas=5))
    assert plan["replicas"] == plan["rollout"]["spec"]["replicas"] == 5
    kept = cat.render_app("ruoyi-system", backend(port=9201), dict(SETTINGS, weights=weights, replicas="0"))
    assert kept["replicas"] == 2
    assert any(e.startswith("replicas:") and "at least 1" in e
               for e in errors_of("ruoyi-system", backend(port=9201), dict(SETTINGS, replicas=-2)))


# --- the lab's catalogue: RuoYi as a user describes it ---------------------------------------------

def test_every_lab_app_renders_and_holds_exactly_its_pod_template():
    apps = lab_apps()
    assert set(apps) == {"ruoyi-gateway", "ruoyi-auth", "ruoyi-system", "ruoyi-vue"}
    for name, spec in apps.items():
        plan = cat.render_app(name, spec, SETTINGS)
        template = plan["rollout"]["spec"]["template"]
        written = copy.deepcopy(spec["pod_template"])
        for c in written["spec"]["containers"]:
            if c["name"] == plan["container"]:
                c["image"] = spec["image"]
            for p in c.get("ports", []):
                p.setdefault("protocol", "TCP")
        written.setdefault("metadata", {})["labels"] = {"app": name}
        # the catalogue says everything else itself (resources, canonical quantities), so this is equality
        assert template == written, name
        containers = template["spec"]["containers"]
        assert containers[0]["name"] == name, "the released container comes first (status reports the first)"
        for c in containers + template["spec"].get("initContainers", []):
            assert c["resources"]["requests"] and c["resources"]["limits"], (name, c["name"])
        for c in containers:
            if c["name"] == name:
                assert c["env"] and c["readinessProbe"] and c["livenessProbe"], name
    assert len(apps["ruoyi-vue"]["pod_template"]["spec"]["containers"]) == 2
    assert len(apps["ruoyi-system"]["pod_template"]["spec"]["containers"]) == 2


# --- every bad field is named ------------------------------------------------------------------------

def _set(spec, path, value):
    """Set (or, with value ..., delete) a dotted path like pod_template.spec.containers.1.ports.0.containerPort."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = spec
    for k in keys[:-1]:
        node = node[k]
    if value is Ellipsis:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return spec


VUE = P + "ruoyi-vue."
CONTAINERS = VUE + "pod_template.spec.containers"


@pytest.mark.parametrize("path,value,field,words", [
    ("pod_template.spec.containers.1.ports.0.containerPort", "http", CONTAINERS + "[1].ports[0].containerPort",
     "must be an integer from 1 to 65535, got 'http'"),
    ("pod_template.spec.containers.1.ports.0.name", "prometheus-metrics", CONTAINERS + "[1].ports[0].name",
     "is not a port name"),
    ("pod_template.spec.containers.1.ports.0.protocol", "HTTP", CONTAINERS + "[1].ports[0].protocol",
     "must be one of TCP, UDP, SCTP"),
    ("pod_template.spec.containers.1.name", "ruoyi-vue", CONTAINERS + "[1].name", "is already the name of"),
    ("pod_template.spec.containers.1.name", "Exporter", CONTAINERS + "[1].name", "is not a DNS label"),
    ("pod_template.spec.containers.1.image", "Nginx:latest", CONTAINERS + "[1].image", "is not an image reference"),
    ("pod_template.spec.containers.1.image", ..., CONTAINERS + "[1].image", "is required"),
    ("pod_template.spec.containers.0.env.0.value", 8080, CONTAINERS + "[0].env[0].value",
     'env values are strings, got 8080 (quote it: "8080")'),
    ("pod_template.spec.containers.0.env.0.name", "A=B", CONTAINERS + "[0].env[0].name", "must be a variable name"),
    ("pod_template.spec.containers.0.env.0.valueFrom", {"secretKeyRef": {"name": "db"}}, CONTAINERS + "[0].env[0]",
     "has both value and valueFrom"),
    ("pod_template.spec.containers.0.resources.limits.memory", "256MB", CONTAINERS + "[0].resources.limits.memory",
     "'256MB' is not a resource quantity"),
    ("pod_template.spec.containers.0.resources.requests.cpu", "2", CONTAINERS + "[0].resources.requests.cpu",
     "2 is more than limits.cpu 500m"),
    ("pod_template.spec.containers.0.readinessProbe.httpGet.port", "web",
     CONTAINERS + "[0].readinessProbe.httpGet.port", "no port named 'web' in this container (ports: http)"),
    ("pod_template.spec.containers.0.readinessProbe.httpGet.path", "health",
     CONTAINERS + "[0].readinessProbe.httpGet.path", "must be a path starting with /"),
    ("pod_template.spec.containers.0.readinessProbe.tcpSocket", {"port": 80}, CONTAINERS + "[0].readinessProbe",
     "needs exactly one of exec, httpGet, tcpSocket, grpc, got httpGet, tcpSocket"),
    ("pod_template.spec.containers.0.readinessProbe.periodSeconds", "5s",
     CONTAINERS + "[0].readinessProbe.periodSeconds", "must be an integer, got '5s'"),
    ("pod_template.spec.containers.0.livenessProbe", {"exec": {"command": ["true"]}, "successThreshold": 2},
     CONTAINERS + "[0].livenessProbe.successThreshold", "must be 1 for a livenessProbe"),
    ("pod_template.spec.containers.0.volumeMounts", [{"name": "cache", "mountPath": "/cache"}],
     CONTAINERS + "[0].volumeMounts[0].name", "no volume named 'cache' in the pod (volumes: none)"),
    ("pod_template.spec.containers.0.command", ["nginx", "-g", 1], CONTAINERS + "[0].command",
     "must be a list of strings"),
    ("pod_template.spec.containers", [], CONTAINERS, "must be a non-empty list of containers"),
    ("pod_template.spec.imagePullSecrets", ["ruoyi-registry"], VUE + "pod_template.spec.imagePullSecrets[0]",
     "must be {name: SECRET}, got 'ruoyi-registry'"),
    ("pod_template.spec.serviceAccountName", "Ruoyi_SA", VUE + "pod_template.spec.serviceAccountName",
     "is not a ServiceAccount name"),
    ("pod_template.spec.volumes", [{"name": "cache", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}],
     VUE + "pod_template.spec.volumes[1].name", "'cache' is listed twice"),
    ("pod_template.spec.initContainers", [{"name": "init", "image": "busybox:1.36",
                                           "readinessProbe": {"exec": {"command": ["true"]}}}],
     VUE + "pod_template.spec.initContainers[0].readinessProbe", "only as a sidecar (restartPolicy: Always)"),
    ("pod_template.metadata", {"labels": {"app": "vue"}}, VUE + "pod_template.metadata.labels.app",
     "'vue' is not the app's name 'ruoyi-vue'"),
    ("pod_template.metadata", {"labels": {"version": 2}}, VUE + "pod_template.metadata.labels.version",
     "label values are strings, got 2"),
    ("pod_template.metadata", {"annotations": {"prometheus.io/port": 9113}},
     VUE + "pod_template.metadata.annotations.prometheus.io/port", "annotation values are strings"),
    ("pod_template.metadata", {"labels": {"app.kubernetes.io/name": "ruoyi-vue"}},
     VUE + "pod_template.metadata.labels.app.kubernetes.io/name", "a key that extends 'app' with a dot"),
    ("pod_template.spec.containers.0.image", "ruoyi/ruoyi-vue:0.9.0", CONTAINERS + "[0].image",
     "'ruoyi/ruoyi-vue:0.9.0' is not the app's image 'ruoyi/ruoyi-vue:1.1.0'"),
    ("pod_template.kind", "Pod", VUE + "pod_template", "a pod template has metadata and spec"),
    ("port", 80, VUE + "port", "is for the short form"),
    ("manifest", DEPLOYMENT, VUE.rstrip("."), "give pod_template or manifest, not both"),
    ("imagee", "x", VUE.rstrip("."), "unknown field(s) imagee"),
    ("tier", "middle", VUE + "tier", "must be frontend or backend, got 'middle'"),
    ("routing", "mesh", VUE + "routing", "must be services"),
    ("image", "ruoyi/ruoyi-vue:v1;rm -rf", VUE + "image", "is not an image reference"),
    ("image", ..., VUE + "image", "an image reference is required"),
    ("hosts", [], VUE + "hosts", "a frontend needs the host names"),
    ("tls_secret", ..., VUE + "tls_secret", "a frontend needs the name of its TLS Secret"),
    ("gateway_selector", {"istio": 1}, VUE + "gateway_selector.istio", "label values are strings"),
    ("steps", [], VUE + "steps", "must be a non-empty list"),
    ("steps", [{"setWeight": 120}], VUE + "steps[0].setWeight", "must be from 0 to 100, got 120"),
    ("steps", [{"setWieght": 20}], VUE + "steps[0]", "unknown step 'setWieght'"),
    ("steps", [{"setWeight": 20, "pause": {}}], VUE + "steps[0]", "a step is a mapping with one key"),
    ("steps", [{"setHeaderRoute": {"match": []}}], VUE + "steps[0].setHeaderRoute.name", "needs the route's name"),
    ("replicas", 3, VUE + "replicas", "give replicas or replicas_per_weight, not both"),
    ("replicas_per_weight", 0, VUE + "replicas_per_weight", "must be an integer of at least 1, got 0"),
    ("namespace", "RuoYi", VUE + "namespace", "'RuoYi' is not a DNS label"),
    ("service_ports", [{"name": "http", "port": 80, "targetPort": "web"}], VUE + "service_ports[0].targetPort",
     "no container port named 'web' (named ports: http, metrics)"),
    ("container", "nginx", VUE + "container", "no container 'nginx' in the pod template"),
])
def test_each_bad_field_is_named(path, value, field, words):
    spec = two_containers(replicas_per_weight=1)
    _set(spec, path, value)
    errors = errors_of("ruoyi-vue", spec)
    assert any(e.startswith(field + ": ") and words in e for e in errors), errors


def test_several_containers_and_none_named_after_the_app_needs_container():
    spec = backend(pod_template={"spec": {"containers": [
        {"name": "app", "image": "ruoyi/ruoyi-system:1.0.0", "ports": [{"name": "http", "containerPort": 9201}]},
        {"name": "filebeat", "image": "docker.elastic.co/beats/filebeat:8.15.0"}]}})
    assert errors_of("ruoyi-system", spec) == [
        P + "ruoyi-system.container: the pod template has several containers (app, filebeat) and none is named "
            "after the app: say which one a release changes (container: NAME)"]


def test_every_problem_is_reported_at_once():
    spec = two_containers(routing="mesh", imagee=1)
    _set(spec, "pod_template.spec.containers.1.ports.0.containerPort", 0)
    _set(spec, "pod_template.spec.containers.0.env.0.value", True)
    errors = errors_of("ruoyi-vue", spec)
    fields = [e.split(": ")[0] for e in errors]
    assert fields == [VUE.rstrip("."), VUE + "routing", CONTAINERS + "[0].env[0].value",
                      CONTAINERS + "[1].ports[0].containerPort"], errors


@pytest.mark.parametrize("manifest,field,words", [
    ([DEPLOYMENT, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ruoyi-auth"}}],
     P + "ruoyi-auth.manifest", "holds Service ruoyi-auth: give a manifest with the app's Rollout or Deployment only"),
    ([], P + "ruoyi-auth.manifest", "must hold one Rollout or Deployment, found 0"),
    ([DEPLOYMENT, DEPLOYMENT], P + "ruoyi-auth.manifest", "must hold one Rollout or Deployment, found 2"),
    (dict(DEPLOYMENT, metadata={"name": "auth"}), P + "ruoyi-auth.manifest.metadata.name",
     "'auth' is not the app's name 'ruoyi-auth'"),
    (dict(DEPLOYMENT, metadata={"name": "ruoyi-auth", "namespace": "default"}),
     P + "ruoyi-auth.manifest.metadata.namespace", "'default' is not the app's namespace 'ruoyi'"),
    (dict(DEPLOYMENT, apiVersion="extensions/v1beta1"), P + "ruoyi-auth.manifest.apiVersion", "a Deployment is apps/v1"),
    ({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "ruoyi-auth"},
      "spec": {"template": DEPLOYMENT["spec"]["template"], "strategy": {"blueGreen": {}}}},
     P + "ruoyi-auth.manifest.spec.strategy.blueGreen", "the collection releases with a canary strategy"),
    ({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "ruoyi-auth"},
      "spec": {"workloadRef": {"kind": "Deployment", "name": "ruoyi-auth"}}},
     P + "ruoyi-auth.manifest.spec.workloadRef", "is not supported"),
    (dict(DEPLOYMENT, spec=dict(DEPLOYMENT["spec"], template={
        "metadata": {"labels": {"app": "ruoyi-auth"}}, "spec": {"containers": [{"name": "ruoyi-auth"}]}})),
     P + "ruoyi-auth.service_ports", "the released container 'ruoyi-auth' has no ports"),
])
def test_bad_manifests_are_named(manifest, field, words):
    spec = backend(image="ruoyi/ruoyi-auth:1.0.0", manifest=copy.deepcopy(manifest))
    errors = errors_of("ruoyi-auth", spec)
    assert any(e.startswith(field) and words in e for e in errors), errors


def test_a_manifest_read_from_a_file_is_named_with_its_path():
    spec = backend(image="ruoyi/ruoyi-auth:1.0.0", manifest=dict(DEPLOYMENT, metadata={"name": "auth"}))
    errors = errors_of("ruoyi-auth", spec, dict(SETTINGS, manifest_path="/inv/manifests/auth.yml"))
    assert errors[0].startswith(P + "ruoyi-auth.manifest(/inv/manifests/auth.yml).metadata.name: "), errors


@pytest.mark.parametrize("name", ["RuoYi", "1ruoyi", "ruoyi_vue", "r" * 57])
def test_bad_app_names(name):
    errors = errors_of(name, backend(port=80))
    assert errors[0].startswith(P + name + ": an app name is a DNS label"), errors


def test_no_member_to_place_on():
    assert errors_of("ruoyi-system", backend(port=80), {"namespace": "ruoyi", "weights": {}}) == [
        "members: no member cluster with a weight above 0 to place ruoyi-system on (is the members group empty?)"]


def test_check_catalogue_lists_every_app_s_problems():
    assert cat.check_catalogue(lab_apps(), SETTINGS) == []
    apps = {"a-ok": backend(port=80), "b-bad": backend(port=0), "c-bad": backend(tier="x", port=80)}
    assert cat.check_catalogue(apps, SETTINGS) == [
        P + "b-bad.port: must be an integer from 1 to 65535, got 0",
        P + "c-bad.tier: must be frontend or backend, got 'x'"]


# --- quantities, as k8s.io/apimachinery prints them ----------------------------------------------

# Every pair was checked against resource.Quantity's JSON round trip (apimachinery v0.32.3).
@pytest.mark.parametrize("given,printed", [
    ("0.5", "500m"), (1, "1"), (0.5, "500m"), (0.1, "100m"), ("1000m", "1"), ("1500m", "1500m"), ("3000m", "3"),
    ("1024Mi", "1Gi"), ("1.5Gi", "1536Mi"), ("2.5Gi", "2560Mi"), ("512Mi", "512Mi"), ("0.5Mi", "512Ki"),
    ("0.5Ki", "512"), ("1Ki", "1Ki"), ("1023Ki", "1023Ki"), ("2000M", "2G"), ("1000", "1k"), ("1000000", "1M"),
    ("1000k", "1M"), ("1500k", "1500k"), ("1024", "1024"), (1536, "1536"), ("1e3", "1e3"), ("1E3", "1e3"),
    ("10e2", "1e3"), ("12e6", "12e6"), ("5e-3", "5e-3"), ("100e-3", "100e-3"), ("1e0", "1"), ("0", "0"),
    ("0m", "0"), ("1.0", "1"), ("1.", "1"), (".5", "500m"), ("0.001", "1m"), ("0.0001", "100u"), ("0.1m", "100u"),
    ("1.0000000001", "1000000001n"), ("1e-10", "1e-9"), ("-1500m", "-1500m"), ("1e21", "1e21"), ("1Ei", "1Ei"),
])
def test_quantities_are_printed_as_kubernetes_prints_them(given, printed):
    assert cat.canonical_quantity(given) == printed


@pytest.mark.parametrize("bad", ["abc", "1.2.3", "1 Gi", "", "1KB", "2mi", True, None, [1]])
def test_what_is_not_a_quantity(bad):
    with pytest.raises(ValueError):
        cat.canonical_quantity(bad)


def test_dotted_key_collisions_name_the_path():
    obj = {"metadata": {"labels": {"app": "x", "app.kubernetes.io/name": "x", "tier": "y"}},
           "spec": {"list": [{"a": 1, "a.b": 2}]}}
    assert cat.dotted_key_collisions(obj) == [("metadata.labels.app.kubernetes.io/name", "app"),
                                              ("spec.list[0].a.b", "a")]


def test_a_manifest_path_is_read_by_the_filter_not_here():
    errors = errors_of("ruoyi-auth", backend(image="ruoyi/ruoyi-auth:1.0.0", manifest="manifests/auth.yml"))
    assert errors == [P + "ruoyi-auth.manifest: the file 'manifests/auth.yml' is not read here: the filter "
                          "multicluster.canary.app_manifests reads it (or give the object itself)"]


def test_an_unnamed_port_of_the_released_container_is_named_in_the_error():
    spec = two_containers()
    del spec["pod_template"]["spec"]["containers"][0]["ports"][0]["name"]
    del spec["pod_template"]["spec"]["containers"][0]["readinessProbe"]
    assert errors_of("ruoyi-vue", spec) == [
        CONTAINERS + "[0].ports[0].name: the Services expose the released container's ports by name (Istio tells the "
                     "protocol from it): name port 80 (http, grpc, ...), or give service_ports"]
    spec["service_ports"] = [{"name": "http", "port": 80, "targetPort": 80}]
    plan = cat.render_app("ruoyi-vue", spec, SETTINGS)
    assert plan["services"][0]["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"}]


# --- the onboarding digest: what a release compares to know there is nothing to onboard -------------

def _digest(spec, settings=None):
    return cat.render_app("ruoyi-vue", spec, SETTINGS if settings is None else settings)["rollout"]["metadata"][
        "annotations"]["multicluster.canary/onboarded"]


def test_the_onboarding_digest_leaves_the_image_a_rollout_is_created_with_out():
    base = _digest(two_containers())
    assert base == _digest(two_containers())
    assert base == _digest(two_containers(), dict(SETTINGS, image="ruoyi/ruoyi-vue:1.3.0"))


@pytest.mark.parametrize("change", [
    {"steps": [{"setWeight": 50}, {"pause": {}}]},
    {"hosts": ["other.example.com"]},
    {"tls_secret": "other-tls"},
    {"service_ports": [{"name": "http", "port": 8080, "targetPort": "http"}]},
])
def test_the_onboarding_digest_changes_with_what_onboarding_writes(change):
    assert _digest(two_containers(**change)) != _digest(two_containers())


@pytest.mark.parametrize("setting", [
    {"lane": {"source_labels": {"lane": "beta"}}},
    {"weights": dict((m, 2 if m == MEMBERS[0] else 1) for m in MEMBERS)},
    {"weights": dict((m, 1) for m in MEMBERS + ["k8s-master-hangzhou"])},
    {"namespace": "other"},
    {"replicas": 6},
])
def test_the_onboarding_digest_changes_with_the_inventory(setting):
    assert _digest(two_containers(), dict(SETTINGS, **setting)) != _digest(two_containers())


def test_the_onboarding_digest_of_a_backend_changes_with_its_lane_header():
    lane = dict(SETTINGS, lane={"header": "x-lane", "value": "beta"})
    assert _digest(backend(), lane) != _digest(backend())
