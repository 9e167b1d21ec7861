"""tools/lab version profiles: which profile a lab command uses, and what `up` does with data of another one.

No cluster is needed: the Lab object is built on a temporary state directory; a "running" lab is a real
process (`sleep`) behind a PID file, the way the lab records the processes it starts.
"""

import json
import subprocess
import time
from pathlib import Path

import pytest

from tools.lab import build
from tools.lab.lab import Lab, LabError


@pytest.fixture(autouse=True)
def _no_profile_in_env(monkeypatch):
    monkeypatch.delenv(build.PROFILE_ENV, raising=False)


@pytest.fixture
def versions_file(tmp_path, monkeypatch):
    """Point build at a versions.json of the test's own."""
    path = tmp_path / "versions.json"
    monkeypatch.setattr(build, "VERSIONS_FILE", path)

    def write(data):
        path.write_text(json.dumps(data))
        return path
    return write


def _profile(**changes):
    versions = {k: "v1.0.0" for k in build.VERSION_KEYS}
    versions.update(changes)
    return versions


def _semver(version):
    return tuple(int(x) for x in version.lstrip("v").split("-")[0].split("."))


@pytest.fixture
def running(tmp_path):
    """Make the lab in a state directory look started: a live process behind a component's PID file."""
    procs = []

    def start(state, comp_id="etcd/etcd"):
        proc = subprocess.Popen(["sleep", "60"])
        procs.append(proc)
        # Just after exec, /proc/PID/cmdline can still read empty for a moment; the lab checks it
        # against the PID file (a reused PID is not the component), so wait until it names the program.
        cmdline = Path("/proc/{0}/cmdline".format(proc.pid))
        deadline = time.monotonic() + 5
        while not cmdline.read_bytes().startswith(b"sleep\0") and time.monotonic() < deadline:
            time.sleep(0.01)
        pids = state / "pids"
        pids.mkdir(parents=True, exist_ok=True)
        (pids / (comp_id.replace("/", "__") + ".pid")).write_text("{0} sleep\n".format(proc.pid))
        return proc
    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def _record(state, profile):
    state.mkdir(parents=True, exist_ok=True)
    (state / "profile.json").write_text(json.dumps({"profile": profile, "versions": build.load_versions(profile)}))


# ---- the repository's versions.json ----------------------------------------------------------------

def test_repository_profiles_latest_is_the_default_and_not_older_than_min():
    data = build.load_profiles()
    assert data["default"] == "latest"
    assert {"min", "latest"} <= set(data["profiles"])
    lower, upper = data["profiles"]["min"], data["profiles"]["latest"]
    for key in build.VERSION_KEYS:
        assert _semver(upper[key]) >= _semver(lower[key]), key
    assert lower != upper


def test_each_profile_has_its_own_binaries_in_the_cache():
    """A component of a version is built once and found again by that version, whichever profile asks."""
    data = build.load_profiles()["profiles"]
    assert build.component_dir("karmada", data["min"]["karmada"]) != build.component_dir("karmada", data["latest"]["karmada"])
    assert build.crds_dir(data["min"]) != build.crds_dir(data["latest"])


# ---- choosing a profile --------------------------------------------------------------------------

def test_without_a_choice_the_default_profile(versions_file):
    versions_file({"default": "old", "profiles": {"old": _profile(), "new": _profile(karmada="v2.0.0")}})
    assert build.profile_name() == "old"
    assert build.load_versions()["karmada"] == "v1.0.0"


def test_the_environment_picks_the_profile_and_an_argument_beats_it(versions_file, monkeypatch):
    versions_file({"default": "old", "profiles": {"old": _profile(), "new": _profile(karmada="v2.0.0")}})
    monkeypatch.setenv(build.PROFILE_ENV, "new")
    assert build.profile_name() == "new"
    assert build.load_versions()["karmada"] == "v2.0.0"
    assert build.profile_name("old") == "old"


def test_an_empty_environment_variable_is_no_choice(versions_file, monkeypatch):
    """The Makefile exports MCC_LAB_PROFILE even when the user set nothing."""
    versions_file({"default": "old", "profiles": {"old": _profile(), "new": _profile()}})
    monkeypatch.setenv(build.PROFILE_ENV, "")
    assert build.profile_name() == "old"


