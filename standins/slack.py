"""Loopback stand-in of the Slack Web API and of Socket Mode, for the real slack_sdk and
slack_bolt clients: `AsyncWebClient(base_url=standin.url + "/api/")`,
`SocketModeClient(app_token, web_client=...)`.

The in-memory workspace and its Web API methods live in slack_web.py, Socket Mode in
slack_socket.py; what Slack sends to an app is built in slack_payloads.py (signed
events, commands) and slack_interactivity.py (interactivity payloads, views)."""

from __future__ import annotations

import json
import mimetypes
import time
import uuid
from typing import Any

from aiohttp import web

from standins import slack_payloads as sp
from standins.base import StandIn
from standins.slack_errors import RateLimited, SlackError, json_arg, truthy
from standins.slack_socket import SlackSocketMode
from standins.slack_web import BOT_NAME, SlackWorkspace, user_object

__all__ = ["SlackError", "SlackStandIn", "file_object"]


def file_object(
    file_id: str,
    name: str,
    *,
    base_url: str,
    team_id: str = sp.TEAM_ID,
    user: str = sp.BOT_USER_ID,
    mimetype: str = "application/octet-stream",
    size: int = 0,
) -> dict[str, Any]:
    """A Slack file object; `url_private` points at the stand-in (`base_url`)."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
    private, now = f"{base_url}/files-pri/{team_id}-{file_id}/{name}", int(time.time())
    # fmt: off
    return {
        "id": file_id, "created": now, "timestamp": now, "name": name, "title": name,
        "mimetype": mimetype, "filetype": {"jpeg": "jpg"}.get(ext, ext),
        "pretty_type": ext.upper(), "user": user, "user_team": team_id, "size": size,
        "mode": "hosted", "external_type": "", "username": "", "url_private": private,
        "url_private_download": f"{base_url}/files-pri/{team_id}-{file_id}/download/{name}",
        "permalink": f"https://{sp.TEAM_DOMAIN}.slack.com/files/{user}/{file_id}/{name}",
        "permalink_public": f"https://slack-files.com/{team_id}-{file_id}-{uuid.uuid4().hex[:10]}",
        "channels": [], "groups": [], "ims": [], "comments_count": 0, "shares": {},
        "is_public": True, "file_access": "visible", "editable": False, "is_external": False,
        "public_url_shared": False, "display_as_bot": False, "has_rich_preview": False,
    }
    # fmt: on


class SlackStandIn(SlackSocketMode, SlackWorkspace, StandIn):
    """Slack Web API (`/api/<method>`), file upload/download URLs, response_url and
    Socket Mode (`/socket`) on one loopback aiohttp server."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        team_id: str = "T0TEST",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        rate_limit_per_channel: float | None = None,
        burst: int = 3,
    ) -> None:
        SlackWorkspace.__init__(self, team_id, bot_user_id, bot_id, rate_limit_per_channel, burst)
        self.bot_token, self.app_token = bot_token, app_token
        self.responses: list[dict[str, Any]] = []
        self._response_targets: dict[str, tuple[str | None, str | None]] = {}
        self._socket_init()
        StandIn.__init__(self)
        self.add_user(bot_user_id, BOT_NAME, is_bot=True)

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/api/{method}", self._api)
        router.add_post("/upload/v1/{file_id}", self._upload)
        router.add_get("/files-pri/{team_file}/{name:.+}", self._file_get)
        router.add_post("/response/{rid}", self._response)
        router.add_get("/socket", self._socket)

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    def fault_body(self, status: int) -> str:
        """Injected faults (`fail_next`) answer in Slack's error shape."""
        error = "ratelimited" if status == 429 else "fatal_error"
        return json.dumps({"ok": False, "error": error})

    async def stop(self) -> None:
        await self._close_sockets()
        await super().stop()

    # ---- helpers for tests ---------------------------------------------------------

    def add_channel(
        self,
        id: str,
        name: str,
        is_member: bool = True,
        *,
        is_private: bool = False,
        members: list[str] | None = None,
    ) -> dict[str, Any]:
        """A channel; `members` (user ids) makes chat.postEphemeral check membership."""
        now = int(time.time())
        flags = ("is_im", "is_mpim", "is_archived", "is_general", "is_shared", "is_ext_shared")
        # fmt: off
        channel: dict[str, Any] = {
            **dict.fromkeys((*flags, "is_org_shared", "is_pending_ext_shared"), False),
            "id": id, "name": name, "name_normalized": name, "is_channel": not is_private,
            "is_group": is_private, "is_private": is_private, "is_member": is_member,
            "created": now, "updated": now * 1000, "creator": "U0ADMIN", "unlinked": 0,
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        # fmt: on
        if members is not None:
            channel["_members"] = set(members)
        self.channels[id] = channel
        self.messages.setdefault(id, [])
        return channel

    def add_user(self, id: str, name: str, **fields: Any) -> dict[str, Any]:
        """A user for users.info (`real_name`, `display_name`, `tz`, `email`, `is_bot`)."""
        self.users[id] = user_object(id, name, team_id=self.team_id, **fields)
        return self.users[id]

    def add_file(
        self, data: bytes, name: str, *, user: str, mimetype: str = "image/png"
    ) -> dict[str, Any]:
        """A file a person uploaded; its `url_private` serves `data` to the bot token only.
        Pass it to `user_message(files=[...])`."""
        fid = sp.make_id("F")
        self.files[fid] = file_object(
            fid, name, base_url=self.url, team_id=self.team_id, user=user, mimetype=mimetype
        )
        self.files[fid]["size"] = len(data)
        self.file_data[fid] = data
        return self.files[fid]

    def user_message(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A person posts (stored in the workspace); returns the `message` event."""
        event = sp.message_event(
            channel, user, text, thread_ts=thread_ts, files=files, team=self.team_id,
            parent_user_id=self.bot_user_id,
        )  # fmt: skip
        drop = ("channel", "event_ts", "channel_type")
        self._store(channel, {k: v for k, v in event.items() if k not in drop})
        return event

    def delete_message(self, channel: str, ts: str, *, tombstone: bool = False) -> dict[str, Any]:
        """A person deletes a message; returns the `message_deleted` event. A thread
        parent takes its replies with it, unless `tombstone` leaves Slack's "This message
        was deleted." in its place (replies then stay and can still be posted)."""
        msg = self._message(channel, ts)
        event = sp.message_deleted_event(channel, {k: v for k, v in msg.items() if k[0] != "_"})
        self._remove(channel, ts, tombstone=tombstone)
        return event

    def response_url(self, channel: str | None = None, message_ts: str | None = None) -> str:
        """A response_url served here; given the message it belongs to, posting
        `replace_original` / `delete_original` to it edits / deletes that message."""
        rid = uuid.uuid4().hex
        self._response_targets[rid] = (channel, message_ts)
        return f"{self.url}/response/{rid}"

    # ---- HTTP ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        try:
            args: dict[str, Any] = dict(request.query)
            if request.content_type == "application/json":
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    raise SlackError("invalid_json") from None
                if not isinstance(body, dict):
                    raise SlackError("json_not_object")
                args.update(body)
            elif request.method == "POST":
                form = await request.post()
                args.update({k: form[k] for k in form})
            if handler is None:
                return web.json_response(
                    {"ok": False, "error": "unknown_method", "req_method": method}
                )
            self._check_token(method, args.pop("token", None) or request.headers)
            result = handler(args)
        except SlackError as e:
            return web.json_response({"ok": False, "error": e.code})
        except RateLimited as e:
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(e.retry_after)},
            )
        return web.json_response({"ok": True, **result})

    def _check_token(self, method: str, given: Any) -> None:
        if not isinstance(given, str):  # the request headers
            auth = given.get("Authorization", "")
            given = auth[7:] if auth.startswith("Bearer ") else ""
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if not given:
            raise SlackError("not_authed")
        if given != wanted:
            known = given in (self.bot_token, self.app_token)
            raise SlackError("not_allowed_token_type" if known else "invalid_auth")

    async def _response(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        try:
            if request.content_type == "application/json":
                body = await request.json()
            else:
                body = json_arg((await request.post()).get("payload", "{}"))
        except (ValueError, SlackError):
            return web.Response(status=400, text="invalid_payload")
        self.responses.append({"id": rid, "body": body})
        channel, ts = self._response_targets.get(rid, (None, None))
        if channel and ts and self._find(channel, ts) is not None:
            if truthy(body.get("delete_original")):
                self._remove(channel, ts, tombstone=True)
            elif truthy(body.get("replace_original")):
                target = self._message(channel, ts)
                target.update({k: body[k] for k in ("text", "blocks", "attachments") if k in body})
        return web.json_response({"ok": True})

    # ---- files: upload URL (files_upload_v2), url_private needing the bot token ------

    def api_files_getUploadURLExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("filename") or not str(a.get("length", "")).isdigit():
            raise SlackError("invalid_arguments")
        fid = sp.make_id("F")
        # Slack infers the type of an uploaded file from its name.
        mimetype = mimetypes.guess_type(a["filename"])[0] or "application/octet-stream"
        self.files[fid] = file_object(
            fid,
            a["filename"],
            base_url=self.url,
            team_id=self.team_id,
            size=int(a["length"]),
            mimetype=mimetype,
        )
        return {"upload_url": f"{self.url}/upload/v1/{fid}", "file_id": fid}

    def api_files_completeUploadExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        wanted = json_arg(a.get("files"))
        if not isinstance(wanted, list) or not wanted:
            raise SlackError("invalid_arguments")
        if any(f.get("id") not in self.file_data for f in wanted):
            raise SlackError("file_not_found")
        files = [self.files[f["id"]] for f in wanted]
        for f, spec in zip(files, wanted, strict=True):
            f["title"] = spec.get("title") or f["name"]
        refs = [a["channel_id"]] if a.get("channel_id") else []
        refs += [c for c in str(a.get("channels") or "").split(",") if c]
        thread_ts = a.get("thread_ts") or None
        for cid in [self._channel(ref)["id"] for ref in refs]:
            if thread_ts and self._find(cid, thread_ts) is None:
                raise SlackError("thread_not_found")
            # fmt: off
            msg = {"type": "message", "text": a.get("initial_comment") or "", "files": files,
                   "upload": True, "user": self.bot_user_id, "bot_id": self.bot_id,
                   "display_as_bot": False, "ts": sp.make_ts(), "team": self.team_id}
            share = {"ts": msg["ts"], "channel_name": self.channels[cid]["name"],
                     "team_id": self.team_id, "share_user_id": self.bot_user_id,
                     "reply_users": [], "reply_count": 0}
            # fmt: on
            if thread_ts:
                msg["thread_ts"] = share["thread_ts"] = thread_ts
            for f in files:
                f["channels"] = [*f["channels"], cid]
                f["shares"].setdefault("public", {}).setdefault(cid, []).append(share)
            self._store(cid, msg)
        return {"files": files}

    def api_files_info(self, a: dict[str, Any]) -> dict[str, Any]:
        if a.get("file") not in self.files:
            raise SlackError("file_not_found")
        file = self.files[a["file"]]
        return {"file": file, "comments": [], "response_metadata": {"next_cursor": ""}}

    async def _upload(self, request: web.Request) -> web.Response:
        fid = request.match_info["file_id"]
        if fid not in self.files:
            return web.Response(status=404, text="file not found")
        data = await request.read()
        self.file_data[fid] = data
        self.files[fid]["size"] = len(data)
        return web.Response(text=f"OK - {len(data)}")

    async def _file_get(self, request: web.Request) -> web.Response:
        fid = request.match_info["team_file"].rsplit("-", 1)[-1]
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            return web.Response(status=401, text="not_authed")
        if fid not in self.file_data:
            return web.Response(status=404, text="file_not_found")
        return web.Response(body=self.file_data[fid], content_type=self.files[fid]["mimetype"])
