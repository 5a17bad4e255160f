"""The database's shape over time: SQL scripts indexed by `PRAGMA user_version`.

Forward only: MIGRATIONS[n] takes a database from version n to n + 1, and `engine.store` runs
the ones a file lacks in one transaction. Never edit a released script; append one (ALTER TABLE
... ADD COLUMN, new tables, backfills). A file whose version is past the end was made by a newer
ai-session and is refused.

The tables after `recording_blocks` are deliberately small, for the records later issues add
(command history, AI context, the agent bus, decisions, traces, audit): each has the columns it
is looked up by plus a JSON `data` column, so those issues grow them by a migration rather than
by a database of their own.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,               -- unix seconds, UTC
        kind TEXT NOT NULL CHECK (kind IN ('pane', 'workspace')),
        trigger TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        instance TEXT NOT NULL,
        layout TEXT,                            -- JSON, workspace snapshots
        raw_bytes INTEGER NOT NULL,             -- every pane's image, as if stored alone
        stored_bytes INTEGER NOT NULL           -- what this snapshot added to the file
    );
    CREATE INDEX snapshots_created ON snapshots(created_at);
    CREATE TABLE snapshot_panes (
        id INTEGER PRIMARY KEY,
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        session_name TEXT NOT NULL,
        window INTEGER NOT NULL,
        window_name TEXT NOT NULL,
        pane_index INTEGER NOT NULL,
        cwd TEXT,
        command TEXT,
        environment TEXT NOT NULL,              -- JSON
        config TEXT NOT NULL,                   -- JSON
        title TEXT NOT NULL,
        columns INTEGER NOT NULL,
        lines INTEGER NOT NULL,
        head BLOB NOT NULL,
        output_offset INTEGER NOT NULL,
        digest TEXT NOT NULL,
        UNIQUE (snapshot_id, position)
    );
    CREATE INDEX snapshot_panes_session ON snapshot_panes(session_id);
    CREATE TABLE blobs (
        id INTEGER PRIMARY KEY,
        hash BLOB NOT NULL UNIQUE,              -- sha256 of data
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE TABLE pane_blocks (
        pane_id INTEGER NOT NULL REFERENCES snapshot_panes(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        blob_id INTEGER NOT NULL REFERENCES blobs(id),
        PRIMARY KEY (pane_id, seq)
    ) WITHOUT ROWID;
    CREATE INDEX pane_blocks_blob ON pane_blocks(blob_id);
    CREATE TABLE instances (
        instance TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        boot_id TEXT NOT NULL,
        started_at REAL NOT NULL,
        clean_exit_at REAL
    );
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        instance TEXT NOT NULL REFERENCES instances(instance),
        config TEXT NOT NULL,                   -- JSON
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        window INTEGER,
        closed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX sessions_instance ON sessions(instance);
    CREATE TABLE recording_blocks (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        start_time REAL NOT NULL,
        end_time REAL NOT NULL,
        start_offset INTEGER NOT NULL,
        columns INTEGER NOT NULL,
        lines INTEGER NOT NULL,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX recording_blocks_session ON recording_blocks(session_id, id);
    CREATE TABLE command_history (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        command TEXT NOT NULL,
        cwd TEXT,
        exit_code INTEGER,
        started_at REAL NOT NULL,
        ended_at REAL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX command_history_session ON command_history(session_id, started_at);
    CREATE TABLE context_messages (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        tokens INTEGER,
        created_at REAL NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX context_messages_session ON context_messages(session_id, created_at);
    CREATE TABLE agent_messages (
        id INTEGER PRIMARY KEY,
        sender TEXT NOT NULL,
        recipient TEXT,
        topic TEXT,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX agent_messages_recipient ON agent_messages(recipient, created_at);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        session_id TEXT,
        agent TEXT,
        question TEXT NOT NULL,
        answer TEXT,
        created_at REAL NOT NULL,
        decided_at REAL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE traces (
        id INTEGER PRIMARY KEY,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_id TEXT,
        name TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX traces_trace ON traces(trace_id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        client TEXT,
        action TEXT NOT NULL,
        session_id TEXT,
        allowed INTEGER NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_at ON audit(at);
    """,
    # 1 -> 2: a session's AI context (engine/context.py). A row per message as the context
    # numbers it; a folded message keeps its text zstd-compressed in `original` (content '')
    # and names the summary that replaced it; `position` orders them as the context does (a
    # summary stands where the first message it covers stood).
    """
    ALTER TABLE context_messages ADD COLUMN message_id INTEGER;
    ALTER TABLE context_messages ADD COLUMN position INTEGER;
    ALTER TABLE context_messages ADD COLUMN original BLOB;
    ALTER TABLE context_messages ADD COLUMN folded_into INTEGER;
    CREATE UNIQUE INDEX context_messages_id ON context_messages(session_id, message_id);
    """,
    # 2 -> 3: the agents' hub (engine/hub.py). Records are numbered per instance (`instance`
    # + its own id: two instances on one file both count from their start); messages keep the
    # type in `topic` and the JSON payload in `body`; a decision keeps its options as JSON in
    # `question`, the selected one in `answer`, the outcome's time in `decided_at`. Tasks and
    # token reports get tables of their own.
    """
    ALTER TABLE agent_messages ADD COLUMN instance TEXT NOT NULL DEFAULT '';
    ALTER TABLE agent_messages ADD COLUMN message_id INTEGER;
    ALTER TABLE agent_messages ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE agent_messages ADD COLUMN reply_to INTEGER;
    CREATE UNIQUE INDEX agent_messages_id ON agent_messages(instance, message_id);
    CREATE INDEX agent_messages_created ON agent_messages(created_at);
    ALTER TABLE decisions ADD COLUMN instance TEXT NOT NULL DEFAULT '';
    ALTER TABLE decisions ADD COLUMN decision_id INTEGER;
    ALTER TABLE decisions ADD COLUMN type TEXT NOT NULL DEFAULT 'generic';
    ALTER TABLE decisions ADD COLUMN confidence REAL;
    ALTER TABLE decisions ADD COLUMN outcome TEXT;
    CREATE UNIQUE INDEX decisions_id ON decisions(instance, decision_id);
    CREATE INDEX decisions_created ON decisions(created_at);
    ALTER TABLE traces ADD COLUMN status TEXT NOT NULL DEFAULT 'running';
    ALTER TABLE traces ADD COLUMN agent TEXT;
    CREATE UNIQUE INDEX traces_span ON traces(span_id);
    CREATE INDEX traces_started ON traces(started_at);
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        instance TEXT NOT NULL,
        task_id INTEGER NOT NULL,
        description TEXT NOT NULL,
        requirements TEXT NOT NULL,             -- JSON list of capabilities
        priority INTEGER NOT NULL,
        effort REAL NOT NULL,                   -- estimated minutes
        status TEXT NOT NULL,
        agent TEXT,
        submitted_by TEXT,
        submitted_at REAL NOT NULL,
        assigned_at REAL,
        finished_at REAL,
        note TEXT,
        decision_id INTEGER,
        data TEXT NOT NULL DEFAULT '{}',        -- JSON: the task's metadata
        UNIQUE (instance, task_id)
    );
    CREATE INDEX tasks_submitted ON tasks(submitted_at);
    CREATE TABLE token_usage (
        id INTEGER PRIMARY KEY,
        instance TEXT NOT NULL,
        agent TEXT NOT NULL,
        input INTEGER NOT NULL,
        output INTEGER NOT NULL,
        model TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX token_usage_agent ON token_usage(agent, at);
    CREATE INDEX token_usage_at ON token_usage(at);
    """,
)


def statements(script: str) -> list[str]:
    """A migration script split into statements (`executescript` would commit the open
    transaction first, and a migration must commit with its user_version or not at all)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"unterminated statement in a migration: {pending.strip()[:60]}")
    return found