def test_an_unknown_profile_names_the_variable_and_the_choices(versions_file, monkeypatch):
    versions_file({"default": "old", "profiles": {"old": _profile(), "new": _profile()}})
    monkeypatch.setenv(build.PROFILE_ENV, "newest")
    with pytest.raises(ValueError) as err:
        build.profile_name()
    assert "'newest'" in str(err.value)
    assert build.PROFILE_ENV in str(err.value)
    assert "new, old" in str(err.value)


def test_a_profile_without_a_component_version_is_refused(versions_file):
    broken = _profile()
    del broken["kwok"]
    versions_file({"default": "old", "profiles": {"old": _profile(), "new": broken}})
    with pytest.raises(ValueError, match=r"profile 'new' has no version for kwok"):
        build.profile_name("old")


def test_a_default_that_is_no_profile_is_refused(versions_file):
    versions_file({"default": "latest", "profiles": {"old": _profile()}})
    with pytest.raises(ValueError, match=r"default profile 'latest' is not one of old"):
        build.load_profiles()


def test_the_command_line_reports_a_bad_profile_before_doing_anything(tmp_path, monkeypatch, capsys):
    from tools.lab.__main__ import main

    monkeypatch.setenv("MCC_LAB_DIR", str(tmp_path / "lab"))
    assert main(["--profile", "nope", "status"]) == 2
    assert "unknown lab profile 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "lab").exists()


def test_help_lists_the_profiles_and_the_variable(capsys):
    from tools.lab.__main__ import main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert build.PROFILE_ENV in out
    for name, versions in build.load_profiles()["profiles"].items():
        assert "karmada {0}".format(versions["karmada"]) in out.split("\n  " + name, 1)[1].split("\n")[0]
    assert "latest (default)" in out


# ---- the lab's profile -----------------------------------------------------------------------------

def test_a_stopped_lab_uses_the_default_whatever_its_data(tmp_path):
    state = tmp_path / "lab"
    _record(state, "min")
    assert Lab(state=state).profile == "latest"


def test_commands_act_on_the_running_labs_profile(tmp_path, running):
    state = tmp_path / "lab"
    _record(state, "min")
    running(state)
    lab = Lab(state=state)
    assert lab.profile == "min"
    assert lab.versions == build.load_versions("min")


def test_a_profile_asked_for_beats_the_running_one(tmp_path, running, monkeypatch):
    state = tmp_path / "lab"
    _record(state, "latest")
    running(state)
    monkeypatch.setenv(build.PROFILE_ENV, "min")
    assert Lab(state=state).profile == "min"
    assert Lab(state=state, profile="latest").profile == "latest"


def test_up_with_another_profile_starts_from_fresh_data(tmp_path):
    state = tmp_path / "lab"
    _record(state, "latest")
    (state / "etcd" / "member").mkdir(parents=True)
    lab = Lab(state=state, profile="min")
    lab._settle_profile()
    assert not (state / "etcd").exists()
    assert json.loads((state / "profile.json").read_text()) == {"profile": "min", "versions": build.load_versions("min")}


def test_up_with_the_same_profile_keeps_the_data(tmp_path):
    state = tmp_path / "lab"
    _record(state, "latest")
    (state / "etcd" / "member").mkdir(parents=True)
    Lab(state=state, profile="latest")._settle_profile()
    assert (state / "etcd" / "member").is_dir()


def test_up_with_another_profile_refuses_while_the_lab_runs(tmp_path, running):
    state = tmp_path / "lab"
    _record(state, "latest")
    (state / "etcd" / "member").mkdir(parents=True)
    running(state)
    with pytest.raises(LabError) as err:
        Lab(state=state, profile="min")._settle_profile()
    assert "runs the latest profile" in str(err.value)
    assert "make lab-down" in str(err.value)
    assert "{0}=latest".format(build.PROFILE_ENV) in str(err.value)
    assert (state / "etcd" / "member").is_dir()
    assert json.loads((state / "profile.json").read_text())["profile"] == "latest"


def test_a_lab_from_before_profiles_is_adopted_as_min(tmp_path, running):
    """Its data has no profile.json: it ran the versions of the min profile, whatever the default is now."""
    state = tmp_path / "lab"
    (state / "etcd" / "member").mkdir(parents=True)
    running(state)
    lab = Lab(state=state)
    assert lab.profile == "min"
    lab._settle_profile()
    assert (state / "etcd" / "member").is_dir()
    assert json.loads((state / "profile.json").read_text())["profile"] == "min"
