"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('product_images',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sku_id', sa.String(length=128), nullable=False),
    sa.Column('image_url', sa.String(length=1024), nullable=True),
    sa.Column('enhanced_image_url', sa.String(length=1024), nullable=True),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('original_size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('enhanced_size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('original_width', sa.Integer(), nullable=True),
    sa.Column('original_height', sa.Integer(), nullable=True),
    sa.Column('enhanced_width', sa.Integer(), nullable=True),
    sa.Column('enhanced_height', sa.Integer(), nullable=True),
    sa.Column('original_format', sa.String(length=16), nullable=True),
    sa.Column('enhanced_format', sa.String(length=16), nullable=True),
    sa.Column('status', sa.Enum('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', name='imagestatus', native_enum=False, length=20), nullable=False),
    sa.Column('enhancement_mode', sa.String(length=32), nullable=True),
    sa.Column('processing_time_ms', sa.Double(), nullable=True),
    sa.Column('processed_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('review_status', sa.Enum('none', 'pending', 'pending_review', 'approved', 'rejected', name='reviewstatus', native_enum=False, length=20), nullable=False),
    sa.Column('original_key', sa.String(length=512), nullable=True),
    sa.Column('enhanced_key', sa.String(length=512), nullable=True),
    sa.Column('thumbnail_key', sa.String(length=512), nullable=True),
    sa.Column('quality_before', sa.Double(), nullable=True),
    sa.Column('quality_after', sa.Double(), nullable=True),
    sa.Column('size_reduction_percent', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sku_id')
    )
    with op.batch_alter_table('product_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_images_content_sha256'), ['content_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_images_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_images_enhancement_mode'), ['enhancement_mode'], unique=False)
        batch_op.create_index('ix_product_images_original_filename', ['original_filename'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_images_review_status'), ['review_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_images_status'), ['status'], unique=False)

    op.create_table('enhancement_history',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('product_image_id', sa.String(length=36), nullable=False),
    sa.Column('enhancement_sequence', sa.Integer(), nullable=False),
    sa.Column('enhancement_mode', sa.String(length=32), nullable=False),
    sa.Column('original_s3_url', sa.String(length=1024), nullable=True),
    sa.Column('original_https_url', sa.String(length=1024), nullable=True),
    sa.Column('enhanced_s3_url', sa.String(length=1024), nullable=True),
    sa.Column('enhanced_https_url', sa.String(length=1024), nullable=True),
    sa.Column('original_size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('enhanced_size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('original_quality_score', sa.Double(), nullable=True),
    sa.Column('enhanced_quality_score', sa.Double(), nullable=True),
    sa.Column('quality_metadata', sa.JSON().with_variant(mysql.JSON(), 'mariadb').with_variant(mysql.JSON(), 'mysql'), nullable=False),
    sa.Column('size_metadata', sa.JSON().with_variant(mysql.JSON(), 'mariadb').with_variant(mysql.JSON(), 'mysql'), nullable=False),
    sa.Column('processing_time_ms', sa.Double(), nullable=True),
    sa.Column('processing_status', sa.String(length=20), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('response_id', sa.String(length=255), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('review_status', sa.Enum('none', 'pending', 'pending_review', 'approved', 'rejected', name='reviewstatus', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('enhanced_key', sa.String(length=512), nullable=True),
    sa.Column('thumbnail_key', sa.String(length=512), nullable=True),
    sa.Column('enhanced_format', sa.String(length=16), nullable=True),
    sa.Column('enhanced_width', sa.Integer(), nullable=True),
    sa.Column('enhanced_height', sa.Integer(), nullable=True),
    sa.Column('provider_metadata', sa.JSON().with_variant(mysql.JSON(), 'mariadb').with_variant(mysql.JSON(), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['product_image_id'], ['product_images.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enhancement_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enhancement_history_product_image_id'), ['product_image_id'], unique=False)
        batch_op.create_index('uq_history_image_sequence', ['product_image_id', 'enhancement_sequence'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('enhancement_history', schema=None) as batch_op:
        batch_op.drop_index('uq_history_image_sequence')
        batch_op.drop_index(batch_op.f('ix_enhancement_history_product_image_id'))

    op.drop_table('enhancement_history')
    with op.batch_alter_table('product_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_images_status'))
        batch_op.drop_index(batch_op.f('ix_product_images_review_status'))
        batch_op.drop_index('ix_product_images_original_filename')
        batch_op.drop_index(batch_op.f('ix_product_images_enhancement_mode'))
        batch_op.drop_index(batch_op.f('ix_product_images_created_at'))
        batch_op.drop_index(batch_op.f('ix_product_images_content_sha256'))

    op.drop_table('product_images')
