"""Guild and application-command routes of the Discord stand-in: guild, its channels,
active threads and members; bulk overwrite (PUT) and listing of global and guild commands,
validated like Discord and kept so interactions can be built from what the bot synced."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from standins.discord_interactions import DiscordInteractions, json_response
from standins.discord_model import THREAD_TYPES
from standins.discord_objects import DiscordError, invalid


class DiscordGuilds(DiscordInteractions):
    def _guild_routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "/guilds/{guild_id}", self._guild),
            ("GET", "/guilds/{guild_id}/channels", self._guild_channels),
            ("GET", "/guilds/{guild_id}/threads/active", self._active_threads),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._member),
            ("GET", "/applications/{app_id}/commands", self._commands),
            ("PUT", "/applications/{app_id}/commands", self._commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._commands),
        ]

    def _get_guild(self, request: web.Request) -> dict[str, Any]:
        guild = self.guilds.get(request.match_info["guild_id"])
        if guild is None:
            raise DiscordError(10004)
        return guild

    async def _guild(self, request: web.Request) -> web.Response:
        guild = self._get_guild(request)
        extra = {}
        if request.query.get("with_counts") in ("true", "1", "True"):
            count = len(self.members[guild["id"]])
            extra = {"approximate_member_count": count, "approximate_presence_count": 0}
        return json_response({**guild, **extra})

    async def _guild_channels(self, request: web.Request) -> web.Response:
        gid = self._get_guild(request)["id"]
        in_guild = [c for c in self.channels.values() if c.get("guild_id") == gid]
        return json_response([c for c in in_guild if c["type"] not in THREAD_TYPES])

    async def _active_threads(self, request: web.Request) -> web.Response:
        gid = self._get_guild(request)["id"]
        in_guild = [c for c in self.channels.values() if c.get("guild_id") == gid]
        threads = [c for c in in_guild if c["type"] in THREAD_TYPES]
        threads = [c for c in threads if not c["thread_metadata"]["archived"]]
        return json_response({"threads": threads, "members": []})

    async def _member(self, request: web.Request) -> web.Response:
        gid = self._get_guild(request)["id"]
        return json_response(self.member_of(gid, request.match_info["user_id"]))

    async def _commands(self, request: web.Request) -> web.Response:
        if request.match_info["app_id"] != self.application_id:
            raise DiscordError(50001)
        guild_id = request.match_info.get("guild_id")
        if guild_id is not None:
            self._get_guild(request)
        if request.method == "PUT":
            body, _ = await self._body(request)
            self.commands[guild_id] = self._overwrite(guild_id, body.get("_list") or [])
        return json_response(self.commands.get(guild_id, []))

    def _overwrite(self, guild_id: str | None, items: list[dict]) -> list[dict[str, Any]]:
        """Bulk overwrite, validated like Discord; a command keeps its id across syncs."""
        old = {(c["name"], c["type"]): c for c in self.commands.get(guild_id, [])}
        out = []
        for i, cmd in enumerate(items):
            ctype = int(cmd.get("type") or 1)
            name, desc = str(cmd.get("name", "")), str(cmd.get("description") or "")
            if not re.fullmatch(r"[-_\w]{1,32}", name) or (ctype == 1 and name != name.lower()):
                raise invalid(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            if ctype == 1 and not 1 <= len(desc) <= 100:
                raise invalid(f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long.")
            if len(cmd.get("options") or []) > 25:
                raise invalid(f"{i}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")
            prev = old.get((name, ctype))
            stored = {
                "id": prev["id"] if prev else self.ids.next(), "type": ctype, "name": name,
                "application_id": self.application_id, "version": self.ids.next(),
                "default_member_permissions": None, "description": desc, "dm_permission": True,
                "contexts": None, "integration_types": [0], "nsfw": False, **cmd,
            }  # fmt: skip
            if guild_id:
                stored["guild_id"] = guild_id
            out.append(stored)
        return out
