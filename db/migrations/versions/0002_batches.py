"""batches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('parent_batch_id', sa.String(length=36), nullable=True),
    sa.Column('batch_sequence', sa.Integer(), nullable=False),
    sa.Column('total_split_batches', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'paused', 'completed', 'cancelled', 'failed', name='batchstatus', native_enum=False, length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON().with_variant(mysql.JSON(), 'mariadb').with_variant(mysql.JSON(), 'mysql'), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_path', sa.String(length=1024), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('runner', sa.String(length=128), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('started_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('finished_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_parent_batch_id'), ['parent_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_status'), ['status'], unique=False)

    op.create_table('batch_items',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.String(length=128), nullable=True),
    sa.Column('source', sa.String(length=1024), nullable=False),
    sa.Column('status', sa.Enum('pending', 'running', 'completed', 'failed', 'skipped', name='itemstatus', native_enum=False, length=20), nullable=False),
    sa.Column('mode', sa.String(length=32), nullable=True),
    sa.Column('target_size_kb', sa.Integer(), nullable=True),
    sa.Column('output_format', sa.String(length=8), nullable=True),
    sa.Column('profile', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('retryable', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('reused', sa.Boolean(), nullable=False),
    sa.Column('product_image_id', sa.String(length=36), nullable=True),
    sa.Column('enhancement_id', sa.String(length=36), nullable=True),
    sa.Column('started_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('finished_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('duration_ms', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_items', schema=None) as batch_op:
        batch_op.create_index('ix_batch_items_batch_status', ['batch_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_items_content_sha256'), ['content_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_items_product_image_id'), ['product_image_id'], unique=False)
        batch_op.create_index('uq_batch_items_batch_position', ['batch_id', 'position'], unique=True)



def downgrade() -> None:
    # Dropping the tables drops their indexes; dropping indexes first trips MariaDB's FK checks.
    op.drop_table('batch_items')
    op.drop_table('batches')
