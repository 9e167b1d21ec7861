"""The automation identity, as users run the collection: a token kubeconfig for Karmada.

``make lab-up`` gives a ServiceAccount in Karmada a long-lived token and binds it to the
collection's RBAC (``docs/rbac/``) in Karmada and in every member; ``run_module`` connects
with that token kubeconfig. Through Karmada's cluster proxy, every read and write of a
member must land in that member, never in Karmada's own resource template:

- a Rollout of 4 replicas in Karmada divided 1:1:1:1 reads as 1 desired replica in each member;
- promote and abort change each member's Rollout, and leave Karmada's template alone;
- the same holds when the token comes from an exec credential plugin (what cloud logins and
  OIDC helpers give): the plugin runs, and the promote it authenticates lands in the members;
- an identity without ``clusters/proxy`` is refused, and the error names each cluster;
- an identity the members do not let ``watch`` Rollouts (the collection's member role less that verb) still
  promotes and waits: each member refuses the watch (403), the module reads it instead, every second, and
  warns naming the member and the missing grant.
"""

import json
import os
import stat
import subprocess
import sys

import pytest
import yaml

from test_karmada_propagation import interpreter  # noqa: F401  # pylint: disable=unused-import  # fixture
from test_rollout_promote import canary_at_step_1  # noqa: F401  # pylint: disable=unused-import  # fixture
from test_rollout_promote import NAME, WAIT, assert_ok, paused_at, rollout_manifest, states, wait_all

pytestmark = pytest.mark.lab

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLLOUT = "rollouts.argoproj.io"
SHORT = ["beijing", "shanghai", "guangzhou", "shenzhen"]


def karmada_rollout(lab, namespace):
    return lab.get(lab.karmada, ROLLOUT, NAME, namespace)


def template_view(obj):
    """What only a write to Karmada's template would change: its spec, generation and field managers.

    Its status is not in here: Karmada aggregates the members' status into it (the interpreter's
    AggregateStatus), so it follows the members, and so does its resourceVersion.
    """
    meta = obj["metadata"]
    managers = sorted(set((f.get("manager"), f.get("operation"), f.get("subresource", ""))
                          for f in meta.get("managedFields") or []))
    return {"generation": meta.get("generation"), "spec": obj["spec"], "managers": managers}


def assert_template_untouched(lab, namespace, before):
    after = template_view(karmada_rollout(lab, namespace))
    assert after["generation"] == before["generation"], "Karmada's Rollout template was written"
    assert after["spec"] == before["spec"], "Karmada's Rollout spec changed"
    new = [m for m in after["managers"] if m not in before["managers"]]
    # Karmada itself writes the aggregated status; nothing else may appear
    assert all(m[0].startswith("karmada") for m in new), "new writers of Karmada's template: {0}".format(new)


@pytest.fixture
def divided_canary(lab, namespace, run_module, interpreter):  # noqa: F811  # pylint: disable=redefined-outer-name
    """A Rollout of 4 replicas in Karmada, divided 1:1:1:1 by a policy written as the automation
    identity, updated in Karmada to a new image: every member paused at its first pause (step 1)."""
    assert interpreter["customizations"]
    lab.apply(rollout_manifest(namespace, "helloworld:stable"))
    policy = run_module("karmada_propagation", {
        "name": NAME, "namespace": namespace,
        "resource_selectors": [{"api_version": "argoproj.io/v1alpha1", "kind": "Rollout", "name": NAME}],
        "weights": dict((s, 1) for s in SHORT),
    })
    assert_ok(policy, True)
    wait_all(lab, namespace, lambda s: s[0] == "Healthy", "Healthy")
    image = json.dumps({"spec": {"template": {"spec": {"containers": [{"name": NAME, "image": "helloworld:canary"}]}}}})
    lab.kubectl("patch", ROLLOUT, NAME, "-n", namespace, "--type", "merge", "-p", image)
    wait_all(lab, namespace, paused_at(1), "paused at step 1")
    return namespace


