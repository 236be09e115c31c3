"""The Argo CD health scripts, run as real Lua on sample objects, and the argocd-cm fragment made from them.

Argo CD runs a health script from argocd-cm in gopher-lua (Lua 5.1) with only the base, table, package and
a safe os library open, the object in the global ``obj``. lupa's ``lua51`` module is the reference Lua 5.1,
sandboxed here to the libraries the scripts may rely on. Each kind's ``health_test.yaml`` lists its samples
with the health Argo CD must show, in Argo CD's own resource_customizations test format.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from lupa import lua51

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import conditions
from chargeops.cli.main import cli
from chargeops.crdgen import argocd

ROOT = Path(__file__).resolve().parents[3]
HEALTH_DIR = ROOT / argocd.HEALTH_DIR
SNIPPET = ROOT / argocd.SNIPPET
KINDS = {kind.names.kind: kind for kind in v1alpha1.KINDS}
ARGO_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended"}

# Ready=False reasons that mean "it failed, look at it", beside the spec errors (docs/argocd-health.md).
FAILURES = (
    conditions.CHARGER_OFFLINE,
    conditions.GATEWAY_UNREACHABLE,
    conditions.CONVERGENCE_FAILED,
    conditions.STRIPE_FAILED,
)

# Argo CD opens no string or math library for argocd-cm scripts (util/lua/lua.go runLua), and never io or debug.
_SANDBOX = """
getmetatable("").__index = nil
string, math, io, debug, coroutine, loadstring, dofile, loadfile = nil, nil, nil, nil, nil, nil, nil, nil
"""


def script(kind: str) -> str:
    return argocd.script_path(HEALTH_DIR, kind).read_text()


def health(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """Run ``kind``'s script on ``obj`` in a fresh Lua 5.1, as Argo CD does, and return hs."""
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    chunk = lua.compile(script(kind))
    lua.execute(_SANDBOX)
    lua.globals().obj = _to_lua(lua, obj)
    hs = chunk()
    return {key: hs[key] for key in ("status", "message")}


def _to_lua(lua: Any, value: Any) -> Any:
    """JSON-shaped Python to Lua as Argo CD's decodeValue does: maps and arrays to tables, null to nil."""
    if isinstance(value, Mapping):
        table = lua.table()
        for key, item in value.items():
            table[key] = _to_lua(lua, item)
        return table
    if isinstance(value, list):
        return lua.table(*(_to_lua(lua, item) for item in value))
    return value


def _samples() -> list[Any]:
    params = []
    for kind in KINDS:
        tests = yaml.safe_load((argocd.script_path(HEALTH_DIR, kind).parent / "health_test.yaml").read_text())
        for test in tests["tests"]:
            params.append(pytest.param(kind, test["inputPath"], test["healthStatus"], id=f"{kind}-{test['inputPath']}"))
    return params


