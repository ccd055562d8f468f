"""Prometheus metrics, one registry per service instance (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "itop_intercom_requests",
            "HTTP requests by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=r,
        )
        self.itop_calls = Counter(
            "itop_intercom_itop_calls",
            "Calls to iTop's REST API by operation and outcome",
            ["operation", "outcome"],
            registry=r,
        )
        self.itop_seconds = Histogram(
            "itop_intercom_itop_call_seconds",
            "Duration of calls to iTop",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.intercom_calls = Counter(
            "itop_intercom_intercom_calls",
            "Calls to Intercom's REST API by operation and outcome",
            ["operation", "outcome"],
            registry=r,
        )
        self.intake = Counter(
            "itop_intercom_webhook_intake",
            "Webhook notifications by topic and outcome",
            ["topic", "outcome"],
            registry=r,
        )
        self.parts_pending = Gauge(
            "itop_intercom_parts_pending",
            "Conversation parts waiting to be applied (one per target ticket, plus parts not "
            "planned yet)",
            registry=r,
        )
        self.oldest_pending_age = Gauge(
            "itop_intercom_parts_oldest_pending_seconds",
            "Age of the oldest conversation part waiting to be applied",
            registry=r,
        )
        self.parts_dead = Gauge(
            "itop_intercom_parts_dead",
            "Conversation parts given up on, one per target ticket (dead letters)",
            registry=r,
        )
        self.apply_seconds = Histogram(
            "itop_intercom_apply_seconds",
            "Time from receipt to application of a part",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.parts_applied = Counter(
            "itop_intercom_parts_applied",
            "Conversation parts applied, by outcome",
            ["outcome"],
            registry=r,
        )

        self.jobs_pending = Gauge(
            "itop_intercom_jobs_pending", "Background jobs waiting to run", registry=r
        )
        self.jobs_dead = Gauge(
            "itop_intercom_jobs_dead", "Background jobs given up on (dead letters)", registry=r
        )
        self.database_bytes = Gauge(
            "itop_intercom_database_bytes",
            "Size of the database (refreshed at most every 30 seconds)",
            registry=r,
        )
        self.table_rows = Gauge(
            "itop_intercom_table_rows",
            "Rows per table of the database (refreshed at most every 30 seconds)",
            ["table"],
            registry=r,
        )

        # iTop → Intercom back-sync.
        self.backsync_polls = Counter(
            "itop_intercom_backsync_polls",
            "Polls of iTop's change history by outcome (changes, nothing, failed)",
            ["outcome"],
            registry=r,
        )
        self.backsync_poll_calls = Counter(
            "itop_intercom_backsync_poll_itop_calls",
            "iTop REST calls made by the history polls (their cost)",
            registry=r,
        )
        self.backsync_posts = Counter(
            "itop_intercom_backsync_posts",
            "Posts to Intercom from iTop changes, by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.backsync_skipped = Counter(
            "itop_intercom_backsync_skipped",
            "iTop changes not posted, by reason (echo, off, not_linked, entry_missing, "
            "workspace_unknown)",
            ["reason"],
            registry=r,
        )
        self.backsync_lag = Gauge(
            "itop_intercom_backsync_lag_seconds",
            "Age of the oldest iTop change not yet posted to Intercom (0: none)",
            registry=r,
        )
        self.backsync_latency = Histogram(
            "itop_intercom_backsync_post_seconds",
            "Time from the iTop change to its post in Intercom",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def observe_itop(self, operation: str, outcome: str, seconds: float) -> None:
        self.itop_calls.labels(operation, outcome).inc()
        self.itop_seconds.labels(operation).observe(seconds)

    def observe_intercom(self, operation: str, outcome: str, seconds: float) -> None:
        self.intercom_calls.labels(operation, outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
