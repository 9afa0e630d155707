"""`--log-format json`: one JSON object per log line (the standard library's logging, json for the line)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"}, plus "exception" and any ``extra=`` fields given."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        return json.dumps(line, ensure_ascii=False)


def json_line(message: str, level: int = logging.ERROR, logger: str = "digest") -> str:
    """``message`` as one line of the JSON log, for what is written to stderr outside the logging calls."""
    return JSONFormatter().format(
        logging.makeLogRecord(
            {"msg": message, "levelno": level, "levelname": logging.getLevelName(level), "name": logger}
        )
    )
