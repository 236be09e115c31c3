"""ClusterRole aggregation, done once on request, because no kube-controller-manager runs here.

The built-in ``admin``, ``edit`` and ``view`` roles carry only an ``aggregationRule``: their rules are
filled in by kube-controller-manager's clusterrole-aggregation controller from every ClusterRole
labelled ``rbac.authorization.k8s.io/aggregate-to-<role>: "true"``. Without that controller a binding
to ``edit`` grants nothing. ``ControlPlane.aggregate_cluster_roles`` calls ``aggregate`` after start
and whenever a caller has added labelled ClusterRoles (for example chargeops' own, which aggregate
into ``edit`` and ``view``), then applies the result the way the controller does.

The rules follow the controller (``pkg/controller/clusterroleaggregation``): for each selector in
order, the matching roles sorted by name, each rule once, the role itself skipped. Aggregated roles
can feed each other (``view`` aggregates into ``edit``, ``edit`` into ``admin``), so this repeats
until nothing changes, as the controller's requeues do.
"""

from collections.abc import Mapping, Sequence
from typing import Any

# The controller's own field manager, so a later real controller-manager would own these fields.
FIELD_MANAGER = "clusterrole-aggregation-controller"

# Aggregation chains are short (view -> edit -> admin); a cycle should not spin forever.
_MAX_ROUNDS = 10


def aggregate(cluster_roles: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The new ``rules`` of every aggregated ClusterRole whose rules are out of date, by name."""
    rules = {role["metadata"]["name"]: list(role.get("rules") or []) for role in cluster_roles}
    labels = {role["metadata"]["name"]: dict(role["metadata"].get("labels") or {}) for role in cluster_roles}
    selectors = {
        role["metadata"]["name"]: role["aggregationRule"].get("clusterRoleSelectors") or []
        for role in cluster_roles
        if role.get("aggregationRule")
    }
    for _ in range(_MAX_ROUNDS):
        changed = False
        for name, role_selectors in selectors.items():
            new_rules = _collect(name, role_selectors, rules=rules, labels=labels)
            if new_rules != rules[name]:
                rules[name] = new_rules
                changed = True
        if not changed:
            break
    original = {role["metadata"]["name"]: list(role.get("rules") or []) for role in cluster_roles}
    return {name: rules[name] for name in selectors if rules[name] != original[name]}


def matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy a Kubernetes label selector (``matchLabels`` and ``matchExpressions``)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _collect(
    name: str,
    role_selectors: Sequence[Mapping[str, Any]],
    *,
    rules: Mapping[str, list[dict[str, Any]]],
    labels: Mapping[str, Mapping[str, str]],
) -> list[dict[str, Any]]:
    collected: list[dict[str, Any]] = []
    for selector in role_selectors:
        for other in sorted(labels):
            if other == name or not matches(selector, labels[other]):
                continue
            for rule in rules[other]:
                if rule not in collected:
                    collected.append(rule)
    return collected
