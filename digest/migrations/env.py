"""Alembic environment: runs on the engine digest hands over (see digest.db.init_database).

Migrations are written by hand or with `alembic revision --autogenerate` against the models;
tests/test_db.py checks that the migrated schema matches digest.models exactly.
"""

from alembic import context
from sqlmodel import SQLModel

import digest.models  # noqa: F401  (registers the tables on SQLModel.metadata)

# APScheduler keeps its own job table in the same database; it is not ours to migrate.
_FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    return not (type_ == "table" and name in _FOREIGN_TABLES)


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
