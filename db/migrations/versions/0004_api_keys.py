"""API keys and idempotency records

``api_keys`` holds the REST API's keys (only a SHA-256 of each secret);
``idempotency_keys`` holds the first outcome of a request sent with an
``Idempotency-Key`` header, so a retry returns it instead of doing the work again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')
JSON = sa.JSON().with_variant(mysql.JSON(), 'mariadb').with_variant(mysql.JSON(), 'mysql')
ROLE = sa.Enum('viewer', 'operator', 'admin', name='apirole', native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(128), nullable=False),
        sa.Column('role', ROLE, nullable=False),
        sa.Column('key_hash', sa.String(64), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('revoked_at', TS, nullable=True),
        sa.Column('last_used_at', TS, nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash', name='uq_api_keys_key_hash'),
    )
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('api_key_id', sa.String(36), nullable=False),
        sa.Column('idempotency_key', sa.String(255), nullable=False),
        sa.Column('endpoint', sa.String(128), nullable=False),
        sa.Column('request_hash', sa.String(64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('response', JSON, nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_idempotency_key', 'idempotency_keys', ['api_key_id', 'idempotency_key', 'endpoint'],
                    unique=True)
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'])


def downgrade() -> None:
    op.drop_table('idempotency_keys')
    op.drop_table('api_keys')
