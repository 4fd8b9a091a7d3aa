"""Prometheus metrics, served at GET /metrics."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOKS = Counter(
    "smsbridge_webhooks_total", "Webhooks received", ["source", "outcome"], registry=REGISTRY
)
DELIVERIES = Counter(
    "smsbridge_deliveries_total", "Delivery outcomes", ["kind", "outcome"], registry=REGISTRY
)
DELIVERY_SECONDS = Histogram(
    "smsbridge_delivery_seconds", "Time a delivery took to run", ["kind"], registry=REGISTRY
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
