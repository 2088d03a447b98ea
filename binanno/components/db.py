"""Where answers live: peewee models bound at run time, and one small facade over them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import peewee as pw
from playhouse.db_url import connect as connect_url

from ..errors import UserError
from ..hashing import input_key, set_hashes, task_key
from ..types import ANSWERS, Task
from .db_stats import dataset_stats
from .group_commit import Batch, GroupWriter

proxy = pw.DatabaseProxy()
DRIVER_ERRORS = pw.__exception_wrapper__  # type: ignore[attr-defined]  # the database driver's exceptions as peewee's (pw.IntegrityError, ...)
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal", "busy_timeout": 10000}
# The key of the PostgreSQL advisory lock that the schema's creation and migration hold.
SCHEMA_LOCK = 0x62696E616E6E6F  # "binanno"


class DatabaseDown(UserError):
    """The database can't be reached now (a PostgreSQL server that restarts, say); nothing was stored."""


class _Base(pw.Model):
    class Meta:
        database = proxy


class Dataset(_Base):
    id = pw.AutoField()
    name = pw.CharField(unique=True)
    created = pw.IntegerField()
    meta = pw.TextField(default="{}")


class Example(_Base):
    """One answer: a task as answered, by one session, in one dataset."""

    id = pw.AutoField()
    dataset = pw.ForeignKeyField(Dataset, backref="examples", on_delete="CASCADE")
    input_hash = pw.BigIntegerField(index=True)
    task_hash = pw.BigIntegerField(index=True)
    # The stored identity: 128-bit keys (binanno.hashing), as Prodigy's 32-bit hashes collide.
    input_key = pw.CharField(default="")
    task_key = pw.CharField(default="")
    session_id = pw.CharField(default="")
    answer = pw.CharField()
    # 64-bit: PostgreSQL's INTEGER is 32-bit and a millisecond `_timestamp` overflows it (SQLite: the same column).
    timestamp = pw.BigIntegerField()
    content = pw.TextField()

    class Meta:
        # A re-sent batch (after a lost response) overwrites instead of duplicating.
        indexes = ((("dataset", "task_key", "session_id"), True),)


def open_database(target: str | Path) -> pw.Database:
    """A peewee database for a SQLite path or a database URL (``sqlite:///x.db``, ``postgresql://...``)."""
    target = str(target)
    if "://" in target:
        try:
            db = connect_url(target)
        except (RuntimeError, ValueError, ImportError) as e:
            raise UserError(f"Can't use database URL '{shown(target)}': {e}") from None
        if isinstance(db, pw.SqliteDatabase):
            db.init(db.database, pragmas=SQLITE_PRAGMAS)
        return db
    path = Path(target).expanduser()
    if path.is_dir():
        raise UserError(f"Database path '{target}' is a directory: pass a file path to --db")
    path.parent.mkdir(parents=True, exist_ok=True)
    return pw.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False)


def bound_models(database: pw.Database) -> tuple[type[Dataset], type[Example]]:
    """Copies of ``Dataset`` and ``Example`` bound to ``database`` (same tables and indexes)."""
    meta = {"database": database}
    dataset_model = type("Dataset", (Dataset,), {"Meta": type("Meta", (), {**meta, "table_name": "dataset"}),
                                                       "__module__": __name__})
    example_model = type("Example", (Example,), {
        "Meta": type("Meta", (), {**meta, "table_name": "example"}),
        "dataset": pw.ForeignKeyField(dataset_model, backref="+", on_delete="CASCADE"),
        "__module__": __name__,
    })
    return dataset_model, example_model


def connect(db_id: str | None = None, db_settings: dict[str, Any] | None = None) -> Database:
    """The answer store at ``db_id`` (a SQLite path or a database URL), or where the settings point (``--db``,
    BINANNO_DB, BINANNO_HOME); Prodigy's ``connect("sqlite", {"sqlite": {"path": DIR, "name": FILE}})`` too."""
    import os

    from ..config import home
    from ..prodigy_settings import sqlite_file

    if db_id in ("sqlite", "postgresql", "mysql"):
        settings = (db_settings or {}).get(db_id) or {}
        if db_id != "sqlite":
            raise UserError(f"connect('{db_id}', ...): pass the database URL instead, e.g. connect('postgresql://user@host/db')")
        db_id = sqlite_file(settings, home()) if settings else None  # the same file as in a prodigy.json
    return Database(db_id or os.environ.get("BINANNO_DB") or home() / "binanno.db")


