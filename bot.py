"""Mastermind: a Discord bot that runs online Mastermind peer-mentoring groups.

`python bot.py` runs the bot, `python bot.py invite` prints its invite URL, and
`python bot.py migrate-db <postgresql-url>` copies the SQLite database into PostgreSQL.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import discord
from discord.ext import commands
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cogs.common.errors import MastermindTree
from cogs.common.forms import OpenForms
from cogs.common.outbox import Outbox
from core.hooks import Hook, HookRegistry
from core.models import Group
from core.ports import Store
from core.session import Announce, SessionState
from core.session.service import SessionService
from core.shards import ShardSet
from core.timers import TimerService
from storage import DatabaseUrlError, Storage, is_postgres_url
from storage.sql import Database

if TYPE_CHECKING:
    from cogs.feedback._cog import FeedbackCog
    from cogs.sessions._runner import SessionRunner

log = logging.getLogger("mastermind")

Clock = Callable[[], datetime]
AnnouncePart = tuple[str, list[discord.ui.Item[Any]]]


class BotHooks(HookRegistry):
    """Where features take part in each other's work. A cog adds its entries in `cog_load`
    and removes them all in `cog_unload` (`bot.hooks.remove(self)`); start-up re-arms are
    registered with the timer service instead (`bot.timers.register(..., rearm=...)`)."""

    def __init__(self) -> None:
        # Fields `/group info` shows (next meeting, sessions held).
        self.group_info: Hook[[Group, datetime], list[tuple[str, str]]] = Hook("group info")
        # Winds down what runs in a group (a live session) before it is archived.
        self.archive: Hook[[Group], None] = Hook("archive")
        # Text and buttons added to a floor announcement (open next steps at check-in).
        # The first part joins the announcement, any further parts follow it as messages of
        # their own.
        self.announce_extras: Hook[[Group, SessionState, Announce], list[AnnouncePart]] = Hook(
            "announce extra"
        )


# Exactly what the bot does: roles and private channels for groups, messages with embeds and
# files, server mute for the talking stick (and the audit log, to tell a moderator's mutes from
# its own), scheduled events, reading the channels it posts in, and deleting its own
# announcements in bulk after a session (Manage Messages).
REQUIRED_PERMISSIONS = discord.Permissions(
    view_audit_log=True,
    manage_roles=True,
    manage_channels=True,
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    manage_messages=True,
    mute_members=True,
    connect=True,
    create_events=True,
    manage_events=True,
    send_polls=True,
)

COGS = (
    "cogs.groups",
    "cogs.profiles",
    "cogs.admin",
    "cogs.schedule",
    "cogs.sessions",
    "cogs.feedback",
    "cogs.reports",
    "cogs.cohorts",
)


class Settings(BaseSettings):
    """Configuration from the environment (and `.env`); nothing is read until it is built."""

    model_config = SettingsConfigDict(
        env_prefix="MASTERMIND_", env_file=".env", extra="ignore", populate_by_name=True
    )

    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token")
    )
    database_path: Path = Path("mastermind.db")
    # PostgreSQL (`postgresql://user:password@host/db`) instead of the SQLite file above.
    database_url: str | None = None
    dev_guild: int | None = None
    log_level: str = "INFO"
    application_id: int | None = None
    shard_count: int | None = None
    """How many shards the bot runs in all (`MASTERMIND_SHARD_COUNT`); unset, one."""
    shard_ids: Annotated[list[int] | None, NoDecode] = None
    """The shards this process connects (`MASTERMIND_SHARD_IDS=0,1`); unset, all of them."""

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shard_ids(cls, value: object) -> object:
        """`0,1` (or `0 1`) from the environment; a list as it is."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return [part.strip() for part in parts] or None
        return value

    @model_validator(mode="after")
    def _check_shards(self) -> Settings:
        if self.shard_ids is not None and self.shard_count is None:
            raise ValueError(
                "MASTERMIND_SHARD_IDS needs MASTERMIND_SHARD_COUNT (the total number of shards)"
            )
        if self.shard_count is not None:
            try:
                ShardSet.of(self.shard_count, self.shard_ids)
            except ValueError as error:
                raise ValueError(f"MASTERMIND_SHARD_COUNT/MASTERMIND_SHARD_IDS: {error}") from None
        return self

    def shard_set(self) -> ShardSet:
        """The shards this process runs (every one when nothing is set)."""
        return ShardSet.of(self.shard_count or 1, self.shard_ids)


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.members = True
    wanted.voice_states = True
    # Message events (without their content) tell where the session panel is in its channel.
    wanted.guild_messages = True
    wanted.polls = True
    wanted.guild_scheduled_events = True
    # Audit-log entries name who changed a member's server mute (the talking stick).
    wanted.moderation = True
    return wanted


