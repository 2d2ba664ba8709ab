"""NetSuite REST simulator: TBA verification, record API, SuiteQL, paging, governance (see simulators/README.md).

app.py             NetSuiteSimulator: the App hooks (admit, authenticate, error format) and the knobs
auth.py            TBA (OAuth 1.0a HMAC-SHA256) verification and the login audit
errors.py          NetSuite's error body; NetSuiteError
schema.py          record types and field kinds from schemas/netsuite-records.json, plus custom fields
writes.py          validating a write body into stored values (Decimal money, H:MM durations, references)
records.py         RecordStore: the thread-safe in-memory account (ids, external ids, deletions, attachments)
accounting.py      the account's rules on client writes: closed periods, billed time, paid reports, files, folders
render.py          a stored record as GET returns it
record_routes.py   /services/rest/record/v1 (collections, records, !attach, metadata catalog)
record_query.py    the q filter language of record collections
metadata.py        the metadata catalog: JSON schema and OpenAPI documents with the account's custom fields
paging.py          limit/offset rules and page links, shared by SuiteQL and record collections
service_routes.py  SuiteQL with paging, serverTime, tokeninfo
query_tables.py    the SuiteQL tables over the store
suiteql/           the SuiteQL engine (lexer, parser, compiler, engine)
loader.py          seeding from a simulators.company.Company
jsonio.py          JSON without floats
"""

from simulators.netsuite.app import NetSuiteSimulator

__all__ = ["NetSuiteSimulator"]