def exec_plugin_kubeconfig(lab, tmp_path):
    """The automation identity's kubeconfig with its token given by an exec credential plugin.

    The plugin prints the token as a client.authentication.k8s.io ExecCredential and appends a line
    to a log each time it runs, so the test can tell it was used. Returns (kubeconfig path, log path).
    """
    with open(lab.kubeconfig_for("automation")) as f:
        config = yaml.safe_load(f)
    user = config["users"][0]
    token_file = tmp_path / "token"
    token_file.write_text(user["user"]["token"])
    token_file.chmod(0o600)
    log = tmp_path / "exec-plugin.log"
    plugin = tmp_path / "credential-plugin"
    plugin.write_text("\n".join([
        "#!" + sys.executable,
        "import json",
        "open({0!r}, 'a').write('ran\\n')".format(str(log)),
        "print(json.dumps({{'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        " 'status': {{'token': open({0!r}).read().strip()}}}}))".format(str(token_file)),
        ""]))
    plugin.chmod(0o700)
    user["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                             "interactiveMode": "Never"}}
    path = tmp_path / "kubeconfig-exec"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return str(path), log


def test_token_identity_reads_and_writes_each_member(lab, run_module, divided_canary, tmp_path):
    ns = divided_canary
    base = {"name": NAME, "namespace": ns}
    assert karmada_rollout(lab, ns)["spec"]["replicas"] == 4

    # status: each member's own numbers, as kubectl reads them in that member
    r = run_module("rollout_promote", base)
    assert_ok(r, False)
    assert sorted(r["clusters"]) == sorted(lab.members)
    for m in lab.members:
        member = lab.get(m, ROLLOUT, NAME, ns)
        s = r["rollouts"][m]
        assert member["spec"]["replicas"] == 1, (m, member["spec"])
        assert s["replicas"]["desired"] == 1, (m, s)
        assert s["step"] == member["status"]["currentStepIndex"] == 1, (m, s)
        assert s["pause_reason"] == "CanaryPauseStep", (m, s)
        assert s["current_image"] == "helloworld:canary"
    assert r["fleet"]["state"] == "aligned" and r["fleet"]["step"] == 1, r["fleet"]

    # promote, authenticated by an exec credential plugin: every member moves to its next pause;
    # Karmada's template is not written
    kubeconfig, plugin_log = exec_plugin_kubeconfig(lab, tmp_path)
    before = template_view(karmada_rollout(lab, ns))
    r = run_module("rollout_promote", dict(base, action="promote", kubeconfig=kubeconfig))
    assert_ok(r, True)
    assert plugin_log.exists() and plugin_log.read_text().count("ran"), "the exec credential plugin never ran"
    assert sorted(r["patches"]) == sorted(lab.members)
    wait_all(lab, ns, paused_at(3), "paused at step 3 after promote")
    for m in lab.members:
        member = lab.get(m, ROLLOUT, NAME, ns)
        assert member["status"]["currentStepIndex"] == 3 and not member["spec"].get("paused"), (m, member["status"])
    assert_template_untouched(lab, ns, before)

    # abort: every member's status says aborted; Karmada's template is not written
    r = run_module("rollout_promote", dict(base, action="abort", wait=True, wait_timeout=WAIT))
    assert_ok(r, True)
    assert all(r["rollouts"][m]["phase"] == "Aborted" for m in lab.members), r["fleet"]
    found = states(lab, ns)  # Argo's own status of an aborted Rollout: status.abort, back at step 0
    assert all(v[3] and v[1] == 0 for v in found.values()), found
    assert_template_untouched(lab, ns, before)


def _narrow_identity(lab, namespace, tmp_path):
    """A token kubeconfig for a ServiceAccount that may list clusters and read bindings, not proxy."""
    name = "narrow-" + namespace
    docs = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "narrow", "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
         "rules": [{"apiGroups": ["cluster.karmada.io"], "resources": ["clusters"], "verbs": ["get", "list"]},
                   {"apiGroups": ["work.karmada.io"], "resources": ["resourcebindings"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": "narrow", "namespace": namespace}]},
    ]
    lab.apply(docs)
    token = lab.kubectl("create", "token", "narrow", "-n", namespace, "--duration", "10m").strip()
    with open(lab.kubeconfig_for("automation")) as f:
        cluster = yaml.safe_load(f)["clusters"][0]
    config = {"apiVersion": "v1", "kind": "Config", "clusters": [cluster],
              "users": [{"name": "narrow", "user": {"token": token}}],
              "contexts": [{"name": lab.karmada, "context": {"cluster": cluster["name"], "user": "narrow"}}],
              "current-context": lab.karmada}
    path = tmp_path / "kubeconfig-narrow"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return name, str(path)


def test_denied_proxy_request_names_each_cluster(lab, run_module, namespace, tmp_path):
    name, kubeconfig = _narrow_identity(lab, namespace, tmp_path)
    try:
        r = run_module("rollout_promote", {"name": NAME, "namespace": namespace, "action": "promote",
                                           "kubeconfig": kubeconfig})
    finally:
        lab.kubectl("delete", "clusterrolebinding,clusterrole", name, "--ignore-not-found", check=False)
    assert r.get("failed") and r["changed"] is False, r
    assert sorted(r["failed_clusters"]) == sorted(lab.members), r
    assert not r.get("patches") and not r.get("rollouts"), r
    for m in lab.members:
        # Karmada refuses the proxy request itself, naming the cluster: the member is never asked
        assert '{0}: GET /apis/cluster.karmada.io/v1alpha1/clusters/{0}/proxy/apis/argoproj.io/'.format(m) in r["msg"]
        assert 'clusters.cluster.karmada.io "{0}" is forbidden'.format(m) in r["msg"], r["msg"]
    assert 'cannot get resource "clusters/proxy"' in r["msg"] and "(403)" in r["msg"], r["msg"]
    assert "system:serviceaccount:{0}:narrow".format(namespace) in r["msg"]


def _identity_without_watch(lab, namespace, name, tmp_path):
    """A token kubeconfig for a ServiceAccount of karmada-system (the groups the members let Karmada's proxy
    pass on, ``docs/rbac/member-binding.yml``) bound to the collection's Karmada role, whose user each member
    grants the collection's member role (``docs/rbac/member-clusterrole.yml``) less ``watch`` on rollouts.
    Every object made for it is called ``name``. Returns the kubeconfig's path once the proxy lets it read."""
    user = "system:serviceaccount:karmada-system:" + name
    with open(os.path.join(ROOT, "docs", "rbac", "member-clusterrole.yml")) as f:
        role = next(i for i in yaml.safe_load(f)["items"] if i["metadata"]["name"] == "multicluster-canary-member")
    rules = []
    for rule in role["rules"]:
        if "rollouts" in rule["resources"]:
            assert "watch" in rule["verbs"], rule  # what this test takes away
            rule = dict(rule, verbs=[v for v in rule["verbs"] if v != "watch"])
        rules.append(rule)
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}]}
    for m in lab.members:
        lab.apply([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
                    "rules": rules}, binding], context=m)
    lab.apply([
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "karmada-system"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "multicluster-canary"},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "karmada-system"}]},
    ])
    token = lab.kubectl("create", "token", name, "-n", "karmada-system", "--duration", "10m").strip()
    with open(lab.kubeconfig_for("automation")) as f:
        cluster = yaml.safe_load(f)["clusters"][0]
    config = {"apiVersion": "v1", "kind": "Config", "clusters": [cluster],
              "users": [{"name": "nowatch", "user": {"token": token}}],
              "contexts": [{"name": lab.karmada, "context": {"cluster": cluster["name"], "user": "nowatch"}}],
              "current-context": lab.karmada}
    path = tmp_path / "kubeconfig-nowatch"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)

    def granted():
        for m in lab.members:
            # each member's authorizer has the role: get and patch, no watch
            for verb, want in (("get", "yes"), ("patch", "yes"), ("watch", "no")):
                said = lab.kubectl("auth", "can-i", verb, "rollouts.argoproj.io", "-n", namespace, "--as", user,
                                   context=m, check=False).strip()
                if said != want:
                    raise AssertionError("{0}: can-i {1} rollouts: {2}".format(m, verb, said))
            # and Karmada's unified-auth controller lets the member's impersonator act as it (it takes a while)
            proc = subprocess.run(
                [os.path.join(lab.bin, "kubectl"), "--kubeconfig", str(path), "get", "--raw",
                 "/apis/cluster.karmada.io/v1alpha1/clusters/{0}/proxy/apis/argoproj.io/v1alpha1/namespaces/{1}/"
                 "rollouts/{2}".format(m, namespace, NAME)],
                capture_output=True, text=True, timeout=60, check=False)
            if proc.returncode != 0:
                raise AssertionError("{0}: through the proxy: {1}".format(m, proc.stderr.strip()))
        return True
    lab.wait_for(granted, timeout=90, what="the identity without watch, through Karmada's proxy")
    return str(path)


