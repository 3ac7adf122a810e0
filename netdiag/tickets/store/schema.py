"""The ticket store's tables, as migrations: ``MIGRATIONS[i]`` takes a store from schema version
``i`` to ``i + 1`` (``PRAGMA user_version``); :func:`netdiag.tickets.store.connection.connect`
runs the ones a store lacks, in one transaction."""
from __future__ import annotations

from netdiag.tickets import lifecycle

SCHEMA_VERSION = 2

#: the open statuses as an SQL list, for ``status IN {OPEN_SQL}``
OPEN_SQL = "(" + ", ".join(f"'{s}'" for s in lifecycle.OPEN_STATUSES) + ")"

#: migrations[i] takes a store from schema version i to i + 1 (statements run one by one in one transaction)
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE tickets (
            ticket_id        TEXT PRIMARY KEY,
            kind             TEXT NOT NULL CHECK (kind IN ('incident', 'coverage', 'field_test')),
            cause            TEXT NOT NULL,
            element_id       TEXT,
            element_kind     TEXT,
            area_key         TEXT,
            incident_id      TEXT,
            status           TEXT NOT NULL CHECK (status IN ('acknowledged', 'inProgress', 'pending', 'held',
                                                             'resolved', 'closed', 'cancelled')),
            priority         TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
            priority_manual  INTEGER NOT NULL DEFAULT 0,
            grade            TEXT NOT NULL CHECK (grade IN ('ordinary', 'major', 'urgent')),
            action           TEXT NOT NULL,
            team             TEXT NOT NULL,
            lead_department  TEXT NOT NULL,
            via              TEXT,
            region           TEXT,
            place            TEXT,
            lat              REAL,
            lon              REAL,
            fixed_position   INTEGER NOT NULL DEFAULT 0,
            evidence         TEXT,
            resolution       TEXT,
            cause_start      TEXT,
            cause_end        TEXT,
            sites_affected   INTEGER NOT NULL DEFAULT 0,
            cells_affected   INTEGER NOT NULL DEFAULT 0,
            complaint_count  INTEGER NOT NULL DEFAULT 0,
            vip_count        INTEGER NOT NULL DEFAULT 0,
            public_count     INTEGER NOT NULL DEFAULT 0,
            created_at       TEXT NOT NULL,
            first_reply_due  TEXT,
            due_at           TEXT,
            opened_at        TEXT NOT NULL,
            updated_at       TEXT NOT NULL,
            resolved_at      TEXT,
            closed_at        TEXT,
            revision         INTEGER NOT NULL DEFAULT 1
        )""",
        f"""CREATE UNIQUE INDEX tickets_one_open_per_element ON tickets (cause, element_id)
            WHERE element_id IS NOT NULL AND status IN {OPEN_SQL}""",
        f"""CREATE UNIQUE INDEX tickets_one_open_per_area ON tickets (cause, area_key)
            WHERE area_key IS NOT NULL AND status IN {OPEN_SQL}""",
        "CREATE INDEX tickets_by_status ON tickets (status, team, priority)",
        "CREATE INDEX tickets_by_incident ON tickets (incident_id)",
        """CREATE TABLE runs (
            run_id       INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at   TEXT NOT NULL,
            finished_at  TEXT,
            who          TEXT NOT NULL,
            source       TEXT,
            as_of        TEXT,
            complaints   INTEGER,
            linked       INTEGER,
            new_tickets  INTEGER,
            resolved     INTEGER,
            relinked     INTEGER
        )""",
        """CREATE TABLE complaints (
            complaint_id  TEXT PRIMARY KEY,
            ticket_id     TEXT NOT NULL REFERENCES tickets (ticket_id),
            cause         TEXT NOT NULL,
            element_id    TEXT,
            incident_id   TEXT,
            received_at   TEXT NOT NULL,
            occurred_at   TEXT,
            cause_start   TEXT,
            cause_end     TEXT,
            lat           REAL,
            lon           REAL,
            category      TEXT,
            indoor        INTEGER,
            vip           INTEGER,
            public        INTEGER,
            channel       TEXT,
            customer      TEXT,
            description   TEXT,
            region        TEXT,
            evidence      TEXT,
            confidence    REAL,
            linked_at     TEXT NOT NULL,
            run_id        INTEGER REFERENCES runs (run_id)
        )""",
        "CREATE INDEX complaints_by_ticket ON complaints (ticket_id)",
        "CREATE INDEX complaints_by_received ON complaints (received_at)",
        """CREATE TABLE history (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id    TEXT NOT NULL REFERENCES tickets (ticket_id),
            at           TEXT NOT NULL,
            who          TEXT NOT NULL,
            event        TEXT NOT NULL,
            from_status  TEXT,
            to_status    TEXT,
            why          TEXT
        )""",
        "CREATE INDEX history_by_ticket ON history (ticket_id, seq)",
        """CREATE TABLE notes (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id  TEXT NOT NULL REFERENCES tickets (ticket_id),
            at         TEXT NOT NULL,
            who        TEXT NOT NULL,
            text       TEXT NOT NULL
        )""",
        "CREATE INDEX notes_by_ticket ON notes (ticket_id, seq)",
        "CREATE TABLE id_counters (day TEXT PRIMARY KEY, last INTEGER NOT NULL)",
    ],
    [  # version 2: what the store keeps for itself, e.g. the zone whose days number its tickets
        "CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
]
assert len(MIGRATIONS) == SCHEMA_VERSION