class _Names(list):  # type: ignore[type-arg]
    """A list of names that may also be called: ``db.datasets`` is Prodigy's, ``db.datasets()`` binanno's."""

    def __call__(self) -> list[str]:
        return list(self)


class Database:
    """The store's API: datasets and their answers. Every write is one transaction (answers saved at once share one).

    Prodigy's method names are real methods here (``get_dataset_examples``, ``add_examples``,
    ``get_task_hashes``, ``drop_dataset``...), over the same queries as binanno's own.
    """

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)
        self.db = open_database(target)
        proxy.initialize(self.db)
        # Models of our own, bound to this database: with the shared proxy alone, a second
        # Database in the same process would take over the first one's queries.
        self.Dataset, self.Example = bound_models(self.db)
        self._write_lock = threading.Lock()
        # Answers go through one writer thread that commits every batch waiting in one transaction
        # (binanno.components.group_commit). SQLite: it also takes the lock of the other writes.
        self._answers_lock: Any = self._write_lock if isinstance(self.db, pw.SqliteDatabase) else contextlib.nullcontext()
        self._writer = GroupWriter(self._write_group, on_exit=self._drop_connection)
        self._upsert = upsert_sql(self.db.param)
        self._dataset_sql = f'SELECT "id" FROM "dataset" WHERE "name" = {self.db.param}'
        self._dataset_ids: dict[str, int] = {}  # the writer thread's: dataset ids by name (see _dataset_id)
        try:
            self.db.connect(reuse_if_open=True)
            with self._write_lock, self.db.atomic():
                if isinstance(self.db, pw.PostgresqlDatabase):
                    # Several servers and commands may start on one empty database at once: two
                    # CREATE TABLE IF NOT EXISTS race in PostgreSQL, so they take turns.
                    self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                migrate_keys(self.db, self.Example)
                self.db.create_tables([self.Dataset, self.Example], safe=True)
        except pw.ImproperlyConfigured as e:  # no driver for the URL's database
            raise UserError(f"Can't open database '{shown(self.target)}': {e}: pip install \"binanno[postgres]\"") from None
        except pw.DatabaseError as e:  # also "file is not a database", or no PostgreSQL server there
            message = " ".join(str(e).split())
            raise UserError(f"Can't open database '{shown(self.target)}': {message}: pass another --db") from None

    def close(self) -> None:
        self._writer.stop()
        if not self.db.is_closed():
            self.db.close()

    # datasets
    @property
    def datasets(self) -> _Names:
        """The dataset names, sorted (Prodigy's property; ``datasets()`` also works)."""
        return _Names(d.name for d in self.Dataset.select(self.Dataset.name).order_by(self.Dataset.name))

    @property
    def sessions(self) -> _Names:
        """The session names that answered in any dataset, as ``DATASET-SESSION`` where named so."""
        query = self.Example.select(self.Example.session_id).where(self.Example.session_id != "").distinct()
        return _Names(sorted(row.session_id for row in query))

    def __contains__(self, name: str) -> bool:
        return self.Dataset.select().where(self.Dataset.name == name).exists()

    def __len__(self) -> int:
        """How many datasets there are."""
        return self.Dataset.select().count()

    def add_dataset(self, name: str, meta: dict[str, Any] | None = None, session: bool = False) -> None:
        """Create ``name`` if it doesn't exist (an existing dataset is left as it is).

        ``session`` is Prodigy's flag for a session dataset: binanno keeps a session's answers in the
        dataset with their ``_session_id`` (see ``_selection``), so it is only recorded in the meta.
        """
        meta = {**(meta or {}), **({"session": True} if session else {})}
        with self._write_lock, self.db.atomic():
            self.Dataset.get_or_create(name=name, defaults={"created": int(time.time()), "meta": json.dumps(meta)})

    def meta(self, name: str) -> dict[str, Any]:
        """The meta a dataset was created with (the recipe's ``view_id``, for one); UserError if unknown."""
        meta = json.loads(self._dataset(name).meta or "{}")
        return meta if isinstance(meta, dict) else {}

    get_meta = meta

    def _dataset(self, name: str) -> Dataset:
        try:
            return self.Dataset.get(self.Dataset.name == name)
        except pw.DoesNotExist:
            from ..errors import did_you_mean

            raise UserError(f"Unknown dataset '{name}'. {did_you_mean(name, self.datasets())}".strip()) from None

    def drop(self, name: str) -> int:
        """Delete a dataset and its answers; returns how many answers went with it."""
        dataset = self._dataset(name)
        with self._write_lock, self.db.atomic():
            count = self.Example.delete().where(self.Example.dataset == dataset).execute()
            dataset.delete_instance()
        self._dataset_ids.clear()
        return count

    drop_dataset = drop

    # answers
    def add_examples(self, examples: Iterable[Task], datasets: Iterable[str] = ()) -> None:
        """Prodigy's ``add_examples``: store the answers in each of ``datasets``."""
        examples = list(examples)
        for name in datasets:
            self.add_answers(name, examples)

    def link(self, dataset: str, example_ids: Iterable[int]) -> None:
        """Prodigy's ``link``: add stored answers (by their task hashes) to ``dataset`` too."""
        wanted = set(example_ids)
        rows = self.Example.select(self.Example.content).where(self.Example.task_hash.in_(list(wanted)))
        self.add_answers(dataset, [json.loads(row.content) for row in rows.iterator()])

    def get_dataset_examples(self, name: str) -> list[Task]:
        """Every answer of a dataset (or of a session, by its ``DATASET-SESSION`` name), oldest first."""
        return list(self.get_answers(name))

    def get_dataset(self, name: str, default: list[Task] | None = None) -> list[Task] | None:
        """Prodigy's older ``get_dataset``: the answers, or ``default`` for an unknown dataset."""
        return self.get_dataset_examples(name) if name in self else default

    def get_input_hashes(self, *names: str) -> set[int]:
        """The ``_input_hash`` of every answer in the datasets ``names``."""
        return self.hashes(names, kind="input")

    def get_task_hashes(self, *names: str) -> set[int]:
        """The ``_task_hash`` of every answer in the datasets ``names``."""
        return self.hashes(names, kind="task")

    def add_answers(self, name: str, answers: Iterable[Task], session_id: str | None = None,
                    chunk_size: int | None = None) -> int:
        """Store answers in one transaction, committed when this returns; returns the count.

        Storing the same task again for the same session replaces it, so retries are safe.
        With ``chunk_size``, each chunk is committed on its own, and other sessions' answers get
        written between chunks. Answers saved at once by several threads share one transaction.
        """
        count, chunks = self._answer_rows(answers, session_id, chunk_size)
        if not chunks:  # everything is checked before the dataset is created: a bad answer leaves no trace
            self.add_dataset(name)
        for rows in chunks:
            self._writer.submit(name, rows)
        return count

    async def add_answers_async(self, name: str, answers: Iterable[Task], session_id: str | None = None,
                                chunk_size: int | None = None) -> int:
        """``add_answers`` on an event loop: it serves other requests while the commit is awaited.

        No thread waits for the commit: with 50 sessions saving at once, 50 threads handed the GIL
        around and anyio's 40 worker threads were a cap on the saves in one group commit.
        """
        count, chunks = self._answer_rows(answers, session_id, chunk_size)
        if not chunks:
            await asyncio.to_thread(self.add_dataset, name)
        for rows in chunks:
            await self._writer.submit_async(name, rows)
        return count

    def _answer_rows(self, answers: Iterable[Task], session_id: str | None,
                     chunk_size: int | None) -> tuple[int, list[list[tuple[Any, ...]]]]:
        """How many answers there are, and their rows for the upsert in chunks of ``chunk_size``."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        now = int(time.time())
        count = 0
        for task in answers:
            count += 1
            if task.get("answer") not in ANSWERS:
                raise UserError(f"answer must be one of {', '.join(ANSWERS)}, got {task.get('answer')!r}")
            task = set_hashes(task)
            session = task.get("_session_id") or session_id or ""
            task["_session_id"] = session
            task.setdefault("_timestamp", now)
            row: dict[str, Any] = {
                "input_hash": task["_input_hash"], "task_hash": task["_task_hash"],
                "input_key": input_key(task), "task_key": task_key(task),
                "session_id": session, "answer": task["answer"], "timestamp": int(task["_timestamp"]),
                "content": json.dumps(task, ensure_ascii=False),
            }
            # One row per key, the last answer winning, in the place of the first: PostgreSQL
            # refuses an upsert that meets its own row twice (SQLite applied them in turn).
            rows[(row["task_key"], session)] = row
        unique = [tuple(row[c] for c in UPSERT_COLUMNS[1:]) for row in rows.values()]
        step = chunk_size or len(unique) or 1
        return count, [unique[start:start + step] for start in range(0, len(unique), step)]

    def _write_group(self, batches: list[Batch]) -> None:
        """The writer thread's transaction: every batch waiting, reconnecting once if need be."""
        self._reconnecting(functools.partial(self._upsert_rows, batches))

    def _upsert_rows(self, batches: list[Batch]) -> None:
        try:
            self._insert_rows(batches)
        except pw.IntegrityError:
            if not self._dataset_ids:
                raise
            self._dataset_ids.clear()  # a dataset another process dropped since its id was remembered
            self._insert_rows(batches)

    def _insert_rows(self, batches: list[Batch]) -> None:
        with self._answers_lock, self.db.atomic():
            now = int(time.time())
            ids = {name: self._dataset_id(name, now) for name in dict.fromkeys(b.dataset for b in batches)}
            # A prepared statement, not peewee's query builder: building the query for each
            # save cost 3 times the insert itself, with 50 sessions saving at once.
            with DRIVER_ERRORS:  # as peewee's own exceptions, like every query it runs
                self.db.cursor().executemany(self._upsert, [(ids[b.dataset], *row) for b in batches for row in b.rows])

    def _reconnecting(self, write: Callable[[], None]) -> None:
        """Run a write; when the connection is gone (a PostgreSQL restart), open a new one and run
        it once more (an upsert: one that did commit before the connection broke is stored once).
        Still failing: DatabaseDown, nothing stored by this write."""
        for attempt in (1, 2):
            try:
                write()
                return
            except (pw.OperationalError, pw.InterfaceError) as e:
                self._drop_connection()
                if attempt == 2:
                    message = " ".join(str(e).split())[:200]
                    raise DatabaseDown(f"the database isn't reachable ({message}): nothing was stored, "
                                       "send the answers again when it is back") from None

    def _drop_connection(self) -> None:
        # This thread's connection only (peewee keeps one per thread); the next query opens a new one.
        try:
            self.db.close()
        except Exception:  # a connection that died in a transaction can't be closed cleanly
            self.db._state.reset()  # type: ignore[attr-defined]

    def _dataset_id(self, name: str, now: int) -> int:
        # Remembered by the writer: one query less in every group commit (on PostgreSQL a round trip
        # of four). A dataset dropped meanwhile fails the insert on its foreign key: _upsert_rows forgets.
        if name in self._dataset_ids:
            return self._dataset_ids[name]
        found = self.db.execute_sql(self._dataset_sql, (name,)).fetchone()
        if found:
            dataset_id = int(found[0])
        else:
            dataset, _ = self.Dataset.get_or_create(name=name, defaults={"created": now, "meta": "{}"})
            dataset_id = int(dataset.id)
        self._dataset_ids[name] = dataset_id
        return dataset_id

    def get_answers(self, name: str, answer: str | None = None) -> Iterator[Task]:
        """The stored answers of a dataset, oldest first, lazily.

        An unknown dataset raises here, before the first answer is read (so that ``db-out``
        fails before it creates its output file).
        """
        query = self.Example.select(self.Example.content).where(self._selection(name))
        if answer:
            query = query.where(self.Example.answer == answer)
        return (json.loads(row.content) for row in query.order_by(self.Example.id).iterator())

    def answers_by_input(self, names: Iterable[str]) -> Iterator[Task]:
        """The answers of several datasets, those about one input together (by input key, then oldest
        first), lazily: a caller can merge them one input at a time. Unknown names raise at once."""
        ids = [self._dataset(name).id for name in names]
        query = (self.Example.select(self.Example.content).where(self.Example.dataset.in_(ids))
                 .order_by(self.Example.input_key, self.Example.id))
        return (json.loads(row.content) for row in query.iterator())

    def count(self, name: str) -> int:
        return self.Example.select().where(self._selection(name)).count()

    count_dataset = count

    def _selection(self, name: str) -> Any:
        """The rows of dataset ``name``; or, as in Prodigy, a session's own answers under its
        name ``DATASET-SESSION`` (a view of DATASET's rows, so nothing is stored twice)."""
        if name not in self:
            parents = [d for d in self.datasets() if name.startswith(f"{d}-")]
            for parent in sorted(parents, key=len, reverse=True):
                rows = (self.Example.dataset == self._dataset(parent)) & (self.Example.session_id == name)
                if self.Example.select().where(rows).exists():
                    return rows
        return self.Example.dataset == self._dataset(name)

    def hashes(self, names: Iterable[str], kind: str = "task", session_id: str | None = None) -> set[int]:
        """Task (or input) hashes answered in ``names``; unknown names count as empty."""
        column = self.Example.input_hash if kind == "input" else self.Example.task_hash
        return self._answered(names, column, session_id)

    def keys(self, names: Iterable[str], kind: str = "task", session_id: str | None = None) -> set[str]:
        """Task (or input) keys (binanno.hashing.task_key) answered in ``names``; unknown names count as empty."""
        column = self.Example.input_key if kind == "input" else self.Example.task_key
        return self._answered(names, column, session_id)

    def _answered(self, names: Iterable[str], column: Any, session_id: str | None) -> set[Any]:
        """The values of one Example ``column`` in the datasets ``names`` (of one session, if given)."""
        ids = [d.id for d in self.Dataset.select(self.Dataset.id).where(self.Dataset.name.in_(list(names)))]
        if not ids:
            return set()
        query = self.Example.select(column).where(self.Example.dataset.in_(ids))
        if session_id is not None:
            query = query.where(self.Example.session_id == session_id)
        return {getattr(row, column.name) for row in query.iterator()}

    def sessions_by_key(self, name: str, kind: str = "task") -> dict[str, set[str]]:
        """For each task (or input) key answered in ``name``, the sessions that answered it."""
        column = self.Example.input_key if kind == "input" else self.Example.task_key
        query = (self.Example.select(column, self.Example.session_id)
                 .where(self.Example.dataset == self._dataset(name)).tuples())
        sessions: dict[str, set[str]] = {}
        for key, session in query.iterator():
            sessions.setdefault(key, set()).add(session)
        return sessions

    def stats(self, name: str) -> dict[str, Any]:
        """Counts per answer, per label and per session, and the model's accuracy at question time."""
        return dataset_stats(name, self.get_answers(name))