def _load(kind: str, input_path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((argocd.script_path(HEALTH_DIR, kind).parent / input_path).read_text())
    return loaded


def _object(kind: str, ready_status: str, reason: str, message: str) -> dict[str, Any]:
    """A minimal object whose operator observed generation 2 and set Ready as given."""
    ready = {"type": "Ready", "status": ready_status, "reason": reason, "message": message}
    status = {"observedGeneration": 2, "conditions": [ready]}
    return {"apiVersion": v1alpha1.API_VERSION, "kind": kind, "metadata": {"generation": 2}, "status": status}


SAMPLES = _samples()


@pytest.mark.parametrize(("kind", "input_path", "expected"), SAMPLES)
def test_sample_gets_the_health_its_test_file_expects(kind: str, input_path: str, expected: dict[str, str]) -> None:
    assert health(kind, _load(kind, input_path)) == expected


@pytest.mark.parametrize(("kind", "input_path", "expected"), SAMPLES)
def test_sample_is_a_valid_object_of_its_kind(kind: str, input_path: str, expected: dict[str, str]) -> None:
    obj = _load(kind, input_path)
    assert obj["kind"] == kind
    KINDS[kind].model_validate(obj)
    assert expected["status"] in ARGO_STATUSES
    assert expected["message"]


def test_there_are_samples_for_every_kind_and_every_health() -> None:
    seen = {(kind, expected["status"]) for kind, _, expected in (p.values for p in SAMPLES)}
    assert len(SAMPLES) >= 30
    for kind in KINDS:
        assert {"Healthy", "Progressing", "Degraded"} <= {status for k, status in seen if k == kind}
    assert ("Charger", "Suspended") in seen
    assert ("Subscription", "Suspended") in seen


@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_file_is_listed_in_the_test_file(kind: str) -> None:
    folder = argocd.script_path(HEALTH_DIR, kind).parent
    listed = {test["inputPath"] for test in yaml.safe_load((folder / "health_test.yaml").read_text())["tests"]}
    assert {f"testdata/{p.name}" for p in (folder / "testdata").glob("*.yaml")} == listed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reason", sorted(conditions.WAITING_FOR_PERSON))
def test_ready_false_waiting_for_a_person_is_suspended(kind: str, reason: str) -> None:
    hs = health(kind, _object(kind, "False", reason, f"Waiting: {reason}."))
    assert hs == {"status": "Suspended", "message": f"Waiting: {reason}."}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reason", sorted(conditions.SPEC_ERRORS) + sorted(FAILURES))
def test_ready_false_for_a_spec_error_or_a_failure_is_degraded(kind: str, reason: str) -> None:
    hs = health(kind, _object(kind, "False", reason, f"Broken: {reason}."))
    assert hs == {"status": "Degraded", "message": f"Broken: {reason}."}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reason", [conditions.PROGRESSING, conditions.DEPENDENCY_NOT_READY, "SomethingNew"])
def test_ready_false_for_any_other_reason_is_progressing(kind: str, reason: str) -> None:
    hs = health(kind, _object(kind, "False", reason, ""))
    assert hs == {"status": "Progressing", "message": f"Ready is False: {reason}."}


def _stalled(kind: str, reason: str, message: str) -> dict[str, Any]:
    """``_object`` with Ready False and Stalled True for ``reason``, as the operator writes them together."""
    obj = _object(kind, "False", reason, message)
    obj["status"]["conditions"].append({"type": "Stalled", "status": "True", "reason": reason, "message": message})
    return obj


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reason", sorted(conditions.WAITING_FOR_PERSON))
def test_stalled_waiting_for_a_person_is_suspended_not_degraded(kind: str, reason: str) -> None:
    assert health(kind, _stalled(kind, reason, f"Waiting: {reason}.")) == {
        "status": "Suspended",
        "message": f"Waiting: {reason}.",
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reason", sorted(conditions.SPEC_ERRORS))
def test_stalled_on_a_spec_error_is_degraded(kind: str, reason: str) -> None:
    assert health(kind, _stalled(kind, reason, f"Broken: {reason}.")) == {
        "status": "Degraded",
        "message": f"Broken: {reason}.",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_a_generation_the_operator_has_not_seen_is_progressing_whatever_ready_says(kind: str) -> None:
    obj = _object(kind, "True", conditions.SUCCEEDED, "All good.")
    obj["metadata"]["generation"] = 12
    expected = {"status": "Progressing", "message": "Waiting for the operator to observe generation 12."}
    assert health(kind, obj) == expected


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reason", sorted(conditions.WAITING_FOR_PERSON | conditions.SPEC_ERRORS) + sorted(FAILURES))
def test_every_reason_of_the_contract_is_named_in_the_script(kind: str, reason: str) -> None:
    # A reason added to conditions.py's sets must be added to every script: a text check, so it fails on sight.
    assert re.search(rf"\b{reason} = true\b", script(kind)), f"{kind}/health.lua does not name {reason}"


# Lua 5.2+ syntax and library calls gopher-lua (Lua 5.1) would reject, and the libraries Argo CD does not open.
_NOT_LUA51 = {
    "goto": r"\bgoto\b",
    "label": r"::\w+::",
    "integer division": r"//",
    "bitwise operator": r"[&|]|~(?!=)|<<|>>",
    "5.2+ library": r"\b(table\.(pack|unpack|move)|utf8\.|string\.pack|math\.(type|tointeger))\b",
    "library Argo CD does not open": r"\b(string|math|io|debug|coroutine)\.",
    "string method call": r"\):\w+\(|\w:\w+\(",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("feature", _NOT_LUA51)
def test_script_uses_only_what_argo_cds_lua_51_offers(kind: str, feature: str) -> None:
    code = _code_only(script(kind))
    assert not re.search(_NOT_LUA51[feature], code), f"{kind}/health.lua uses a {feature}"


@pytest.mark.parametrize("kind", KINDS)
def test_script_leaves_no_globals_behind(kind: str) -> None:
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    before = set(lua.globals())
    lua.globals().obj = _to_lua(lua, _object(kind, "True", conditions.SUCCEEDED, "ok"))
    lua.execute(script(kind))
    assert set(lua.globals()) - before == {"obj"}


def _code_only(source: str) -> str:
    """The script without comments and string literals, where tokens like `//` may appear harmlessly."""
    without_comments = re.sub(r"--[^\n]*", "", source)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', without_comments)


# The argocd-cm fragment is generated from the scripts; any drift fails here and in `argocd-health --check`.


def test_committed_fragment_matches_the_scripts() -> None:
    assert argocd.stale(HEALTH_DIR, SNIPPET) == []


def test_fragment_holds_every_script_byte_for_byte() -> None:
    config_map = yaml.safe_load(SNIPPET.read_text())
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["name"] == "argocd-cm"
    assert config_map["data"] == {argocd.config_key(kind): script(kind) for kind in KINDS}


def test_helm_values_hold_the_same_keys_under_configs_cm() -> None:
    values = yaml.safe_load(argocd.render_helm_values(argocd.scripts(HEALTH_DIR)))
    assert values["configs"]["cm"] == yaml.safe_load(SNIPPET.read_text())["data"]


def test_check_command_passes_on_the_committed_fragment() -> None:
    args = ["argocd-health", "--check", "--health-dir", str(HEALTH_DIR), "--output", str(SNIPPET)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_check_command_fails_when_a_script_changes(tmp_path: Path) -> None:
    health_dir = tmp_path / "health"
    for kind in KINDS:
        copy = argocd.script_path(health_dir, kind)
        copy.parent.mkdir(parents=True)
        copy.write_text(script(kind))
    charger = argocd.script_path(health_dir, "Charger")
    charger.write_text(charger.read_text().replace("ChargerOffline = true, ", ""))
    args = ["argocd-health", "--check", "--health-dir", str(health_dir), "--output", str(SNIPPET)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "argocd-cm-health.yaml differs" in result.output


def test_generation_writes_the_fragment(tmp_path: Path) -> None:
    output = tmp_path / "argocd-cm-health.yaml"
    result = CliRunner().invoke(cli, ["argocd-health", "--health-dir", str(HEALTH_DIR), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text() == SNIPPET.read_text()


def test_a_missing_script_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["argocd-health", "--check", "--health-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "cannot read the health scripts" in result.output
