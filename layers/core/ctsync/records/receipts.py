"""Receipts in NetSuite's File Cabinet: which files NetSuite takes, and the integration's folder and files.

- **File types.** NetSuite keys a file's kind by its own `fileType` ids, not by MIME type. A receipt is mapped
  from the MIME type ClickTime serves it with (the types ClickTime accepts for receipts, clicktime-api §3.9);
  when that says nothing (`application/octet-stream`, no type) the content's first bytes decide. Anything else
  (HEIC, HTML, a Word file) is refused here, before it reaches NetSuite: cause `receipt-type`.
- **The folder.** One folder for the integration, found by its external ID (`ctns-receipts`) and created when
  missing, once per invocation and only when a receipt is to be stored (a run with nothing to upload writes
  nothing). UNVERIFIED: the REST shape of folder and file records (exports addendum §3, §7 U4): the record
  service's `folder`/`file` with the SOAP records' essentials (name, parent/folder, content as base64).
- **Files.** Each receipt is `file/eid:ct-rcpt-<item id>` (an upsert: a retried upload never makes a second
  file), with its SHA-256 in the description so a person (and a crashed upload's next attempt) can tell it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from ctsync.netsuite import external_ids
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.references import References

FOLDER_EXTERNAL_ID = "ctns-receipts"
FILE_PREFIX = "ct-rcpt-"

# MIME type -> NetSuite fileType: the receipt types ClickTime accepts (clicktime-api §3.9), with their aliases.
FILE_TYPES: dict[str, str] = {
    "image/png": "PNGIMAGE",
    "image/x-png": "PNGIMAGE",
    "image/jpeg": "JPGIMAGE",
    "image/jpg": "JPGIMAGE",
    "image/pjpeg": "JPGIMAGE",
    "image/x-jpeg": "JPGIMAGE",
    "image/gif": "GIFIMAGE",
    "image/x-gif": "GIFIMAGE",
    "image/tiff": "TIFFIMAGE",
    "image/x-tiff": "TIFFIMAGE",
    "image/bmp": "BMPIMAGE",
    "image/x-bmp": "BMPIMAGE",
    "image/x-ms-bmp": "BMPIMAGE",
    "application/pdf": "PDF",
    "image/pdf": "PDF",
}
EXTENSIONS = {
    "PNGIMAGE": "png",
    "JPGIMAGE": "jpg",
    "GIFIMAGE": "gif",
    "TIFFIMAGE": "tif",
    "BMPIMAGE": "bmp",
    "PDF": "pdf",
}
# A type that says nothing about the content: the content's first bytes decide.
UNTYPED = {"", "application/octet-stream", "binary/octet-stream", "application/binary", "application/unknown"}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNGIMAGE"),
    (b"\xff\xd8\xff", "JPGIMAGE"),
    (b"GIF87a", "GIFIMAGE"),
    (b"GIF89a", "GIFIMAGE"),
    (b"II*\x00", "TIFFIMAGE"),
    (b"MM\x00*", "TIFFIMAGE"),
    (b"BM", "BMPIMAGE"),
    (b"%PDF-", "PDF"),
)


def sniff(content: bytes) -> str | None:
    """NetSuite's fileType for content by its first bytes (its magic number), or None."""
    return next((file_type for magic, file_type in _MAGIC if content.startswith(magic)), None)


def file_type_of(mime: str | None, content: bytes) -> str | None:
    """NetSuite's fileType for a receipt: from its MIME type (parameters and case ignored), else, when the
    type says nothing, from its content; None when NetSuite would not take it as a receipt."""
    kind = (mime or "").split(";")[0].strip().lower()
    if kind in FILE_TYPES:
        return FILE_TYPES[kind]
    if kind in UNTYPED:
        return sniff(content)
    return None


def file_external_id(item_id: str) -> str:
    """The receipt file's external ID (`netsuite.external_ids`)."""
    return external_ids.external_id(FILE_PREFIX, item_id)


@dataclass(frozen=True)
class StoredFile:
    id: str
    sha256: str


class FileCabinet:
    """The integration's folder and its receipt files (see the module docstring)."""

    def __init__(self, netsuite: NetSuiteClient, cache: References, *, folder_name: str, parent: str | None) -> None:
        self._netsuite = netsuite
        self._cache = cache
        self._folder_name = folder_name
        self._parent = parent

    def folder(self) -> str:
        """The folder's internal id: read by external ID, created when missing (once per invocation)."""

        def find_or_create() -> str:
            try:
                return str(self._netsuite.get_record("folder", f"eid:{FOLDER_EXTERNAL_ID}", fields=["name"])["id"])
            except NetSuiteNotFound:
                body: dict[str, object] = {"externalId": FOLDER_EXTERNAL_ID, "name": self._folder_name}
                if self._parent:
                    body["parent"] = {"id": self._parent}
                return self._netsuite.upsert_record("folder", FOLDER_EXTERNAL_ID, body)

        return self._cache.get("netsuite:receipt-folder", find_or_create, per_invocation=True)

    def upload(self, item_id: str, content: bytes, file_type: str, sha256: str, what: str) -> str:
        """Store one receipt (PUT file/eid:ct-rcpt-<item id>); returns the file's internal id."""
        external = file_external_id(item_id)
        body = {
            "externalId": external,
            "name": f"clicktime-expense-{item_id}.{EXTENSIONS[file_type]}",
            "folder": {"id": self.folder()},
            "fileType": file_type,
            "description": f"{what}; sha256 {sha256}",
            "content": base64.b64encode(content).decode("ascii"),
        }
        return self._netsuite.upsert_record("file", external, body)

    def stored(self, item_id: str) -> StoredFile | None:
        """The receipt file NetSuite holds for an item, with the hash its description names (a read: used only
        after an upload whose answer or mapping write was lost)."""
        try:
            record = self._netsuite.get_record("file", f"eid:{file_external_id(item_id)}", fields=["description"])
        except NetSuiteNotFound:
            return None
        found = re.search(r"sha256 ([0-9a-f]{64})", str(record.get("description") or ""))
        return StoredFile(str(record["id"]), found.group(1)) if found else None

    def attach(self, record_type: str, record_id: str, file_id: str) -> None:
        self._netsuite.attach_file(record_type, record_id, file_id)

    def detach(self, record_type: str, record_id: str, file_id: str) -> None:
        self._netsuite.detach_file(record_type, record_id, file_id)
