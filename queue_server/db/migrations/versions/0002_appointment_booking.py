"""appointment booking: the citizen's booking token, masked ID number, when booked/cancelled, source

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:50:00
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.tables


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        # token: the secret in the citizen's booking page URL (/b/<token>): view and cancel without login
        batch_op.add_column(sa.Column('token', sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column('masked_id', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='phone'))
        batch_op.add_column(sa.Column('created_at', queue_server.db.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', queue_server.db.tables.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_appointments_token', ['token'], unique=True)
        # places left in a slot: count by day, service and slot start
        batch_op.create_index('ix_appointments_slot', ['day', 'service', 'slot_start', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_slot')
        batch_op.drop_index('ix_appointments_token')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('created_at')
        batch_op.drop_column('source')
        batch_op.drop_column('masked_id')
        batch_op.drop_column('token')
