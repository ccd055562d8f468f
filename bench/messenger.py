"""The iTop module's cost per page: what the Messenger adds to an iTop page's rendering.

Starts `itop-intercom serve` (subprocess, throw-away SQLite database) and PHP's built-in server
playing iTop with the module's real hooks (stand-ins for iTop's classes, real PHP sessions), then
loads pages as a portal user in scope:

1. cold: a new session each time, so the module asks the service, evaluates the scope and asks
   again (two signed calls, a JWT signed, a nonce written per call);
2. warm: the same session, so the boot answer comes from the PHP session.

It prints the module's own time per page (measured inside PHP around the hook) as percentiles,
against its budget of 300 ms.

    .venv/bin/python bench/messenger.py [--pages 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.common import (
    ROOT,
    Service,
    free_port,
    latency_line,
    temporary_database,
    wait_ready,
    write_config,
)

ROUTER = ROOT / "itop-module" / "tests" / "e2e" / "router.php"
SHARED_KEY = "sk-bench-1f3e5a7c9b2d4f6e"


def measure(base: str, pages: int, *, cold: bool) -> tuple[list[float], int]:
    times: list[float] = []
    booted = 0
    client = httpx.Client(timeout=10)
    try:
        for _ in range(pages):
            if cold:
                client.close()
                client = httpx.Client(timeout=10)
            response = client.get(f"{base}/page.php?user=agatha&portal=itop-portal")
            response.raise_for_status()
            times.append(float(response.headers["x-module-seconds"]))
            booted += "intercomSettings" in response.text
    finally:
        client.close()
    return times, booted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, temporary_database("sqlite") as database_url:
        directory = Path(tmp)
        port, php_port = free_port(), free_port()
        config = write_config(
            directory, database_url=database_url, itop_url="http://127.0.0.1:9", port=port
        )
        text = config.read_text(encoding="utf-8").replace(
            'scope = "SELECT Person"',
            "scope = \"SELECT Organization WHERE name = 'Demo'\"\n"
            'messenger_secret = "ms-bench-8a6c4e2f0b1d3a5c"',
        )
        text += (
            "[messenger]\n"
            f'shared_key = "{SHARED_KEY}"\n'
            f'widget_url = "http://127.0.0.1:{php_port}/widget.js?app={{app_id}}"\n'
        )
        config.write_text(text, encoding="utf-8")
        service = Service(["serve", "--config", str(config)], directory / "service.log")
        service.start()
        env = {
            **os.environ,
            "ITOP_INTERCOM_SERVICE_URL": f"http://127.0.0.1:{port}/",
            "ITOP_INTERCOM_SHARED_KEY": SHARED_KEY,
        }
        php = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{php_port}", str(ROUTER)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}")
            time.sleep(0.5)
            base = f"http://127.0.0.1:{php_port}"
            measure(base, 5, cold=True)  # warm-up (imports, first JWT, SQLite file)
            cold, cold_booted = measure(base, args.pages, cold=True)
            warm, warm_booted = measure(base, args.pages, cold=False)
        finally:
            php.terminate()
            php.wait(timeout=10)
            service.stop()
    print(f"module time per page, budget 300 ms ({args.pages} pages each)")
    print(f"  cold session (2 calls): {latency_line(cold)}  booted {cold_booted}/{args.pages}")
    print(f"  warm session (cached):  {latency_line(warm)}  booted {warm_booted}/{args.pages}")
    return 0 if cold_booted == warm_booted == args.pages else 1


if __name__ == "__main__":
    sys.exit(main())
