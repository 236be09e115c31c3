"""Static identities: the token file kube-apiserver reads, and the RBAC that tells them apart."""

import csv
import io

from chargeops.devcluster import identities


def test_every_identity_gets_its_own_random_token() -> None:
    first, second = identities.generate(), identities.generate()

    tokens = [user.token for user in first.values()]
    assert len(set(tokens)) == len(tokens) == 4
    assert all(len(token) >= 40 for token in tokens)
    assert first[identities.EDITOR].token != second[identities.EDITOR].token


def test_token_file_is_csv_of_token_user_uid_and_quoted_groups() -> None:
    users = [
        identities.Identity(name="editor", groups=("chargeops:editors",), token="t1"),
        identities.Identity(name="both", groups=("a", "b"), token="t2"),
    ]

    text = identities.token_file(users)

    assert text == 't1,editor,editor,"chargeops:editors"\nt2,both,both,"a,b"\n'
    assert list(csv.reader(io.StringIO(text))) == [
        ["t1", "editor", "editor", "chargeops:editors"],
        ["t2", "both", "both", "a,b"],
    ]


def test_generated_tokens_never_break_the_csv() -> None:
    for user in identities.generate().values():
        assert "," not in user.token
        assert '"' not in user.token


def test_admin_is_a_cluster_master_and_the_others_are_not() -> None:
    groups = identities.IDENTITY_GROUPS

    assert groups[identities.ADMIN] == ("system:masters",)
    assert all("system:masters" not in groups[name] for name in groups if name != identities.ADMIN)


def test_rbac_binds_writers_to_edit_and_viewers_to_view() -> None:
    items = identities.rbac_manifest()["items"]
    bound = {
        item["roleRef"]["name"]: sorted(subject["name"] for subject in item["subjects"])
        for item in items
        if item["kind"] == "ClusterRoleBinding"
    }

    assert bound == {
        "edit": ["chargeops:editors", "chargeops:super-admins"],
        "view": ["chargeops:viewers"],
        "chargeops-test-crd-access": ["chargeops:editors", "chargeops:super-admins"],
    }


def test_crd_access_role_covers_only_the_chargeops_api_group() -> None:
    (role,) = [item for item in identities.rbac_manifest()["items"] if item["kind"] == "ClusterRole"]

    assert role["rules"] == [{"apiGroups": ["chargeops.io"], "resources": ["*"], "verbs": ["*"]}]


def test_token_is_hidden_from_repr() -> None:
    user = identities.Identity(name="viewer", groups=("chargeops:viewers",), token="s3cret")

    assert "s3cret" not in repr(user)
