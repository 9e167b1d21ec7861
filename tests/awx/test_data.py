"""The AWX data of awx/ as AWX and awx.awx take it, without a lab or an AWX server.

- awx/job_templates.yml and awx/workflows.yml are what awx/generate.yml writes from the lab inventory
  (the surveys' app choices are the catalogue's apps; one workflow per app, from its pauses and the
  members' waves);
- a workflow for several waves has the graph the README describes, and its nodes give their job
  templates only variables those accept, and never a variable the set_stats of an earlier node overrides;
- surveys pass AWX's own survey checks, and awx/load.yml's module arguments pass the argument specs of
  the awx.awx modules the ``ansible`` package bundles (each task is run against a closed port: a module
  whose arguments are wrong fails before it connects, naming them).
"""

import json
import re
import socket
import subprocess

import pytest
import yaml

from tests.awx.conftest import ROOT, VENV_BIN, ansible_env, generate, load_job_templates, load_workflows

TEMPLATES = "multicluster-canary "
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "integer": int, "float": (float, int),
                "multiplechoice": str, "multiselect": (str, list)}


def lab_catalogue():
    return yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all.yml").read_text())["multicluster_canary_apps"]


def lab_members():
    return sorted(yaml.safe_load((ROOT / "inventories" / "lab" / "hosts.yml").read_text())
                  ["all"]["children"]["members"]["hosts"])


def waved_inventory(tmp_path, waves):
    """A copy of the lab inventory with host_vars giving each member its wave."""
    inventory = tmp_path / "inventory"
    subprocess.run(["cp", "-r", str(ROOT / "inventories" / "lab"), str(inventory)], check=True)
    for member, wave in waves.items():
        (inventory / "host_vars" / (member + ".yml")).write_text("multicluster_canary_wave: {0}\n".format(wave))
    return inventory


def chain(workflow):
    """The nodes in the order a workflow runs them when everything succeeds."""
    nodes = {n["identifier"]: n for n in workflow["simplified_workflow_nodes"]}
    children = set(c for n in nodes.values() for k in ("success_nodes", "failure_nodes") for c in n[k])
    current = [i for i in nodes if i not in children]
    assert len(current) == 1, current
    order = []
    while current:
        order.append(current[0])
        current = nodes[current[0]]["success_nodes"]
        assert len(current) <= 1, order
    return order


def pauses(app):
    return sum(1 for step in lab_catalogue()[app]["steps"] if "pause" in step)


# --- generated, not typed ------------------------------------------------------------------------

