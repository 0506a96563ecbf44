"""Run by the crash tests in a child process: one delivery run on the config given, which
the loopback receiver kills (SIGKILL) while the notification is being sent."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import httpx

import notify
from earful.settings import settings_from_dict
from sql.store import Store


def main() -> None:
    config_path, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    settings = settings_from_dict(json.loads(Path(config_path).read_text()), "child config")
    print("ready", flush=True)
    with httpx.Client(timeout=30) as client:
        notify.deliver_pending(Store(settings.db_path), settings, client, now)
    print("finished", flush=True)


if __name__ == "__main__":
    main()
