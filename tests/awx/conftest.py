"""Run the job templates of awx/job_templates.yml the way AWX runs a job, against the local federation.

What AWX does, and what these fixtures do in its place:

- project sync: the project directory is a copy of the repository's files (those git would commit),
  and ``ansible-galaxy collection install -r collections/requirements.yml`` runs from it into the
  project's ``requirements_collections`` (awx/playbooks/project_update.yml); the root
  ``requirements.yml`` goes through ``ansible-galaxy install -r requirements.yml`` the same way;
- job: a fresh private data directory with ``project/``, ``inventory/hosts`` (an executable script
  printing the inventory as JSON, the way AWX hands inventories to ansible-runner), ``env/envvars``
  (the credential's injected variables, files in ``env/``) and the survey answers as extra vars,
  run by ``ansible_runner.run()``; ``ANSIBLE_COLLECTIONS_PATH`` is AWX's (the installed requirements,
  then the usual paths), and the execution environment's own collections (kubernetes.core from the
  ``ansible`` package) come from its Python path, as in an EE.

The inventory is the lab's (groups ``karmada`` and ``members``, the group vars of
``inventories/lab/group_vars``) without any kubeconfig or context: the credential is the connection.
"""

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import lab  # noqa: F401  pylint: disable=unused-import

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LAB_DIR = Path(os.environ.get("MCC_LAB_DIR", ROOT / ".lab"))


def load_job_templates():
    return yaml.safe_load((ROOT / "awx" / "job_templates.yml").read_text())["controller_templates"]


def load_workflows(path=None):
    return yaml.safe_load((path or ROOT / "awx" / "workflows.yml").read_text())["controller_workflows"]


def survey_answers(template, **answers):
    """The extra vars AWX sends for a launch: each question's default, then the given answers.

    Answers to multiple-choice questions must be among the choices (AWX refuses a launch otherwise);
    pass ``_check_choices=False`` for what the REST API or a stale survey lets through.
    """
    check = answers.pop("_check_choices", True)
    spec = template.get("survey_spec", {}).get("spec", []) if template.get("survey_enabled") else []
    questions = {q["variable"]: q for q in spec}
    unknown = set(answers) - set(questions)
    assert not unknown, "{0}: no survey question for {1}".format(template["name"], sorted(unknown))
    extra = {}
    for name, q in questions.items():
        if name in answers:
            value = answers[name]
        elif "default" in q:
            value = q["default"]
        else:
            assert not q.get("required"), "{0}: required question {1} has no default".format(template["name"], name)
            value = ""  # an optional text question left blank
        if check and q["type"] == "multiplechoice" and value not in (None, ""):
            assert value in q["choices"], "{0}: {1}={2!r} is not a choice {3}".format(
                template["name"], name, value, q["choices"])
        extra[name] = value
    return extra


def lab_inventory(lab_dir, hostvars=None):
    """The lab inventory as AWX would hold it: hosts, groups and their vars, no kubeconfig or context.

    ``hostvars``: host variables by member (for example ``multicluster_canary_wave``).
    """
    inv_dir = ROOT / "inventories" / "lab"
    hosts = yaml.safe_load((inv_dir / "hosts.yml").read_text())["all"]["children"]
    all_vars = yaml.safe_load((inv_dir / "group_vars" / "all.yml").read_text())
    for name in ("multicluster_canary_kubeconfig", "multicluster_canary_context"):
        all_vars.pop(name, None)
    # Paths relative to the lab inventory become the lab's own files (an AWX inventory would give
    # real paths or PEM text); the self-signed pair is then the lab's, not a new one.
    text = json.dumps(all_vars).replace("{{ inventory_dir }}/../../.lab", str(lab_dir))
    all_vars = json.loads(text)
    groups = {}
    for group, body in hosts.items():
        vars_file = inv_dir / "group_vars" / (group + ".yml")
        groups[group] = {
            "hosts": sorted((body or {}).get("hosts") or {}),
            "vars": yaml.safe_load(vars_file.read_text()) if vars_file.exists() else {},
        }
    inventory = {"all": {"children": sorted(groups) + ["ungrouped"], "vars": all_vars}}
    inventory.update(groups)
    members = [h for g in groups.values() for h in g["hosts"]]
    inventory["_meta"] = {"hostvars": {h: dict((hostvars or {}).get(h) or {}) for h in members}}
    return inventory