def test_checked_in_data_is_what_the_lab_catalogue_generates(tmp_path):
    """Edit the catalogue (or templates/job_templates.yml.j2) and forget awx/generate.yml: this fails."""
    proc = generate(ROOT / "inventories" / "lab", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("job_templates.yml", "workflows.yml"):
        assert (tmp_path / name).read_text() == (ROOT / "awx" / name).read_text(), (
            "awx/{0} differs from what the lab inventory generates: run "
            "`ansible-playbook -i inventories/lab awx/generate.yml`".format(name))


def test_survey_app_choices_and_workflows_are_the_catalogue():
    apps = list(lab_catalogue())
    for template in load_job_templates():
        for question in (template.get("survey_spec") or {}).get("spec", []):
            if question["variable"] == "app":
                extra = ["all"] if template["playbook"] == "playbooks/onboard.yml" else []
                assert question["choices"] == extra + apps, template["name"]
    assert [w["extra_vars"]["app"] for w in load_workflows()] == apps


def test_generate_names_a_bad_wave(tmp_path):
    inventory = waved_inventory(tmp_path, {lab_members()[0]: "first"})
    proc = generate(inventory, tmp_path / "out")
    assert proc.returncode != 0
    assert "multicluster_canary_wave of {0}: 'first' is not a wave number".format(lab_members()[0]) in proc.stdout, \
        proc.stdout[-3000:]
    assert not (tmp_path / "out" / "workflows.yml").exists()


# --- the workflow's graph --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_waves(tmp_path_factory):
    """The workflows for the lab's members in two waves (the first two members, then the others)."""
    base = tmp_path_factory.mktemp("waves")
    members = lab_members()
    waves = {m: (1 if i < 2 else 2) for i, m in enumerate(members)}
    proc = generate(waved_inventory(base, waves), base / "out", "-e", "awx_approval_timeout=86400")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {w["extra_vars"]["app"]: w for w in load_workflows(base / "out" / "workflows.yml")}, waves


@pytest.mark.parametrize("app", list(lab_catalogue()))
def test_workflow_runs_wave_by_wave_with_an_approval_before_each_promotion(two_waves, app):
    workflows, waves = two_waves
    workflow = workflows[app]
    expected = []
    for wave in (1, 2):
        if wave > 1:
            expected.append("wave-{0}-approval".format(wave))
        expected.append("wave-{0}-canary".format(wave))
        for number in range(1, pauses(app) + 1):
            expected += ["wave-{0}-pause-{1}-approval".format(wave, number), "wave-{0}-pause-{1}-promote".format(wave, number)]
    assert chain(workflow) == expected
    nodes = {n["identifier"]: n for n in workflow["simplified_workflow_nodes"]}
    assert set(nodes) == set(expected) | {"abort"}
    for identifier in expected:
        node = nodes[identifier]
        assert node["failure_nodes"] == ["abort"], identifier
        if identifier.endswith("approval"):
            assert node["approval_node"]["timeout"] == 86400
            wave = int(identifier.split("-")[1])
            clusters = [m for m, w in sorted(waves.items()) if w == wave]
            assert ", ".join(clusters) in node["approval_node"]["description"], node
        elif identifier.endswith("canary"):
            assert node["unified_job_template"] == TEMPLATES + "canary"
            assert node["extra_data"] == {"wave": int(identifier.split("-")[1])}
        else:
            assert node["unified_job_template"] == TEMPLATES + "promote"
            # the step index of the pause its approval was for, as Argo counts steps
            number = int(identifier.split("-")[3])
            steps = lab_catalogue()[app]["steps"]
            pause_steps = [i for i, step in enumerate(steps) if "pause" in step]
            assert node["extra_data"] == {"full": "false", "from_step": pause_steps[number - 1]}
    abort = nodes["abort"]
    assert abort["unified_job_template"] == TEMPLATES + "abort"
    assert abort["success_nodes"] == [] and abort["failure_nodes"] == []
    assert abort["all_parents_must_converge"] is False
    assert workflow["extra_vars"] == {"app": app}


def test_the_example_federation_gets_two_waves(tmp_path):
    """inventories/example (seed 000's federation): Beijing first, then the other three, every app."""
    proc = generate(ROOT / "inventories" / "example", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for workflow in load_workflows(tmp_path / "workflows.yml"):
        nodes = {n["identifier"]: n for n in workflow["simplified_workflow_nodes"]}
        assert "wave-2-canary" in nodes and "wave-3-canary" not in nodes, sorted(nodes)
        assert "(k8s-master-beijing)" in nodes["wave-1-pause-1-approval"]["approval_node"]["description"]
        assert "k8s-master-guangzhou, k8s-master-shanghai, k8s-master-shenzhen" in \
            nodes["wave-2-approval"]["approval_node"]["description"]


def test_lab_workflows_have_one_wave():
    for workflow in load_workflows():
        app = workflow["extra_vars"]["app"]
        order = chain(workflow)
        assert order[0] == "wave-1-canary" and len(order) == 1 + 2 * pauses(app), order
        assert not any(i.startswith("wave-2") for i in order)


def test_nodes_give_their_templates_only_what_the_surveys_ask():
    """AWX drops a node's extra_data that the job template's survey does not ask (without ask_variables_on_launch)."""
    templates = {t["name"]: t for t in load_job_templates()}
    for workflow in load_workflows():
        for node in workflow["simplified_workflow_nodes"]:
            if "unified_job_template" not in node:
                continue
            template = templates[node["unified_job_template"]]
            questions = {q["variable"]: q for q in template["survey_spec"]["spec"]} if template.get("survey_enabled") else {}
            for name, value in (node.get("extra_data") or {}).items():
                assert name in questions, (workflow["name"], node["identifier"], name)
                question = questions[name]
                if question["type"] == "multiplechoice":
                    assert value in question["choices"], (node["identifier"], name, value)
                if question["type"] == "integer":
                    assert question.get("min", value) <= value <= question.get("max", value), (node["identifier"], name)


def set_stats_keys():
    """The variables the stage playbooks pass on with set_stats (an AWX job's artifacts)."""
    keys = {}
    for path in sorted((ROOT / "playbooks").glob("*.yml")):
        for play in yaml.safe_load(path.read_text()) or []:
            for task in play.get("tasks") or []:
                stats = task.get("ansible.builtin.set_stats")
                if stats:
                    assert stats.get("per_host") is False, "{0}: AWX keeps only per_host: false stats".format(path.name)
                    keys[path.name] = set(stats["data"])
    return keys


def test_artifacts_never_override_what_a_node_gives():
    """Artifacts take precedence over a node's extra_data: set_stats must not pass `wave`, `full`, ..."""
    stats = set_stats_keys()
    assert {"canary.yml", "promote.yml", "abort.yml"} <= set(stats), stats
    given = set(k for w in load_workflows() for n in w["simplified_workflow_nodes"] for k in n.get("extra_data") or {})
    for playbook, keys in stats.items():
        assert not keys & given, (playbook, keys & given)
        # a rollback's image is the image to go back to: an `image` from rollback.yml would mislead the next node
        assert playbook != "rollback.yml" or "image" not in keys


# --- AWX's survey checks ----------------------------------------------------------------------------

def check_survey(survey):
    """The checks of AWX's survey_spec endpoint (JobTemplateSurveySpec._validate_spec_data)."""
    assert isinstance(survey.get("name"), str) and isinstance(survey.get("description"), str), survey
    assert isinstance(survey.get("spec"), list) and survey["spec"], "a survey needs questions"
    seen = set()
    for question in survey["spec"]:
        for field, kind in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
            assert isinstance(question.get(field), kind), (field, question)
        assert question["variable"] not in seen, question
        seen.add(question["variable"])
        assert question["type"] in SURVEY_TYPES, question
        if question.get("default", "") != "":
            assert isinstance(question["default"], SURVEY_TYPES[question["type"]]), question
        for key in ("min", "max"):
            assert question.get(key) is None or isinstance(question[key], int), question
        if question["type"] in ("multiplechoice", "multiselect"):
            assert question.get("choices"), question
            if "default" in question:
                defaults = question["default"].splitlines() if isinstance(question["default"], str) else question["default"]
                assert question["type"] != "multiplechoice" or len(defaults) <= 1, question
                assert all(d in question["choices"] for d in defaults), question


def test_surveys_pass_awx_checks():
    for template in load_job_templates() + load_workflows():
        if template.get("survey_enabled"):
            check_survey(template["survey_spec"])
            # a blank optional text answer must be possible (AWX sends "")
            for question in template["survey_spec"]["spec"]:
                if question["type"] == "text" and not question["required"]:
                    assert question.get("min", 0) == 0, (template["name"], question["variable"])


# --- awx/load.yml against the awx.awx modules' argument specs ------------------------------------

NETWORK_ERROR = re.compile(r"error .*trying to connect to https://127\.0\.0\.1:\d+/api/")


@pytest.fixture(scope="module")
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_load(closed_port, *args):
    """awx/load.yml as a user runs it, against a controller address where nothing listens."""
    env = ansible_env(CONTROLLER_HOST="https://127.0.0.1:{0}".format(closed_port),
                      CONTROLLER_OAUTH_TOKEN="token-of-no-controller", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(ROOT / "awx" / "load.yml")] + list(args),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    return json.loads(proc.stdout[proc.stdout.index("{"):]), proc


def load_tasks():
    return [t["name"] for t in yaml.safe_load((ROOT / "awx" / "load.yml").read_text())[0]["tasks"]]


@pytest.mark.parametrize("task", load_tasks())
def test_load_passes_the_awx_modules_argument_specs(closed_port, task):
    """Each item reaches the controller: the module took its arguments (a wrong one fails before, naming it)."""
    result, proc = run_load(closed_port, "--start-at-task", task)
    ran = [t for t in result["plays"][0]["tasks"] if t["task"]["name"] == task]
    assert ran, proc.stdout[-2000:] + proc.stderr[-2000:]
    outcome = ran[0]["hosts"]["localhost"]
    items = outcome.get("results") or [outcome]
    called = [item for item in items if not item.get("skipped")]
    assert called, outcome
    for item in called:
        assert NETWORK_ERROR.search(item.get("msg", "")), (task, item.get("msg"), item.get("invocation"))
    nodes = [n for w in load_workflows() for n in w["simplified_workflow_nodes"]]
    if task.startswith("Create or update each workflow node"):
        assert len(called) == len(nodes)
    if task.startswith("Link each workflow node"):
        # only the abort nodes lead nowhere
        assert len(called) == len([n for n in nodes if n["identifier"] != "abort"])


def test_a_wrong_argument_fails_before_connecting(closed_port, tmp_path):
    """The check above can fail: an argument the module does not take is refused before any connection."""
    playbook = tmp_path / "bad.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "A node with a misspelt option",
        "awx.awx.workflow_job_template_node": {"workflow_job_template": "w", "identifier": "n",
                                               "unified_job_template": "t", "sucess_nodes": ["x"]}}]}]))
    env = ansible_env(CONTROLLER_HOST="https://127.0.0.1:{0}".format(closed_port),
                      CONTROLLER_OAUTH_TOKEN="token-of-no-controller", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(playbook)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    result = json.loads(proc.stdout[proc.stdout.index("{"):])
    msg = result["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
    assert "Unsupported parameters" in msg and "sucess_nodes" in msg, msg


def test_approval_nodes_pass_the_documented_suboptions():
    """approval_node is a plain dict to the module's argument spec; its documented suboptions are checked here."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel

    proc = subprocess.run([str(VENV_BIN / "ansible-doc"), "-j", "awx.awx.workflow_job_template_node"], env=ansible_env(),
                          capture_output=True, text=True, timeout=120, check=True)
    doc = json.loads(proc.stdout)["awx.awx.workflow_job_template_node"]["doc"]
    suboptions = doc["options"]["approval_node"]["suboptions"]
    spec = {name: {"type": o.get("type", "str"), "required": bool(o.get("required"))} for name, o in suboptions.items()}
    validator = ArgumentSpecValidator(spec)
    count = 0
    for workflow in load_workflows():
        for node in workflow["simplified_workflow_nodes"]:
            if "approval_node" in node:
                result = validator.validate(node["approval_node"])
                assert not result.error_messages, (node["identifier"], result.error_messages)
                count += 1
    assert count
