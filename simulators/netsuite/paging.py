"""NetSuite's collection paging, shared by SuiteQL and the record collections: limit/offset rules and links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from simulators.common.server import Request
from simulators.netsuite.errors import bad_request

MAX_LIMIT = 1000


def paging(request: Request, row_ceiling: int | None = None) -> tuple[int, int]:
    """limit (1..1000, default 1000) and offset (a multiple of limit) from the query string."""
    limit = _integer(request, "limit", MAX_LIMIT)
    offset = _integer(request, "offset", 0)
    # UNVERIFIED wording of the refusals below; the rules themselves are documented (research notes §3.1).
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(
            f"Invalid 'limit' value {limit}: it must be between 1 and {MAX_LIMIT}.",
            "INVALID_PARAMETER",
            query_param="limit",
        )
    if offset % limit:
        raise bad_request(
            f"Invalid 'offset' value {offset}: it must be a multiple of the limit ({limit}).",
            "INVALID_PARAMETER",
            query_param="offset",
        )
    if row_ceiling is not None and offset >= row_ceiling:
        raise bad_request(
            f"Invalid 'offset' value {offset}: a SuiteQL query returns at most {row_ceiling} "
            f"results; page by key (WHERE id > last ORDER BY id) instead.",
            "INVALID_PARAMETER",
            query_param="offset",
        )
    return limit, offset


def page_links(
    href: str, params: list[tuple[str, str]], *, limit: int, offset: int, reachable: int, has_more: bool
) -> list[dict[str, str]]:
    """previous (when offset > 0), first, next (when hasMore), last and self, in the order NetSuite lists them.

    `reachable` is how many rows paging can reach (SuiteQL stops at its row ceiling). UNVERIFIED: the order
    of the links and that `last` is the last reachable page; clients must find a link by its rel.
    """

    def link(rel: str, at: int) -> dict[str, str]:
        return {"rel": rel, "href": f"{href}?{urlencode([*params, ('limit', limit), ('offset', at)])}"}

    last = max(0, (reachable - 1) // limit * limit)
    links = []
    if offset > 0:
        links.append(link("previous", max(0, offset - limit)))
    links.append(link("first", 0))
    if has_more:
        links.append(link("next", offset + limit))
    links.append(link("last", last))
    links.append(link("self", offset))
    return links


def collection(
    items: list[Any], links: list[dict[str, str]], *, offset: int, total: int, has_more: bool
) -> dict[str, Any]:
    return {
        "links": links,
        "count": len(items),
        "hasMore": has_more,
        "items": items,
        "offset": offset,
        "totalResults": total,
    }


def _integer(request: Request, name: str, default: int) -> int:
    values = request.query.get(name)
    if not values:
        return default
    text = values[-1].strip()
    if not text.isdigit():
        raise bad_request(
            f"Invalid '{name}' value {text!r}: it must be a non-negative integer.",
            "INVALID_PARAMETER",
            query_param=name,
        )
    return int(text)
