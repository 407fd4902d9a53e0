"""the job engine's tables on PostgreSQL (Procrastinate)

On PostgreSQL, jobs run on Procrastinate (`marketplace.job_engine`): its tables, types,
functions and triggers are its own schema, applied here as the installed version ships it
(procrastinate==3.10.0, pinned). The `jobs` table stays Atelier's record of each job
(progress, result, who may see it); a Procrastinate job per row carries it to a worker.
SQLite has no job engine: the in-process runner claims rows directly.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None:
        return
    from procrastinate.schema import SchemaManager

    # through the driver without parameters: the schema's own '%' are not placeholders
    with bind.connection.driver_connection.cursor() as cursor:
        cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # the tables, then the types; CASCADE takes the functions and triggers built on them
        bind.exec_driver_sql(
            "DROP TABLE IF EXISTS procrastinate_periodic_defers, procrastinate_events, "
            "procrastinate_jobs, procrastinate_workers CASCADE"
        )
        bind.exec_driver_sql(
            "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
            "procrastinate_job_status CASCADE"
        )