# The columns of an answer's row, in the order of the upsert's parameters.
UPSERT_COLUMNS = ("dataset_id", "input_hash", "task_hash", "input_key", "task_key", "session_id", "answer",
                  "timestamp", "content")


def upsert_sql(param: str) -> str:
    """Insert one answer's row; a row of the same dataset, task key and session is replaced
    (SQLite and PostgreSQL both take this ``ON CONFLICT`` form)."""
    columns = ", ".join(f'"{c}"' for c in UPSERT_COLUMNS)
    values = ", ".join([param] * len(UPSERT_COLUMNS))
    return (f'INSERT INTO "example" ({columns}) VALUES ({values}) ON CONFLICT ("dataset_id", "task_key", "session_id") '
            'DO UPDATE SET "answer" = excluded."answer", "content" = excluded."content", "timestamp" = excluded."timestamp"')


def shown(target: str) -> str:
    """A database target as it may be printed: the password of a URL left out."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", target)


def migrate_keys(db: pw.Database, example: type[Example]) -> None:
    """Give a database made before the 128-bit keys its key columns, filled from each row's task.

    Its unique index on the 32-bit task hash merged different texts whose hashes collided, and
    goes; ``create_tables`` then adds the one on the key.
    """
    if "example" not in db.get_tables() or "task_key" in {c.name for c in db.get_columns("example")}:
        return
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("example", "input_key", example.input_key),
            migrator.add_column("example", "task_key", example.task_key))
    for index in db.get_indexes("example"):
        if index.unique and "task_hash" in index.columns:
            migrate(migrator.drop_index("example", index.name))
    rows = example.select(example.id, example.content).order_by(example.id)
    for i, row in enumerate(rows.iterator()):
        task = set_hashes(json.loads(row.content))
        example.update(input_key=input_key(task), task_key=task_key(task)).where(example.id == row.id).execute()
        if i % 10_000 == 9_999:
            print(f"Upgrading the database: {i + 1} answers keyed", file=sys.stderr, flush=True)
