"""tools/lab's process environment: every lab process collects garbage at GOGC=50 unless told otherwise."""

from tools.lab.lab import LAB_GOGC, process_env


def test_lab_processes_get_the_lab_gogc():
    env = process_env({"PATH": "/bin", "HOME": "/root"}, {"KWOK_X": "1"})
    assert env == {"PATH": "/bin", "HOME": "/root", "KWOK_X": "1", "GOGC": LAB_GOGC} and LAB_GOGC == "50"


def test_gogc_in_the_environment_or_the_component_wins():
    assert process_env({"GOGC": "100"}, {})["GOGC"] == "100"
    assert process_env({"GOGC": "100"}, {"GOGC": "off"})["GOGC"] == "off"


def test_the_callers_environment_is_not_changed():
    environ = {"PATH": "/bin"}
    process_env(environ, {})
    assert environ == {"PATH": "/bin"}
