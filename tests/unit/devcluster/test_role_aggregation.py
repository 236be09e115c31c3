"""ClusterRole aggregation matches kube-controller-manager: labelled roles feed aggregated ones, in chains."""

from typing import Any

from chargeops.devcluster import aggregation

READ_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
WRITE_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}
READ_CHARGERS = {"apiGroups": ["chargeops.io"], "resources": ["chargers"], "verbs": ["get"]}


def _role(name: str, *, labels: dict[str, str] | None = None, rules: list[Any] | None = None, **extra: Any) -> Any:
    return {"metadata": {"name": name, "labels": labels or {}}, "rules": rules, **extra}


def _aggregated(name: str, *, to: str, rules: list[Any] | None = None, labels: dict[str, str] | None = None) -> Any:
    selector = {"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{to}": "true"}}
    return _role(name, labels=labels, rules=rules, aggregationRule={"clusterRoleSelectors": [selector]})


def test_labelled_roles_fill_an_empty_aggregated_role() -> None:
    roles = [
        _aggregated("view", to="view"),
        _role(
            "system:aggregate-to-view",
            labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"},
            rules=[READ_PODS],
        ),
        _role("chargeops-view", labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"}, rules=[READ_CHARGERS]),
        _role("unrelated", rules=[WRITE_PODS]),
    ]

    assert aggregation.aggregate(roles) == {"view": [READ_CHARGERS, READ_PODS]}


def test_aggregation_follows_chains_like_view_into_edit() -> None:
    roles = [
        _aggregated("edit", to="edit"),
        _aggregated("view", to="view", labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"}),
        _role(
            "system:aggregate-to-edit",
            labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
            rules=[WRITE_PODS],
        ),
        _role(
            "system:aggregate-to-view",
            labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"},
            rules=[READ_PODS],
        ),
    ]

    updates = aggregation.aggregate(roles)

    assert updates["view"] == [READ_PODS]
    assert updates["edit"] == [WRITE_PODS, READ_PODS]


def test_up_to_date_roles_and_duplicate_rules_are_left_alone() -> None:
    roles = [
        _aggregated("view", to="view", rules=[READ_PODS]),
        _role("a", labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"}, rules=[READ_PODS]),
        _role("b", labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"}, rules=[READ_PODS, READ_PODS]),
    ]

    assert aggregation.aggregate(roles) == {}


def test_match_expressions_select_like_kubernetes() -> None:
    labels = {"tier": "gold", "team": "ev"}

    assert aggregation.matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]}, labels)
    assert not aggregation.matches(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}, labels
    )
    assert aggregation.matches({"matchExpressions": [{"key": "team", "operator": "Exists"}]}, labels)
    assert not aggregation.matches({"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}, labels)
    assert not aggregation.matches({"matchLabels": {"tier": "silver"}}, labels)
    assert aggregation.matches({}, labels)
