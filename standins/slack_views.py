"""Slack views on the stand-in: modals (`views.open`, `views.update`) and App Home
(`views.publish`), checked against the limits Slack enforces and answered as Slack's
view objects."""

from __future__ import annotations

from typing import Any

from standins import slack_interactivity as si
from standins.slack_errors import SlackError, json_arg


class SlackViews:
    """Mixed into SlackWorkspace, which holds `views` and `home_views`."""

    team_id: str
    bot_id: str
    views: dict[str, dict[str, Any]]
    home_views: dict[str, dict[str, Any]]

    def _view(self, spec: Any, view_id: str | None = None) -> dict[str, Any]:
        spec = json_arg(spec)
        if not isinstance(spec, dict) or spec.get("type") not in ("modal", "home"):
            raise SlackError("invalid_arguments")
        # Slack refuses a view past its limits: 24-character title and buttons, 3,000
        # characters of private_metadata, 100 blocks.
        names = [(spec.get(k) or {}).get("text", "") for k in ("title", "submit", "close")]
        too_long = any(len(n) > 24 for n in names) or len(spec.get("private_metadata", "")) > 3000
        if too_long or len(spec.get("blocks") or []) > 100:
            raise SlackError("invalid_arguments")
        return si.view_object(spec, view_id=view_id, team_id=self.team_id, bot_id=self.bot_id)

    def api_views_open(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("trigger_id"):
            raise SlackError("invalid_trigger_id")
        view = self._view(a.get("view"))
        self.views[view["id"]] = view
        return {"view": view}

    def api_views_publish(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("user_id"):
            raise SlackError("invalid_arguments")
        old = self.home_views.get(a["user_id"])
        view = self._view(a.get("view"), old["id"] if old else None)
        self.home_views[a["user_id"]] = self.views[view["id"]] = view
        return {"view": view}

    def api_views_update(self, a: dict[str, Any]) -> dict[str, Any]:
        ext = a.get("external_id")
        old = self.views.get(a.get("view_id") or "") or next(
            (v for v in self.views.values() if ext and v["external_id"] == ext), None
        )
        if old is None:
            raise SlackError("not_found")
        if a.get("hash") and a["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        view = self._view(a.get("view"), old["id"])
        self.views[view["id"]] = view
        for user, home in self.home_views.items():
            if home["id"] == view["id"]:
                self.home_views[user] = view
        return {"view": view}
