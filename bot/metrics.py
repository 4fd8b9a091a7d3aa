"""Prometheus metrics, served at GET /metrics. `initialise` gives every known label its
zero sample at start, so a fresh process shows its whole shape, not an empty page."""

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)

REGISTRY = CollectorRegistry(auto_describe=True)
# process_* (CPU, memory, open files), python_info and python_gc_*.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

WEBHOOKS = Counter(
    "smsbridge_webhooks_total", "Webhooks received", ["source", "outcome"], registry=REGISTRY
)
DELIVERIES = Counter(
    "smsbridge_deliveries_total", "Delivery outcomes", ["kind", "outcome"], registry=REGISTRY
)
DELIVERY_SECONDS = Histogram(
    "smsbridge_delivery_seconds",
    "Time a delivery took to run",
    ["kind"],
    registry=REGISTRY,
    # A paced SMS behind a line's backlog, or a post behind Slack's Retry-After, waits
    # minutes: the buckets reach an hour.
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
SMS_SEGMENTS = Counter(
    "smsbridge_sms_segments_total", "SMS segments sent", ["encoding"], registry=REGISTRY
)
PENDING = Gauge(
    "smsbridge_deliveries_pending", "Deliveries waiting to run", ["lane"], registry=REGISTRY
)
AI_TOKENS = Counter(
    "smsbridge_ai_tokens_total", "Tokens used by AI drafts", ["kind"], registry=REGISTRY
)
AI_DRAFTS = Counter(
    "smsbridge_ai_drafts_total", "AI drafts requested", ["outcome"], registry=REGISTRY
)
CHAT_CONNECTED = Gauge(
    "smsbridge_chat_connected",
    "1 while a chat platform's long-lived connection (Discord gateway, Slack Socket Mode) is up",
    ["platform"],
    registry=REGISTRY,
)
BUILD = Info("smsbridge_build", "Version of smsbridge and Python", registry=REGISTRY)

# The label values each metric is known to take, given a zero sample at start.
WEBHOOK_OUTCOMES = {
    "twilio_sms": (
        "stored",
        "duplicate",
        "unknown_line",
        "forbidden",
        "bad_request",
        "bad_sender",
        "error",
        "dropped",
        "parked",
    ),
    "twilio_status": ("ok", "ignored", "forbidden", "bad_request"),
}
DELIVERY_KINDS = ("sms.send", "chat.message", "chat.header", "chat.status", "chat.notice")
DELIVERY_OUTCOMES = ("done", "failed", "unknown", "canceled", "retry")
AI_OUTCOMES = ("ok", "not_configured", "timeout", "error", "rate_limited", "refused", "unreachable")


def initialise(lanes: list[str]) -> None:
    """Zero samples for every known label and the lanes this process queues for; the
    build info. (Chat connections appear when their bridge reports them up.)"""
    from importlib.metadata import PackageNotFoundError, version
    from platform import python_version

    try:
        own = version("smsbridge")
    except PackageNotFoundError:
        own = "unknown"
    BUILD.info({"version": own, "python": python_version()})
    for source, outcomes in WEBHOOK_OUTCOMES.items():
        for outcome in outcomes:
            WEBHOOKS.labels(source, outcome)
    for kind in DELIVERY_KINDS:
        DELIVERY_SECONDS.labels(kind)
        for outcome in DELIVERY_OUTCOMES:
            DELIVERIES.labels(kind, outcome)
    for encoding in ("GSM-7", "UCS-2"):
        SMS_SEGMENTS.labels(encoding)
    for kind in ("prompt", "completion"):
        AI_TOKENS.labels(kind)
    for outcome in AI_OUTCOMES:
        AI_DRAFTS.labels(outcome)
    for lane in lanes:
        PENDING.labels(lane).set(0)


PARKED = Gauge(
    "smsbridge_received_sms_parked",
    "Received SMS whose apply kept failing, parked until someone looks",
    registry=REGISTRY,
)

# Where chat and the database meet (crash windows and downtime).
THREADS_ADOPTED = Counter(
    "smsbridge_threads_adopted_total",
    "Header cards found in chat after a crash and adopted instead of posted again",
    ["platform"],
    registry=REGISTRY,
)
CATCHUP_MESSAGES = Counter(
    "smsbridge_catchup_messages_total",
    "Teammates' messages read back from chat after downtime, by what became of them",
    ["platform", "outcome"],
    registry=REGISTRY,
)
UNMAPPED_MESSAGES = Counter(
    "smsbridge_unmapped_thread_messages_total",
    "Teammates' messages in a thread of ours that maps to no conversation (answered)",
    ["platform"],
    registry=REGISTRY,
)
INBOUND_APPLIED = Counter(
    "smsbridge_inbound_applied_total",
    "Received SMS applied (conversation, message, chat posts queued)",
    registry=REGISTRY,
)
INTAKE_BACKLOG = Gauge(
    "smsbridge_intake_backlog",
    "Received SMS stored and answered, not applied yet (parked ones aside)",
    registry=REGISTRY,
)
