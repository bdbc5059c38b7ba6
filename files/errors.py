"""What uploads and processing can refuse, each with the reason a client branches on."""

from __future__ import annotations

from flowbuilder.api.errors import Conflict, PayloadTooLarge


class FileTooLarge(PayloadTooLarge):
    reason = "FILE_TOO_LARGE"


class QuotaExceeded(PayloadTooLarge):
    reason = "STORAGE_QUOTA_EXCEEDED"


class FileBusy(Conflict):
    """The file is being processed by a run that has not ended."""

    reason = "FILE_PROCESSING"
