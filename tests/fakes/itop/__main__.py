"""`python -m tests.fakes.itop`: serve the fake iTop over real HTTP."""

from __future__ import annotations

import argparse

from tests.fakes.itop.common import ADMIN_TOKEN, AGENT_TOKEN, NO_REST_TOKEN
from tests.fakes.itop.fake import FakeItop


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.fakes.itop --port 8181 --latency 0.07 [--instance vanilla]`."""
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the fake iTop REST API over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8181)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--instance", choices=("intercom", "vanilla"), default="intercom")
    args = parser.parse_args(argv)
    fake = FakeItop(instance=args.instance, latency=args.latency)
    print(
        f"fake iTop ({args.instance}) on http://{args.host}:{args.port}/webservices/rest.php\n"
        f"tokens: admin={ADMIN_TOKEN} agent={AGENT_TOKEN} no-rest={NO_REST_TOKEN}",
        flush=True,
    )
    uvicorn.run(
        fake.app,
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="off",
        interface="asgi3",
    )


if __name__ == "__main__":
    main()
