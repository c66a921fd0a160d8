"""products with many images; one review vocabulary; reuse and decision columns

Every existing image becomes the main (and only) image of its own product,
whose id is the image's id (so no id has to be generated in SQL), and whose
status is derived from the image. ``pending`` review becomes
``pending_review`` (one vocabulary). History rows get the reuse columns: the
bytes' hash from their image and the options key computed from the options
they recorded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')
PRODUCT_STATUS = sa.Enum('pending', 'processing', 'pending_review', 'approved', 'rejected', 'failed',
                         name='productstatus', native_enum=False, length=20)
PROFILED = ('STANDARDIZE', 'FULL')


def _options_key(opts: dict) -> str:
    # Frozen copy of enhancer.options.EnhanceOptions.key() as of this revision.
    mode = str(opts.get('mode') or 'AUTO').upper()
    profile = opts.get('profile') or ('generic' if mode in PROFILED else None)
    d = {'mode': mode, 'target_size_kb': opts.get('target_size_kb'),
         'output_format': str(opts.get('output_format') or 'JPEG').upper(), 'profile': profile,
         'ai': opts.get('ai') or 'local', 'variants': int(opts.get('variants') or 1)}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


def upgrade() -> None:
    op.create_table(
        'products',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('sku_id', sa.String(128), nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('category', sa.String(128), nullable=True),
        sa.Column('mrp', sa.Double(), nullable=True),
        sa.Column('price', sa.Double(), nullable=True),
        sa.Column('discount', sa.Double(), nullable=True),
        sa.Column('gst', sa.Double(), nullable=True),
        sa.Column('status', PRODUCT_STATUS, nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sku_id', name='uq_products_sku_id'),
    )
    op.create_index('ix_products_category', 'products', ['category'])
    op.create_index('ix_products_status', 'products', ['status'])
    op.create_index('ix_products_created_at', 'products', ['created_at'])

    bind = op.get_bind()
    # One product per existing image, sharing its id; status from the image.
    bind.execute(sa.text(
        "INSERT INTO products (id, sku_id, status, created_at, updated_at) "
        "SELECT id, sku_id, CASE "
        "  WHEN status = 'FAILED' THEN 'failed' "
        "  WHEN status IN ('PENDING', 'PROCESSING') THEN 'processing' "
        "  WHEN review_status IN ('pending', 'pending_review') THEN 'pending_review' "
        "  WHEN review_status = 'approved' THEN 'approved' "
        "  WHEN review_status = 'rejected' THEN 'rejected' "
        "  ELSE 'pending' END, created_at, updated_at FROM product_images"))

    is_mysql = bind.dialect.name in ('mysql', 'mariadb')
    if is_mysql:
        op.drop_constraint('sku_id', 'product_images', type_='unique')
    naming = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}
    with op.batch_alter_table('product_images', naming_convention=naming) as b:
        if not is_mysql:
            b.drop_constraint('uq_product_images_sku_id', type_='unique')
        b.add_column(sa.Column('product_id', sa.String(36), nullable=True))
        b.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='1'))
        b.add_column(sa.Column('is_main', sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column('reviewed_by', sa.String(255), nullable=True))
        b.add_column(sa.Column('reviewed_at', TS, nullable=True))
    bind.execute(sa.text("UPDATE product_images SET product_id = id, position = 1, is_main = :t"), {"t": True})
    bind.execute(sa.text("UPDATE product_images SET review_status = 'pending_review' "
                         "WHERE review_status = 'pending'"))
    with op.batch_alter_table('product_images', naming_convention=naming) as b:
        b.alter_column('product_id', existing_type=sa.String(36), nullable=False)
        b.create_foreign_key('fk_product_images_product_id', 'products', ['product_id'], ['id'],
                             ondelete='CASCADE')
        b.create_index('ix_product_images_sku_id', ['sku_id'])
        b.create_index('uq_product_images_product_sha', ['product_id', 'content_sha256'], unique=True)
        b.create_index('uq_product_images_product_position', ['product_id', 'position'], unique=True)

    with op.batch_alter_table('enhancement_history') as b:
        b.add_column(sa.Column('reviewed_by', sa.String(255), nullable=True))
        b.add_column(sa.Column('reviewed_at', TS, nullable=True))
        b.add_column(sa.Column('content_sha256', sa.String(64), nullable=True))
        b.add_column(sa.Column('options_key', sa.String(64), nullable=True))
        b.add_column(sa.Column('attempt_id', sa.String(36), nullable=True))
    bind.execute(sa.text("UPDATE enhancement_history SET review_status = 'pending_review' "
                         "WHERE review_status = 'pending'"))
    bind.execute(sa.text(
        "UPDATE enhancement_history SET attempt_id = id, content_sha256 = "
        "(SELECT content_sha256 FROM product_images WHERE product_images.id = enhancement_history.product_image_id)"))
    rows = bind.execute(sa.text("SELECT id, quality_metadata FROM enhancement_history")).all()
    for hid, qm in rows:
        if isinstance(qm, (str, bytes)):
            qm = json.loads(qm or '{}')
        opts = (qm or {}).get('options')
        if opts:
            bind.execute(sa.text("UPDATE enhancement_history SET options_key = :k WHERE id = :i"),
                         {"k": _options_key(opts), "i": hid})
    with op.batch_alter_table('enhancement_history') as b:
        b.create_index('ix_history_reuse', ['content_sha256', 'options_key'])
        b.create_index('ix_history_review_status', ['review_status'])


def downgrade() -> None:
    raise NotImplementedError("0003 is not reversible: products with several images cannot be folded back")
