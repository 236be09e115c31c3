"""The Alembic migrations build exactly the schema ``tables`` declares, from empty, on both databases."""

from pathlib import Path

import pytest

from chargeops.ocpp_gateway.store import Store, database, errors, migrations
from tests.unit.ocpp_gateway.store.support import T0


async def test_open_migrates_an_empty_database_to_head(store_url: str) -> None:
    db = database.Database.connect(store_url)
    try:
        assert await migrations.current_revision(db) is None
        async with await Store.open(store_url):
            pass
        assert await migrations.current_revision(db) == migrations.head()
    finally:
        await db.dispose()


async def test_migrated_schema_matches_the_tables_exactly(store_url: str) -> None:
    async with await Store.open(store_url):
        pass
    db = database.Database.connect(store_url)
    try:
        assert await migrations.autogenerate_diff(db) == []
    finally:
        await db.dispose()


async def test_opening_again_keeps_the_data(store_url: str) -> None:
    async with await Store.open(store_url) as first:
        outcome = await first.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=T0)

    async with await Store.open(store_url) as second:
        assert await second.get_session(outcome.session_id) is not None


def test_the_scripts_ship_inside_the_package() -> None:
    versions = Path(migrations.__file__).parent / "versions"

    assert (Path(migrations.__file__).parent / "env.py").is_file()
    assert (Path(migrations.__file__).parent / "script.py.mako").is_file()
    assert migrations.head() in {path.name.split("_", 1)[0] for path in versions.glob("*.py")}


@pytest.mark.parametrize(
    "url",
    ["mysql+aiomysql://localhost/db", "postgresql://localhost/sync", "postgresql+psycopg://localhost/db", "not a url"],
)
async def test_an_unsupported_url_is_refused_with_the_supported_ones_named(url: str) -> None:
    with pytest.raises(errors.UnsupportedDatabaseUrlError) as caught:
        await Store.open(url)

    assert caught.value.reason == "UnsupportedDatabaseUrl"


@pytest.mark.parametrize("scheme", ["sqlite+aiosqlite", "sqlite"])
async def test_both_sqlite_url_forms_open_the_same_file(tmp_path: Path, scheme: str) -> None:
    async with await Store.open(f"{scheme}:///{tmp_path / 'store.db'}") as store:
        assert store.dialect == "sqlite"
        await store.ping()


async def test_an_unreachable_database_is_store_unavailable(tmp_path: Path) -> None:
    missing_folder = tmp_path / "no" / "such" / "folder" / "store.db"

    with pytest.raises(errors.StoreUnavailableError) as caught:
        await Store.open(f"sqlite+aiosqlite:///{missing_folder}")

    assert caught.value.reason == "StoreUnavailable"
