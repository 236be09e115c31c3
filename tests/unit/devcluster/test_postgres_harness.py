"""The throwaway PostgreSQL harness: it finds Debian's server or says how to install it, never skips."""

from pathlib import Path

import pytest

from chargeops.devcluster import errors, postgres


def test_missing_server_binaries_name_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.BIN_ENV, str(tmp_path))

    with pytest.raises(errors.PostgresNotFoundError) as caught:
        postgres.find_binaries()

    assert "make system-deps" in str(caught.value)
    assert caught.value.reason == "PostgresNotFound"


def test_a_configured_folder_with_the_binaries_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("initdb", "postgres"):
        (tmp_path / name).touch()
    monkeypatch.setenv(postgres.BIN_ENV, str(tmp_path))

    assert postgres.find_binaries() == tmp_path


def test_a_database_gets_its_own_url_and_goes_away(postgres_server: postgres.PostgresServer) -> None:
    url = postgres_server.create_database("harness_check")

    assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres_server.port}/harness_check"
    assert "harness_check" in postgres_server.psql("SELECT datname FROM pg_database")
    postgres_server.drop_database("harness_check")
    assert "harness_check" not in postgres_server.psql("SELECT datname FROM pg_database")


@pytest.mark.parametrize("name", ["Upper", "with-dash", "x; DROP DATABASE postgres"])
def test_database_names_are_plain_identifiers(postgres_server: postgres.PostgresServer, name: str) -> None:
    with pytest.raises(ValueError, match="plain lowercase"):
        postgres_server.create_database(name)
