"""window pause reasons: the reason and since when on the window row, and a log of every window state change

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import queue_server.db.tables


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('state_since', queue_server.db.tables.UTCDateTime(), nullable=True))
    op.create_table(
        'window_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('window', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=True),
        sa.Column('clerk', sa.String(length=64), nullable=True),
        sa.Column('at', queue_server.db.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('window_log', schema=None) as batch_op:
        batch_op.create_index('ix_window_log_day', ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('window_log', schema=None) as batch_op:
        batch_op.drop_index('ix_window_log_day')
    op.drop_table('window_log')
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.drop_column('state_since')
        batch_op.drop_column('pause_reason')
