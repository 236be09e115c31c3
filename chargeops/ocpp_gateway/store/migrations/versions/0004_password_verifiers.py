"""Desired states: a password verifier beside each password hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

A gateway given a key shared by its replicas keeps, beside a charger's scrypt hash, HMAC-SHA256 of that
hash and the password under the key once the password is known to match (``store.credentials``). A
replica that has just started checks the charger against it without scrypt, so a restart of every
replica no longer costs one scrypt per charger. Empty for every existing row: each is filled by its
charger's next login.

Written out in full rather than importing ``tables`` (see 0001).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("desired_states") as batch:
        batch.add_column(sa.Column("password_verifier", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desired_states") as batch:
        batch.drop_column("password_verifier")