def ansible_env(**extra):
    """The developer's environment without its Ansible settings, with the venv's binaries first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CONTROLLER_", "TOWER_"))}
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PATH=str(VENV_BIN) + os.pathsep + env.get("PATH", ""))
    env.update(extra)
    return env


def generate(inventory, out_dir, *extra_args):
    """ansible-playbook -i INVENTORY awx/generate.yml, writing into out_dir; returns the finished process."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "awx" / "generate.yml"),
                           "-e", json.dumps({"awx_generate_dir": str(out_dir)})] + list(extra_args),
                          cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    return proc


def project_files():
    """The repository's files a commit would hold (tracked, plus new ones not ignored)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def galaxy_env(collections_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATHS=str(collections_dir),  # what project_update.yml sets
               PATH=str(VENV_BIN) + os.pathsep + env.get("PATH", ""))
    return env


class AwxProject:
    """One project sync: the checkout copy and the collections its requirements installed."""

    def __init__(self, base):
        self.base = base
        self.project = base / "project"
        self.collections = base / "requirements_collections"
        for f in project_files():
            dest = self.project / f
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest)
        env = galaxy_env(self.collections)
        self.galaxy_output = []
        for cmd in (["ansible-galaxy", "collection", "install", "-r", "collections/requirements.yml",
                     "-p", str(self.collections)],
                    ["ansible-galaxy", "install", "-r", "requirements.yml"]):
            proc = subprocess.run([str(VENV_BIN / cmd[0])] + cmd[1:], cwd=self.project, env=env,
                                  capture_output=True, text=True, timeout=300, check=False)
            self.galaxy_output.append(proc.stdout + proc.stderr)
            assert proc.returncode == 0, "{0} failed in the project:\n{1}{2}".format(" ".join(cmd), proc.stdout, proc.stderr)


def bearer_token_credential(lab_dir):
    """The inputs of AWX's "OpenShift or Kubernetes API Bearer Token" credential from the lab's token kubeconfig."""
    path = lab_dir / "kubeconfig-automation"
    if not path.exists():
        return None
    config = yaml.safe_load(path.read_text())
    current = config.get("current-context") or config["contexts"][0]["name"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == current)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    if cluster.get("certificate-authority-data"):
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    else:
        ca = Path(cluster["certificate-authority"]).read_text()
    token = user.get("token") or Path(user["tokenFile"]).read_text().strip()
    return {"host": cluster["server"], "bearer_token": token, "verify_ssl": True, "ssl_ca_cert": ca}


def inject_bearer_token(cred, env, env_dir):
    """What AWX's kubernetes_bearer_token injector puts in a job's environment."""
    env["K8S_AUTH_HOST"] = cred["host"]
    env["K8S_AUTH_API_KEY"] = cred["bearer_token"]
    if cred.get("verify_ssl") and cred.get("ssl_ca_cert"):
        env["K8S_AUTH_VERIFY_SSL"] = "True"
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as f:
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            f.write(cred["ssl_ca_cert"])
        env["K8S_AUTH_SSL_CA_CERT"] = path
    else:
        env["K8S_AUTH_VERIFY_SSL"] = "False"


def inject_kubeconfig(kubeconfig_text, context, env, env_dir):
    """A custom credential type: the kubeconfig as a file (AWX's tower.filename) and its context."""
    handle, path = tempfile.mkstemp(dir=env_dir)
    with os.fdopen(handle, "w") as f:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        f.write(kubeconfig_text)
    env["K8S_AUTH_KUBECONFIG"] = path
    env["K8S_AUTH_CONTEXT"] = context


def job_artifacts(runner):
    """What AWX keeps as a job's artifacts: the set_stats data (per_host false) of its stats event."""
    for event in runner.events:
        if event.get("event") == "playbook_on_stats":
            return dict((event.get("event_data") or {}).get("artifact_data") or {})
    return {}


class Job:
    def __init__(self, runner, pdd, template, extravars):
        self.status = runner.status
        self.rc = runner.rc
        self.stdout = runner.stdout.read() if runner.stdout else ""
        self.artifacts = job_artifacts(runner)
        self.pdd = pdd
        self.template = template
        self.extravars = extravars

    def __repr__(self):
        errors = [line for line in self.stdout.splitlines() if line.startswith(("fatal:", "failed:", "[ERROR]"))]
        return "<job {0} {1} rc={2} extravars={3}>\n{4}\n...\n{5}".format(
            self.template, self.status, self.rc, self.extravars, "\n".join(errors)[-4000:], self.stdout[-3000:])


class Awx:
    """Launches the job templates of awx/job_templates.yml with ansible-runner, AWX style."""

    def __init__(self, project, base, lab_dir, credential, namespace, hostvars=None):
        self.project = project
        self.base = base
        self.lab_dir = lab_dir
        self.credential = credential  # ("bearer", inputs) or ("kubeconfig", (text, context))
        self.namespace = namespace
        self.templates = {t["name"]: t for t in load_job_templates()}
        self.launched = []
        self.inventory = lab_inventory(lab_dir, hostvars)

    def template(self, short):
        return self.templates["multicluster-canary " + short]

    def launch(self, short, credential=None, **answers):
        """Launch a job template with its survey's answers (defaults, then the given answers)."""
        template = self.template(short)
        return self.run(template, survey_answers(template, **answers), credential=credential)

    def run(self, template, extravars, credential=None):
        """Run a job of ``template`` with these extra vars (what AWX computed for the launch)."""
        import ansible_runner  # pylint: disable=import-outside-toplevel

        short = template["name"].split(" ", 1)[-1]
        # The job template's own extra vars (the lowest precedence): this test's namespace;
        # AWX adds its awx_* variables.
        extravars = dict({"multicluster_canary_namespace": self.namespace}, **extravars)
        extravars.update(awx_job_id=len(self.launched) + 1, awx_job_template_name=template["name"],
                         tower_job_id=len(self.launched) + 1)
        pdd = self.base / "job-{0:02d}-{1}".format(len(self.launched) + 1, short)
        shutil.copytree(self.project.project, pdd / "project", symlinks=True)
        shutil.copytree(self.project.collections, pdd / "requirements_collections", symlinks=True)
        (pdd / "inventory").mkdir()
        script = pdd / "inventory" / "hosts"
        script.write_text("#!{0}\nprint({1!r})\n".format(sys.executable, json.dumps(self.inventory)))
        script.chmod(0o700)
        env_dir = pdd / "env"
        env_dir.mkdir()
        envvars = {
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
                [str(pdd / "requirements_collections"), "~/.ansible/collections", "/usr/share/ansible/collections"]),
            "ANSIBLE_ROLES_PATH": os.pathsep.join(
                [str(pdd / "requirements_roles"), "~/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"]),
            "ANSIBLE_FORCE_COLOR": "False",
            "ANSIBLE_NOCOLOR": "1",
            "PATH": str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""),
        }
        kind, inputs = credential or self.credential
        if kind == "bearer":
            inject_bearer_token(inputs, envvars, env_dir)
        else:
            inject_kubeconfig(inputs[0], inputs[1], envvars, env_dir)
        (env_dir / "envvars").write_text(yaml.safe_dump(envvars))
        (env_dir / "envvars").chmod(0o600)
        # Nothing of the developer's shell may reach the job: only the EE's PATH and what AWX injects.
        saved = {k: os.environ.pop(k) for k in list(os.environ)
                 if k.startswith(("ANSIBLE_", "K8S_AUTH_")) or k == "KUBECONFIG"}
        try:
            runner = ansible_runner.run(private_data_dir=str(pdd), playbook=template["playbook"],
                                        inventory=str(script), extravars=extravars, quiet=True,
                                        timeout=900)
        finally:
            os.environ.update(saved)
        job = Job(runner, pdd, template["name"], extravars)
        self.launched.append(template["name"])
        return job


