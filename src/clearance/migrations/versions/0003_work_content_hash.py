"""work content hash

Each work stores a hash of its content, so the registry's fingerprint (the key of persisted
indexes) is read with one light query instead of every row. Existing works are hashed here,
from the same state the application hashes when it writes a work.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from clearance.registry.views import work_content_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

works = sa.table("works", sa.column("pk", sa.Integer), sa.column("title", sa.String), sa.column("kind", sa.String),
                 sa.column("policy", sa.String), sa.column("aliases", sa.JSON), sa.column("descriptions", sa.JSON),
                 sa.column("content_hash", sa.String))
elements = sa.table("elements", sa.column("pk", sa.Integer), sa.column("work_pk", sa.Integer),
                    sa.column("role", sa.String), sa.column("name", sa.String), sa.column("aliases", sa.JSON),
                    sa.column("description", sa.Text))
references = sa.table("references", sa.column("pk", sa.Integer), sa.column("work_pk", sa.Integer),
                      sa.column("kind", sa.String), sa.column("sha256", sa.String),
                      sa.column("source_name", sa.String), sa.column("element", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("works", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    parts: dict[int, dict[str, list]] = {}
    for row in bind.execute(sa.select(elements.c.work_pk, elements.c.role, elements.c.name, elements.c.aliases,
                                      elements.c.description).order_by(elements.c.pk)):
        parts.setdefault(row[0], {"elements": [], "references": []})["elements"].append(
            (row[1], row[2], list(row[3]), row[4]))
    for row in bind.execute(sa.select(references.c.work_pk, references.c.kind, references.c.sha256,
                                      references.c.source_name, references.c.element).order_by(references.c.pk)):
        parts.setdefault(row[0], {"elements": [], "references": []})["references"].append(tuple(row[1:]))
    hashes = []
    for pk, title, kind, policy, aliases, descriptions in bind.execute(
        sa.select(works.c.pk, works.c.title, works.c.kind, works.c.policy, works.c.aliases, works.c.descriptions)
    ):
        state = {"title": title, "kind": kind, "policy": policy, "aliases": list(aliases),
                 "descriptions": list(descriptions), **parts.get(pk, {"elements": [], "references": []})}
        hashes.append({"work_pk": pk, "hash": work_content_hash(state)})
    if hashes:
        bind.execute(works.update().where(works.c.pk == sa.bindparam("work_pk"))
                     .values(content_hash=sa.bindparam("hash")), hashes)


def downgrade() -> None:
    with op.batch_alter_table("works", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
