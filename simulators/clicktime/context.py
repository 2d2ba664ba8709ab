"""One API call as a handler sees it: validated query and body, the store, and ways to answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.clicktime.render import DecimalsAs, EnvelopeResponse, envelope, page_object, project
from simulators.clicktime.schema import Endpoint, schema
from simulators.clicktime.store import Record, Store
from simulators.clicktime.validation import Query, bad_request
from simulators.common.server import HttpError, Request

Predicate = Callable[[Record, list[Any]], bool]


@dataclass
class Call:
    request: Request
    endpoint: Endpoint
    query: Query
    body: dict[str, Any]
    store: Store
    decimals_as: DecimalsAs

    @property
    def params(self) -> dict[str, str]:
        return self.request.params

    @property
    def base_url(self) -> str:
        # The server the client addressed: receipt URLs and page links point back at it.
        return f"http://{self.request.host}"

    # -- answers ----------------------------------------------------------------------------------------
    def one(self, model: str, record: Record, *, status: int = 200, variant: str | None = None) -> EnvelopeResponse:
        data = project(
            schema().get_fields(model, variant), record, verbose=self.query.verbose, legacy=self.query.legacy
        )
        return EnvelopeResponse(status, envelope(data), decimals_as=self.decimals_as)

    def page(
        self, model: str | None, records: list[Record], view: Callable[[Record], Record] = lambda r: r
    ) -> EnvelopeResponse:
        """One page of `records` (already filtered and sorted); `view` only runs on the rows shown.

        With model None the rows go out as they are (small shapes the schema file does not carry).
        """
        q = self.query
        window = [view(r) for r in records[q.offset : q.offset + q.limit]]
        if model is not None:
            fields = schema().get_fields(model)
            window = [project(fields, r, verbose=q.verbose, legacy=q.legacy) for r in window]
        data = window
        page = page_object(
            self.base_url, self.request.raw_path, self.request.query, count=len(records), limit=q.limit, offset=q.offset
        )
        return EnvelopeResponse(200, envelope(data, page), decimals_as=self.decimals_as)

    def bare_list(self, items: list[Any]) -> EnvelopeResponse:
        """A list without a page object: association endpoints (bare ID strings) where paging is not supported."""
        return EnvelopeResponse(200, envelope(list(items)), decimals_as=self.decimals_as)

    # -- helpers ----------------------------------------------------------------------------------------
    def filtered(self, records: list[Record], predicates: dict[str, Predicate]) -> list[Record]:
        """Apply every filter of the query; a filter the simulator cannot honour is refused, never ignored."""
        out = records
        for name, values in self.query.filters.items():
            predicate = predicates.get(name)
            if predicate is None:
                raise bad_request(f"The simulator does not support the '{name}' filter", name)
            out = [r for r in out if predicate(r, values)]
        return out


def found(table: dict[str, Record], record_id: str, what: str) -> Record:
    record = table.get(record_id)
    if record is None:
        raise HttpError(404, f"{what} '{record_id}' was not found")
    return record


# -- filter predicates ----------------------------------------------------------------------------------


def field_in(field: str) -> Predicate:
    # UNVERIFIED: filters match whole values, case included (a Name filter is not a "contains" search).
    return lambda r, values: r.get(field) in values


def date_on_or_after(field: str) -> Predicate:
    return lambda r, values: r.get(field) is not None and r[field] >= values[0].isoformat()


def date_on_or_before(field: str) -> Predicate:
    return lambda r, values: r.get(field) is not None and r[field] <= values[0].isoformat()


def date_in(field: str) -> Predicate:
    return lambda r, values: r.get(field) in {v.isoformat() for v in values}


def user_field(store: Store, field: str) -> Predicate:
    """A filter on a field of the record's user (DivisionID, EmploymentTypeID, ExpenseApproverID, ...)."""
    return lambda r, values: store.users.get(r["UserID"], {}).get(field) in values


def any_permission(_: Record, __: list[Any]) -> bool:
    # The simulator has one token, an Admin's: every permission-scoped filter keeps everything.
    return True
