"""audit trail (append-only) and users with roles

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')
JSON = sa.JSON().with_variant(mysql.JSON(), 'mariadb').with_variant(mysql.JSON(), 'mysql')


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('at', TS, nullable=False),
        sa.Column('actor', sa.String(255), nullable=False),
        sa.Column('role', sa.String(16), nullable=False),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('target_kind', sa.String(16), nullable=False),
        sa.Column('target_id', sa.String(255), nullable=False),
        sa.Column('detail', JSON, nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_target', 'audit_log', ['target_kind', 'target_id'])
    op.create_index('ix_audit_at', 'audit_log', ['at'])
    op.create_index('ix_audit_actor', 'audit_log', ['actor'])
    op.create_table(
        'users',
        sa.Column('email', sa.String(255), nullable=False),
        sa.Column('role', sa.String(16), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('email'),
    )


def downgrade() -> None:
    op.drop_table('users')
    op.drop_index('ix_audit_actor', table_name='audit_log')
    op.drop_index('ix_audit_at', table_name='audit_log')
    op.drop_index('ix_audit_target', table_name='audit_log')
    op.drop_table('audit_log')
