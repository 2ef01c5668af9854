"""Alembic environment: runs migrations on the engine supportbot hands over."""

from alembic import context
from sqlmodel import SQLModel

from supportbot import models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
MIGRATION_LOCK_ID = 0x5B0C_0001  # arbitrary, fixed: identifies supportbot's migration lock
# Tables other libraries own in our database: APScheduler's job store creates its own.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        raise RuntimeError(
            "Run migrations through `supportbot db upgrade`, which passes the configured engine."
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Serialise concurrent `db upgrade`s (several replicas starting at once);
                # the lock is released when the migration transaction ends.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("Offline (SQL script) migrations are not supported.")
run_migrations()
