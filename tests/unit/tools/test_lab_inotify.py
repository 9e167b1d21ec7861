"""tools/lab's inotify budget: `up` refuses before starting anything when the lab would not fit in the
user's fs.inotify.max_user_instances, and says which sysctl to raise. No cluster is needed."""

import pytest

from tools.lab import lab as labmod
from tools.lab.lab import Lab, LabError
from tools.lab.topology import Component


def _comps(n, each):
    return [Component("k8s-member-{0}".format(i), "kube-apiserver", ["kube-apiserver"], inotify=each)
            for i in range(n)]


@pytest.fixture
def limit(tmp_path, monkeypatch):
    """A limit of the test's own, and a fixed count of instances held (other labs on the machine come and go)."""
    path = tmp_path / "max_user_instances"
    monkeypatch.setattr(labmod, "INOTIFY_LIMIT", path)
    monkeypatch.setattr(labmod, "_inotify_instances_of_user", lambda: 100)

    def set_limit(value):
        path.write_text("{0}\n".format(value))
    return set_limit


def test_a_lab_that_does_not_fit_is_refused_with_the_sysctl_to_raise(tmp_path, limit):
    limit(110)
    with pytest.raises(LabError) as err:
        Lab(state=tmp_path / "lab").check_inotify(_comps(4, 3))
    text = str(err.value)
    assert "needs about 12 more inotify instances" in text
    assert "hold 100 of the 110 allowed" in text
    assert "fs.inotify.max_user_instances (now 110)" in text
    assert "sudo sysctl fs.inotify.max_user_instances=512" in text


def test_a_lab_that_fits_starts(tmp_path, limit):
    limit(112)
    Lab(state=tmp_path / "lab").check_inotify(_comps(4, 3))


def test_components_already_running_need_nothing_more(tmp_path, limit):
    limit(100)
    lab = Lab(state=tmp_path / "lab")
    lab.pid = lambda comp_id: 4242
    lab.check_inotify(_comps(4, 3))


def test_the_suggested_limit_covers_what_is_wanted():
    assert "max_user_instances=1024" in labmod.inotify_advice("x", 700)