class MastermindBot(commands.AutoShardedBot):
    """The bot, always sharded: unset settings are one shard, which is one gateway connection
    as a plain bot has; with settings it connects exactly the shards this process runs."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.shard_set = settings.shard_set()
        """The shards whose guilds this process runs: what it re-arms and delivers."""
        super().__init__(
            shard_count=self.shard_set.count,
            shard_ids=list(self.shard_set.ids),
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=MastermindTree,
            help_command=None,
        )
        self.settings = settings
        self.clock = clock
        wired = Storage.from_settings(settings.database_url, settings.database_path)
        self.database: Database = wired.db
        """The database itself, for the shell's own wiring and for benchmarks; cogs go
        through `storage`."""
        self.storage: Store = wired
        self.timers = TimerService(clock)
        # Live sessions belong to the bot, not to one cog: feedback asks who is taking part.
        self.sessions = SessionService(self.storage.sessions)
        self.open_forms = OpenForms()
        # Every Discord side effect that follows a state change is delivered from here.
        self.outbox = Outbox(self)
        # What happens on Discord after a session's transition; set by the sessions cog.
        self.session_runner: SessionRunner | None = None
        # The feedback feature, which its buttons and forms call; set while it is loaded.
        self.feedback: FeedbackCog | None = None
        self._ready_once = False
        self.hooks = BotHooks()

    async def group_info_extras(self, group: Group, now: datetime) -> list[tuple[str, str]]:
        """Fields other features add to `/group info` (next meeting, sessions held)."""
        return [
            field
            for fields in await self.hooks.group_info.call_each(group, now)
            for field in fields
        ]

    async def before_group_archived(self, group: Group) -> None:
        """Let features wind down what runs in a group (a live session) before it is archived."""
        await self.hooks.archive.call_each(group)

    async def setup_hook(self) -> None:
        await self.storage.open()
        for name in COGS:
            await self.load_extension(name)
        await self.sync_commands_if_changed()

    async def on_ready(self) -> None:
        """Timers start once the gateway cache is filled, so overdue work can reach Discord.

        Start-up is isolated: each guild's member fetch and each feature's re-arm stands
        alone, and the timer loop runs whatever fails (`TimerService.start_and_rearm`)."""
        if self._ready_once:
            return
        self._ready_once = True
        # Features re-arm from the member cache (who is in voice, who can get a DM); fill it
        # before they look, rather than trusting it to be complete at READY.
        for guild in self.guilds:
            if guild.chunked:
                continue
            try:
                await guild.chunk()
            except Exception:
                log.exception("could not fetch the members of guild %s", guild.id)
        failed = await self.timers.start_and_rearm()
        try:
            # What was written but not delivered before a restart goes out now, collapsed;
            # after the re-arms, so that the live sessions it collapses against are loaded.
            await self.outbox.start()
        except Exception:
            log.exception("the outbox could not resume its deliveries")
        # What start-up loaded (live sessions, caches) lives as long as the process: moving it
        # out of the collector's generations keeps full collections short.
        gc.collect()
        gc.freeze()
        log.info(
            "ready as %s in %d guilds%s",
            self.user,
            len(self.guilds),
            f"; re-arm failed for {', '.join(failed)} (retrying)" if failed else "",
        )

    async def stop_work(self) -> None:
        """Stop the timer loop and the outbox's deliveries (giving back their claims), so
        nothing touches the database once it closes."""
        await self.timers.stop()
        await self.outbox.stop()

    async def close(self) -> None:
        try:
            await self.stop_work()
            await super().close()
        finally:
            await self.storage.close()

    def command_fingerprint(self) -> str:
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        blob = json.dumps(
            {
                "guild": self.settings.dev_guild,
                "application": self.application_id,
                "commands": payload,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    async def sync_commands_if_changed(self) -> bool:
        """Sync the command tree only when the command set changed since the last sync, so
        restarts do not spend Discord's small daily sync allowance."""
        fingerprint = self.command_fingerprint()
        if await self.storage.guilds.get_meta("command_fingerprint") == fingerprint:
            log.info("command tree unchanged; not syncing")
            return False
        if self.settings.dev_guild:
            guild = discord.Object(id=self.settings.dev_guild)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        await self.storage.guilds.set_meta("command_fingerprint", fingerprint)
        log.info("command tree synced")
        return True


