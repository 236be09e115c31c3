"""A corpus of manifests with one mistake each: the API server refuses each with a message that says what
to fix, and stores nothing. Each file's `# expect:` line is the message it must produce."""

from pathlib import Path

import pytest
import yaml

from chargeops.devcluster.controlplane import NamespacedKubectl

CORPUS = sorted((Path(__file__).parent / "invalid").glob("*.yaml"))


def expected_message(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# expect: "):
            return line.removeprefix("# expect: ")
    raise AssertionError(f"{path.name} has no '# expect:' line")


def test_corpus_has_at_least_thirty_mistakes() -> None:
    assert len(CORPUS) >= 30  # issue #8: a corpus of at least 30 invalid custom resources


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_api_server_refuses_with_a_specific_message(kubectl: NamespacedKubectl, path: Path) -> None:
    result = kubectl("apply", "-f", str(path), check=False)
    assert result.returncode != 0, f"{path.name} was accepted"
    # Both shapes are the server's own status messages: nothing here is checked by kubectl alone.
    assert result.stderr.startswith(("The ", "Error from server")), result.stderr
    assert expected_message(path) in result.stderr, result.stderr
    manifest = yaml.safe_load(path.read_text())
    lookup = kubectl("get", manifest["kind"].lower(), manifest["metadata"]["name"], check=False)
    assert "NotFound" in lookup.stderr
