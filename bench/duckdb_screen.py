"""The peer of `custody share` for bench/screen_vs_duckdb.sh: the same
screening as a data engineer would write it in DuckDB SQL, over the same files.

The request: Emma's Diary's mailing list to the Labour Party for a political
campaign on 2018-10-01, on consent. A mother may be sent when her latest
political-campaign consent event up to that day is a `give` under notice
2018-05. Writes the allowed (subject, name, address, postcode) and refused
(subject) sets in the input's format and prints their sizes and the seconds
the query took inside the process (without starting Python and importing
duckdb).

usage: duckdb_screen.py DATA_DIR csv|parquet OUT_DIR
"""
import sys
import time

import duckdb

started = time.perf_counter()

data, fmt, out = sys.argv[1], sys.argv[2], sys.argv[3]
signups = f"read_csv('{data}/signups.csv', all_varchar=true)" if fmt == "csv" else f"read_parquet('{data}/signups.parquet')"
con = duckdb.connect()
con.execute(f"""
CREATE TEMP TABLE screened AS
WITH latest AS (
    SELECT subject, action, notice,
           row_number() OVER (PARTITION BY subject ORDER BY "at" DESC) AS n
    FROM read_csv('{data}/reconsents-2018.csv', all_varchar=true)
    WHERE purpose = 'dpv:PoliticalCampaign' AND "at" <= '2018-10-01'
)
SELECT s.member_id AS subject, s.first_name, s.last_name, s.address, s.town, s.postcode,
       coalesce(l.action = 'give' AND l.notice = '2018-05', false) AS allowed
FROM {signups} s LEFT JOIN latest l ON l.subject = s.member_id AND l.n = 1
""")
suffix = "csv" if fmt == "csv" else "parquet"
opts = "(HEADER)" if fmt == "csv" else "(FORMAT PARQUET)"
con.execute(f"COPY (SELECT subject, first_name, last_name, address, town, postcode FROM screened WHERE allowed ORDER BY subject) TO '{out}/allowed.{suffix}' {opts}")
con.execute(f"COPY (SELECT subject FROM screened WHERE NOT allowed ORDER BY subject) TO '{out}/refused.{suffix}' {opts}")
allowed, refused = con.execute("SELECT count(*) FILTER (WHERE allowed), count(*) FILTER (WHERE NOT allowed) FROM screened").fetchone()
print(f"{allowed} {refused} {time.perf_counter() - started:.3f}")