def test_an_identity_without_watch_promotes_and_waits_by_reading(lab, run_module, canary_at_step_1, tmp_path):
    """The read through a watch and the wait both fall back to reads on a real refusal (403), and say so."""
    ns = canary_at_step_1  # a Rollout in every member, paused at step 1
    name = "nowatch-" + ns
    try:
        kubeconfig = _identity_without_watch(lab, ns, name, tmp_path)
        r = run_module("rollout_promote", {"name": NAME, "namespace": ns, "action": "promote", "wait": True,
                                           "wait_timeout": WAIT, "kubeconfig": kubeconfig})
    finally:
        lab.kubectl("delete", "clusterrolebinding", name, "--ignore-not-found", check=False)
        lab.kubectl("delete", "serviceaccount", name, "-n", "karmada-system", "--ignore-not-found", check=False)
        for m in lab.members:
            lab.kubectl("delete", "clusterrolebinding,clusterrole", name, "--ignore-not-found", context=m, check=False)
    assert_ok(r, True)
    assert sorted(r["patches"]) == sorted(lab.members), r
    assert r["fleet"]["state"] == "aligned" and r["fleet"]["step"] == 3, r["fleet"]
    assert all(r["rollouts"][m]["step"] == 3 and r["rollouts"][m]["set_weight"] == 50 for m in lab.members), r
    # what each member holds, read as the admin straight from the member
    assert all(paused_at(3)(v) for v in states(lab, ns).values()), states(lab, ns)
    warnings = r.get("warnings") or []
    for m in lab.members:
        said = [w for w in warnings if w.startswith(m + ": the wait could not watch the Rollout")]
        assert len(said) == 1, (m, warnings)
        assert "grant `watch` on rollouts in the member" in said[0], said[0]
        assert 'cannot watch resource "rollouts"' in said[0], said[0]


def test_kubeconfig_is_a_token_kubeconfig(lab):
    """What users get: one context, Karmada's URL and CA, a bearer token, readable by its owner only."""
    path = lab.kubeconfig_for("automation")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        config = yaml.safe_load(f)
    assert [c["name"] for c in config["contexts"]] == [lab.karmada]
    assert set(config["users"][0]["user"]) == {"token"}
    with open(lab.kubeconfig) as f:
        admin = yaml.safe_load(f)
    want = [c for c in admin["clusters"] if c["name"] == lab.karmada][0]["cluster"]
    assert config["clusters"][0]["cluster"] == want
    proc = subprocess.run([os.path.join(lab.bin, "kubectl"), "--kubeconfig", path, "auth", "whoami", "-o", "json"],
                          capture_output=True, text=True, timeout=60, check=True)
    user = json.loads(proc.stdout)["status"]["userInfo"]
    assert user["username"] == "system:serviceaccount:karmada-system:multicluster-canary"
