"""What `smsbridge check` warns a deployer about that is valid but likely to hurt: SQLite
on a platform whose disk is wiped at each restart or deploy."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import Settings

# Variables these platforms set in every process, and what their disks keep.
EPHEMERAL_DISKS = {
    "DYNO": "Heroku",
    "RENDER": "Render (without a persistent disk)",
    "FLY_APP_NAME": "Fly.io (without a volume)",
    "RAILWAY_ENVIRONMENT": "Railway (without a volume)",
    "K_SERVICE": "Cloud Run",
}


def deployment_warnings(settings: Settings, env: Mapping[str, str]) -> list[str]:
    warnings = []
    if settings.database_url.startswith("sqlite"):
        for variable, platform in EPHEMERAL_DISKS.items():
            if env.get(variable):
                warnings.append(
                    f"SQLite on {platform} ({variable} is set): its disk is wiped at each "
                    "restart or deploy and every conversation with it; set "
                    "SMSBRIDGE_DATABASE_URL (or DATABASE_URL) to PostgreSQL"
                )
                break
    return warnings
