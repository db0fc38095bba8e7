"""The peers of `custody screen` for bench/screen_vs_duckdb.sh: the same
screening as a data engineer would write it in DuckDB SQL.

The request: Emma's Diary's mailing list to the Labour Party for a political
campaign on 2018-10-01, on consent. On the case's data (KIND emmas), a
mother may be sent when her latest political-campaign consent event up to
that day is a `give` under notice 2018-05. On varied histories (KIND varied,
`custody gen --varied`), custody's rules spelled out for this request:
  - the notice governing her then is 2018-05 (some event up to that instant
    was made under it), since 2017 does not name political campaigning;
  - no objection to direct marketing stands (political campaigning is
    direct marketing);
  - among the events that decide her consent (a withdrawal of Marketing or
    PoliticalCampaign, the purpose or broader; a gift of PoliticalCampaign
    given while she had been shown 2018-05, which names it and Labour), the
    latest up to that instant is a gift.
Events are ordered by time, ties by their order in the file (as recorded).

Two ways:
  files: one query over the raw files (`screen`), the whole process timed.
  state: the members and events loaded once into a DuckDB database file
         (`load`, not timed), as a data engineer keeps them; then the query
         over its tables and the two outputs (`screen --state DB`).
Writes the allowed (subject, name, address, postcode) and refused (subject)
sets in the input's format and prints their sizes and the seconds the
query and outputs took inside the process (without starting Python and
importing duckdb).

usage: duckdb_screen.py load DATA_DIR csv|parquet KIND DB
       duckdb_screen.py screen DATA_DIR csv|parquet KIND OUT_DIR [--state DB]
"""
import sys
import time

import duckdb

AT = "TIMESTAMP '2018-10-01 00:00:00'"


def sources(data, fmt, kind):
    """The members, and the statement that makes the events table."""
    signups = (f"read_csv('{data}/signups.csv', all_varchar=true)" if fmt == "csv"
               else f"read_parquet('{data}/signups.parquet')")
    name = "reconsents-2018.csv" if kind == "emmas" else "events-varied.csv"
    # A table keeps the file's order (DuckDB preserves insertion order), and
    # its rowid says it: the recorded order, which breaks ties in time.
    events = (f"AS SELECT subject, action, purpose, CAST(\"at\" AS TIMESTAMP) AS ts, "
              f"nullif(notice, '') AS notice FROM read_csv('{data}/{name}', all_varchar=true)")
    return signups, events


EVENTS = "(SELECT *, rowid AS seq FROM events)"


def decided(kind, signups, events):
    """The query: every member with whether she may be sent."""
    if kind == "emmas":
        return f"""
WITH latest AS (
    SELECT subject, action, notice,
           row_number() OVER (PARTITION BY subject ORDER BY ts DESC, seq DESC) AS n
    FROM {events}
    WHERE purpose = 'dpv:PoliticalCampaign' AND ts <= {AT}
)
SELECT s.member_id AS subject, s.first_name, s.last_name, s.address, s.town, s.postcode,
       coalesce(l.action = 'give' AND l.notice = '2018-05', false) AS allowed
FROM {signups} s LEFT JOIN latest l ON l.subject = s.member_id AND l.n = 1
"""
    return f"""
WITH shown AS (
    SELECT subject, action, purpose, ts, seq,
           max(CASE WHEN notice IS NOT NULL THEN 1 ELSE 0 END)
               OVER (PARTITION BY subject ORDER BY ts, seq ROWS UNBOUNDED PRECEDING) AS told
    FROM {events}
    WHERE ts <= {AT}
), person AS (
    SELECT subject,
           max(told) AS governed,
           arg_max(action, CAST(epoch(ts) AS BIGINT) * 100000000 + seq)
               FILTER (WHERE action IN ('object-direct-marketing', 'withdraw-objection')) AS objection,
           arg_max(action, CAST(epoch(ts) AS BIGINT) * 100000000 + seq)
               FILTER (WHERE (action = 'withdraw' AND purpose IN ('dpv:Marketing', 'dpv:PoliticalCampaign'))
                          OR (action = 'give' AND purpose = 'dpv:PoliticalCampaign' AND told = 1)) AS consent
    FROM shown GROUP BY subject
)
SELECT s.member_id AS subject, s.first_name, s.last_name, s.address, s.town, s.postcode,
       coalesce(p.governed = 1 AND coalesce(p.objection, '') <> 'object-direct-marketing'
                AND p.consent = 'give', false) AS allowed
FROM {signups} s LEFT JOIN person p ON p.subject = s.member_id
"""


def load(data, fmt, kind, db):
    signups, events = sources(data, fmt, kind)
    con = duckdb.connect(db)
    con.execute(f"CREATE OR REPLACE TABLE members AS SELECT * FROM {signups}")
    con.execute(f"CREATE OR REPLACE TABLE events {events}")
    con.close()


def screen(data, fmt, kind, out, state):
    started = time.perf_counter()
    if state:
        con = duckdb.connect(state, read_only=True)
        query = decided(kind, "members", EVENTS)
    else:
        con = duckdb.connect()
        signups, events = sources(data, fmt, kind)
        con.execute(f"CREATE TEMP TABLE events {events}")
        query = decided(kind, signups, EVENTS)
    con.execute(f"CREATE TEMP TABLE screened AS {query}")
    suffix = "csv" if fmt == "csv" else "parquet"
    opts = "(HEADER)" if fmt == "csv" else "(FORMAT PARQUET)"
    # In the list's order, as custody writes them: no sort custody does not do.
    con.execute(f"COPY (SELECT subject, first_name, last_name, address, town, postcode FROM screened WHERE allowed) TO '{out}/allowed.{suffix}' {opts}")
    con.execute(f"COPY (SELECT subject FROM screened WHERE NOT allowed) TO '{out}/refused.{suffix}' {opts}")
    allowed, refused = con.execute("SELECT count(*) FILTER (WHERE allowed), count(*) FILTER (WHERE NOT allowed) FROM screened").fetchone()
    print(f"{allowed} {refused} {time.perf_counter() - started:.3f}")


if __name__ == "__main__":
    what, rest = sys.argv[1], sys.argv[2:]
    if what == "load":
        load(*rest)
    elif what == "screen":
        state = rest[rest.index("--state") + 1] if "--state" in rest else None
        screen(*rest[:4], state)
    else:
        sys.exit(__doc__)
