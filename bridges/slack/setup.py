"""`smsbridge setup slack`: the app manifest with this deployment's public URL filled in,
and the link that opens Slack's "create an app from a manifest" with it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

from bot.config import Settings

CREATE_APP = "https://api.slack.com/apps?new_app=1&manifest_yaml="
PLACEHOLDER = "https://YOUR-HOST"


def manifest_path() -> Path | None:
    """manifests/slack.yaml of the working folder (the image's /app) or of the checkout."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (base / "manifests" / "slack.yaml").is_file():
            return base / "manifests" / "slack.yaml"
    return None


def filled_manifest(template: str, public_url: str) -> str:
    return template.replace(PLACEHOLDER, public_url.rstrip("/"))


def run(settings: Settings, _args: argparse.Namespace) -> int:
    path = manifest_path()
    if path is None:
        print("error: manifests/slack.yaml not found here or beside the package", file=sys.stderr)
        return 1
    manifest = filled_manifest(path.read_text(), settings.public_url)
    if settings.public_url.startswith("http://"):
        print(
            f"warning: {settings.public_url} is not https; Slack requires https request URLs "
            "(set SMSBRIDGE_PUBLIC_URL, or use Socket Mode)",
            file=sys.stderr,
        )
    print(manifest)
    print("# Create the app from this manifest (opens Slack with it filled in):")
    print(CREATE_APP + quote(manifest, safe=""))
    print("# Then: Install to Workspace; SLACK_BOT_TOKEN = Bot User OAuth Token,")
    print("# SLACK_SIGNING_SECRET = Basic Information -> Signing Secret; /invite the bot.")
    return 0