def create_bot(settings: Settings, *, clock: Clock | None = None) -> MastermindBot:
    """Build the bot; nothing connects or touches the database until it starts."""
    return MastermindBot(settings, clock or discord.utils.utcnow)


def invite_url(application_id: int | str) -> str:
    return discord.utils.oauth_url(
        application_id,
        permissions=REQUIRED_PERMISSIONS,
        scopes=("bot", "applications.commands"),
    )


NO_TOKEN_HELP = """\
No Discord bot token is set.

1. Open https://discord.com/developers/applications and create an application.
2. Under "Bot", reset the token and copy it; turn on the "Server Members Intent".
3. Put it in the environment or in a .env file beside bot.py:
       DISCORD_TOKEN=your-token-here
4. Run `python bot.py invite` to get the link that adds the bot to your server.
"""


def _application_id_from_token(token: str) -> str | None:
    """A bot token's first part is the application id, base64-encoded."""
    import base64
    import binascii

    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if decoded.isdigit() else None


def _settings_problem(error: ValidationError) -> str:
    """What is wrong with the environment, on one line."""
    problems = []
    for detail in error.errors():
        message = str(detail.get("msg", "")).removeprefix("Value error, ")
        where = ".".join(str(part) for part in detail.get("loc", ()))
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def _one_line(error: BaseException) -> str:
    # A server's error names the failure in its primary message; the rest quotes the SQL.
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    text = primary or " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    return text or type(error).__name__


def check_database(settings: Settings) -> str | None:
    """Open (and migrate) the database once before connecting to Discord; what is wrong with
    it (a malformed URL, an unreachable server, a refused password, missing rights) as one
    line, or None."""
    from storage.copy import redact

    where = (
        redact(settings.database_url)
        if settings.database_url and settings.database_url.strip()
        else str(settings.database_path)
    )
    try:
        storage = Storage.from_settings(settings.database_url, settings.database_path)
    except DatabaseUrlError as error:
        return str(error)

    async def probe() -> None:
        await storage.open()
        await storage.close()

    try:
        asyncio.run(probe())
    except Exception as error:
        return f"cannot use the database {where}: {_one_line(error)}"
    return None


def migrate_db(settings: Settings, args: list[str]) -> int:
    """`migrate-db <postgresql-url>`: copy the SQLite database into an empty PostgreSQL one."""
    from storage.copy import copy_sqlite_to_postgres

    if len(args) != 1 or not is_postgres_url(args[0]):
        print(
            "usage: python bot.py migrate-db postgresql://user:password@host/database "
            "(copies the SQLite database at MASTERMIND_DATABASE_PATH)",
            file=sys.stderr,
        )
        return 2
    try:
        asyncio.run(copy_sqlite_to_postgres(settings.database_path, args[0].strip(), report=print))
    except Exception as error:
        print(f"migrate-db failed: {_one_line(error)}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "run"
    if command == "demo":
        if "--browser" in args[1:]:
            from demo_browser import main as browser_demo

            return browser_demo(args[1:])
        from demo import run_demo

        return run_demo()
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"invalid settings: {_settings_problem(error)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if command == "invite":
        app_id: Any = settings.application_id
        if app_id is None and settings.discord_token is not None:
            app_id = _application_id_from_token(settings.discord_token.get_secret_value())
        if app_id is None:
            print(
                "Set MASTERMIND_APPLICATION_ID (the Application ID on the developer portal's "
                "General Information page) or DISCORD_TOKEN, then run this again.",
                file=sys.stderr,
            )
            return 2
        print(invite_url(app_id))
        return 0
    if command == "migrate-db":
        return migrate_db(settings, args[1:])
    if command != "run":
        print(f"unknown command {command!r}; use run, invite, demo or migrate-db", file=sys.stderr)
        return 2
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    problem = check_database(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    bot = create_bot(settings)
    bot.run(settings.discord_token.get_secret_value(), log_handler=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
