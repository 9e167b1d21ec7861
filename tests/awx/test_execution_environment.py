"""The execution environment definition, through ansible-builder itself (no container engine here, so no image).

``ansible-builder create`` turns execution-environment.yml into a build context; the test reads what the
image build would do from it: the base image and Python, the ansible-core and ansible-runner the tests run
with, the collections the playbooks use, the Python libraries the modules import. ``ansible-builder
introspect`` reads the collection's meta/execution-environment.yml the way a build that installs the
collection does.
"""

import re
import subprocess
from importlib.metadata import version

import pytest
import yaml
from packaging.requirements import Requirement

from tests.awx.conftest import ROOT, VENV_BIN, ansible_env

FQCN = re.compile(r"^\s*-?\s*([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+:\s*$", re.M)
ROLE_FQCN = re.compile(r"\bname:\s+([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+\s*$", re.M)


def builder(*args, cwd=ROOT):
    proc = subprocess.run([str(VENV_BIN / "ansible-builder")] + list(args), cwd=cwd, env=ansible_env(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def requirements(lines):
    found = {}
    for line in lines.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            found[req.name.lower()] = req
    return found


@pytest.fixture(scope="module")
def definition():
    return yaml.safe_load((ROOT / "execution-environment.yml").read_text())


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    out = tmp_path_factory.mktemp("ee") / "context"
    builder("create", "--file", "execution-environment.yml", "--context", str(out), "--output-filename", "Containerfile")
    return out


def test_create_writes_the_build_context(context, definition):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="{0}"'.format(definition["images"]["base_image"]["name"]) in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile).group(1)
    assert "ansible-core" in refs and "ansible-runner" in refs, refs
    # the stages of an EE: collections installed from _build/requirements.yml, Python deps of every
    # collection gathered by introspection plus ours, then the final image with ansible-runner's entrypoint
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "introspect.py introspect --user-pip=requirements.txt" in containerfile
    assert 'LABEL ansible-execution-environment=true' in containerfile
    for name in ("requirements.txt", "requirements.yml", "scripts/assemble", "scripts/introspect.py"):
        assert (context / "_build" / name).is_file(), name


def test_the_image_runs_the_ansible_the_tests_run(context):
    """The ansible-core and ansible-runner pins take the versions `make test` runs with."""
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', (context / "Containerfile").read_text()).group(1)
    pins = {}
    for ref in re.findall(r"(ansible-(?:core|runner)\S*)", refs):
        req = Requirement(ref)
        pins[req.name] = req
    assert set(pins) == {"ansible-core", "ansible-runner"}, refs
    for name, req in pins.items():
        assert req.specifier.contains(version(name)), "{0} {1} is not {2}".format(name, version(name), req)


def test_the_collections_the_playbooks_use_are_installed(context):
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    installed = set(c["name"] for c in galaxy["collections"])
    used = set()
    for path in list((ROOT / "playbooks").rglob("*.yml")) + list((ROOT / "roles").rglob("*.yml")):
        text = path.read_text()
        used.update(FQCN.findall(text))
        used.update(ROLE_FQCN.findall(text))
    used -= {"ansible.builtin", "multicluster.canary"}  # ansible-core's own, and the project's collection
    assert used, "no collection found in the playbooks: the pattern is wrong"
    assert used <= installed, "used but not in the EE: {0}".format(sorted(used - installed))


def test_the_python_libraries_the_collection_declares_are_installed(context):
    """What ansible-builder reads from meta/execution-environment.yml is in the EE's own Python requirements."""
    proc = builder("introspect", "--sanitize", str(ROOT / "build" / "collections"))
    data = yaml.safe_load(proc.stdout.split("---", 1)[1])
    declared = requirements("\n".join(data["python"]))
    assert "kubernetes" in declared, data
    assert any("from collection multicluster.canary" in line for line in data["python"]), data
    assert data["system"] == []
    user = requirements((context / "_build" / "requirements.txt").read_text())
    for name, req in declared.items():
        assert name in user and str(user[name].specifier) == str(req.specifier), (name, req, user.get(name))
    # and they are what the modules run with here
    for name, req in user.items():
        assert req.specifier.contains(version(name)), "{0} {1} is not {2}".format(name, version(name), req)
