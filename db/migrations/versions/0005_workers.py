"""workers: claim columns on batch items, and a heartbeat table for Celery workers

``dispatched_at`` says when an item was last put on the broker (the dispatcher
keeps a bounded window of them), ``task_id`` is the task that holds its claim
(a redelivered message carries the same id and may take the claim over),
``worker`` where it ran. ``workers`` is one row per live worker.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade() -> None:
    with op.batch_alter_table('batch_items') as t:
        t.add_column(sa.Column('dispatched_at', TS, nullable=True))
        t.add_column(sa.Column('task_id', sa.String(length=64), nullable=True))
        t.add_column(sa.Column('worker', sa.String(length=255), nullable=True))
    op.create_index('ix_batch_items_dispatch', 'batch_items', ['batch_id', 'status', 'position'])
    op.create_table('workers',
                    sa.Column('name', sa.String(length=255), nullable=False),
                    sa.Column('host', sa.String(length=255), nullable=False),
                    sa.Column('pid', sa.Integer(), nullable=False),
                    sa.Column('queue', sa.String(length=80), nullable=False),
                    sa.Column('concurrency', sa.Integer(), nullable=False),
                    sa.Column('tasks_done', sa.Integer(), nullable=False),
                    sa.Column('started_at', TS, nullable=False),
                    sa.Column('last_seen_at', TS, nullable=False),
                    sa.PrimaryKeyConstraint('name'))
    op.create_index('ix_workers_last_seen_at', 'workers', ['last_seen_at'])


def downgrade() -> None:
    op.drop_index('ix_workers_last_seen_at', table_name='workers')
    op.drop_table('workers')
    op.drop_index('ix_batch_items_dispatch', table_name='batch_items')
    with op.batch_alter_table('batch_items') as t:
        t.drop_column('worker')
        t.drop_column('task_id')
        t.drop_column('dispatched_at')
