"""tools/lab shrinking: `--members 4 up` after a larger lab removes from Karmada the Clusters of the members it
stopped, and only those. No cluster is needed."""

import json

from tools.lab.lab import Lab
from tools.lab.topology import stray_clusters


def test_only_the_clusters_of_members_the_lab_no_longer_runs_are_stray():
    four = ["k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou", "k8s-master-shenzhen"]
    assert stray_clusters(four + ["k8s-member-5", "k8s-member-16", "prod-east", "k8s-member-x"], four) == [
        "k8s-member-16", "k8s-member-5"]
    assert stray_clusters(four, four[:2]) == ["k8s-master-guangzhou", "k8s-master-shenzhen"]
    # a fifth member onboarded by hand in a 5-member lab is the lab's own: not stray
    assert stray_clusters(four + ["k8s-member-5"], four + ["k8s-member-5"]) == []


def test_up_deletes_the_stray_clusters_in_one_kubectl(tmp_path):
    lab = Lab(state=tmp_path / "lab", members=4)
    calls = []

    def kubectl(cluster, *args, **kwargs):
        calls.append(args)
        if args[:2] == ("get", "clusters"):
            names = lab.members + ["k8s-member-5", "k8s-member-6"]
            return json.dumps({"items": [{"metadata": {"name": n}} for n in names]})
        return ""

    lab.kubectl = kubectl
    lab.remove_stray_clusters(timeout=60)
    assert calls[1] == ("delete", "clusters", "k8s-member-5", "k8s-member-6", "--timeout=60s")
    calls.clear()
    six = Lab(state=tmp_path / "lab", members=6)
    six.kubectl = kubectl
    six.remove_stray_clusters()
    assert calls == [("get", "clusters", "-o", "json")]  # nothing stray: nothing deleted