def survey_variables(template):
    spec = (template.get("survey_spec") or {}).get("spec", []) if template.get("survey_enabled") else []
    return [q["variable"] for q in spec]


def node_extra_vars(template, extra_data, artifacts, workflow_vars):
    """The extra vars AWX gives the job of a workflow node (WorkflowJobNode.get_job_kwargs, then the launch).

    Lowest to highest: the job template's survey defaults; the node's extra_data, only the variables
    its survey asks (or all with ask_variables_on_launch); the artifacts (set_stats) of the nodes
    before it; the workflow job's extra vars (the workflow template's, then its survey answers).
    """
    spec = (template.get("survey_spec") or {}).get("spec", []) if template.get("survey_enabled") else []
    extra = {q["variable"]: q["default"] for q in spec if "default" in q}
    asked = survey_variables(template)
    extra.update({k: v for k, v in (extra_data or {}).items()
                  if template.get("ask_variables_on_launch") or k in asked})
    extra.update({k: v for k, v in artifacts.items() if k != "_ansible_no_log"})
    extra.update(workflow_vars)
    return extra


class WorkflowJob:
    """One launch of a workflow of awx/workflows.yml, node by node, the way AWX's workflow manager runs it.

    A job template node runs its job (``Awx.run``) with the vars AWX gives it (``node_extra_vars``); an
    approval node is approved or denied by the test (denied, like timed out, is its failure). The
    artifacts a node's job sets (set_stats) are carried to the nodes it leads to, with those it was given.
    """

    def __init__(self, awx, workflow, **answers):
        self.awx = awx
        self.workflow = workflow
        self.nodes = {n["identifier"]: n for n in workflow["simplified_workflow_nodes"]}
        self.vars = dict(workflow.get("extra_vars") or {})
        self.vars.update(survey_answers(workflow, **answers))
        children = set(c for n in self.nodes.values() for kind in ("success_nodes", "failure_nodes", "always_nodes")
                       for c in n.get(kind) or [])
        roots = [i for i in self.nodes if i not in children]
        assert len(roots) == 1, "{0}: one start node expected, not {1}".format(workflow["name"], roots)
        self.pending = roots
        self.carried = {}
        self.ran = []  # (identifier, status, job or None)

    @property
    def next(self):
        return self.pending[0] if self.pending else None

    def run_next(self, approve=True):
        identifier = self.pending.pop(0)
        node = self.nodes[identifier]
        given = self.carried.get(identifier, {})
        if "approval_node" in node:
            job, own = None, {}
            status = "successful" if approve else "failed"
        else:
            template = self.awx.templates[node["unified_job_template"]]
            job = self.awx.run(template, node_extra_vars(template, node.get("extra_data"), given, self.vars))
            status, own = job.status, job.artifacts
        passed = dict(given, **own)
        following = list(node.get("success_nodes" if status == "successful" else "failure_nodes") or [])
        following += node.get("always_nodes") or []
        for child in following:
            self.carried.setdefault(child, {}).update(passed)
            if child not in self.pending:
                self.pending.append(child)
        self.ran.append((identifier, status, job))
        return identifier, status, job


@pytest.fixture(scope="session")
def awx_project(tmp_path_factory):
    return AwxProject(tmp_path_factory.mktemp("awx-project"))


@pytest.fixture(scope="module")
def awx(lab, awx_project, tmp_path_factory, request):  # noqa: F811  pylint: disable=redefined-outer-name
    """An AWX for the test module, in a namespace of its own; the module's AWX_HOSTVARS(lab) gives host vars."""
    lab_dir = Path(lab.kubeconfig).resolve().parent
    bearer = bearer_token_credential(lab_dir)
    if bearer:
        credential = ("bearer", bearer)
    else:
        credential = ("kubeconfig", (Path(lab.kubeconfig).read_text(), lab.karmada))
    namespace = "t-awx-" + uuid.uuid4().hex[:6]
    client = Awx(awx_project, tmp_path_factory.mktemp("awx-jobs"), lab_dir, credential, namespace,
                 hostvars=getattr(request.module, "AWX_HOSTVARS", lambda lab: None)(lab))
    yield client
    lab.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
