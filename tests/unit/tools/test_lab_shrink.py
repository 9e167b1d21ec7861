"""tools/lab shrinking: `--members 4 up` after a larger lab removes from Karmada the Clusters of the members it
stopped, and only those. No cluster is needed."""

import json

from tools.lab.lab import Lab
from tools.lab.topology import stray_clusters


def test_only_the_clusters_of_members_the_lab_no_longer_runs_are_stray():
    four = ["k8s-master-beijing", "k8s-master-shanghai", "k8s-master-guangzhou", "k8s-master-shenzhen"]
    assert stray_clusters(four + ["k8s-member-5", "k8s-member-16", "prod-east", "k8s-member-x"], four) == [
        "k8s-member-16", "k8s-member-5"]
    # the lab never names a member k8s-member-1..4 (those are the four named ones): such a Cluster is someone else's
    # (nor k8s-member-05)
    assert stray_clusters(four + ["k8s-member-1", "k8s-member-4", "k8s-member-05", "k8s-member-7"], four) == [
        "k8s-member-7"]
    assert stray_clusters(four, four[:2]) == ["k8s-master-guangzhou", "k8s-master-shenzhen"]
    # a fifth member onboarded by hand in a 5-member lab is the lab's own: not stray
    assert stray_clusters(four + ["k8s-member-5"], four + ["k8s-member-5"]) == []


def test_up_deletes_the_stray_clusters_in_one_kubectl_and_waits_until_karmada_lets_them_go(tmp_path):
    lab = Lab(state=tmp_path / "lab", members=4)
    calls = []
    in_karmada = lab.members + ["k8s-member-5", "k8s-member-6"]

    def kubectl(cluster, *args, **kwargs):
        calls.append(args)
        if args[:2] == ("get", "clusters"):
            names = list(in_karmada)
            if any(c[0] == "delete" for c in calls) and len([c for c in calls if c[0] == "get"]) > 3:
                in_karmada[4:] = []  # Karmada lets them go after a while
            return json.dumps({"items": [{"metadata": {"name": n}} for n in names]})
        return ""

    lab.kubectl = kubectl
    lab.remove_stray_clusters(timeout=30, interval=0)
    assert calls[1] == ("delete", "clusters", "k8s-member-5", "k8s-member-6", "--wait=false")
    assert in_karmada == lab.members and calls[-1][:2] == ("get", "clusters")


def test_a_cluster_karmada_keeps_is_a_warning_not_a_failed_up(tmp_path, capsys):
    lab = Lab(state=tmp_path / "lab", members=4)
    lab.kubectl = lambda cluster, *args, **kwargs: json.dumps({"items": [
        {"metadata": {"name": n}} for n in lab.members + ["k8s-member-5"]]}) if args[0] == "get" else ""
    lab.remove_stray_clusters(timeout=0.05, interval=0.01)
    assert "warning: Karmada still has the clusters k8s-member-5" in capsys.readouterr().out


def test_nothing_stray_nothing_deleted(tmp_path):
    six = Lab(state=tmp_path / "lab", members=6)
    calls = []
    six.kubectl = lambda cluster, *args, **kwargs: calls.append(args) or json.dumps({"items": [
        {"metadata": {"name": n}} for n in six.members]})
    six.remove_stray_clusters()
    assert calls == [("get", "clusters", "-o", "json")]
