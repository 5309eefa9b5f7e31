"""The ports: what cogs and services need of the storage, one protocol per repository.

Cogs depend on these, never on a storage module; `storage/` implements them once, in
the SQL both backends speak, over whichever `Database` runs (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.cohorts.model import Cohort, CohortMember, Mix, Plan, Proposal, StoredProposal
from core.feedback import (
    FeedbackDetails,
    FeedbackRequest,
    FeedbackResponse,
    NextStep,
    Poll,
    StepStatus,
)
from core.models import AuditEntry, Group, GuildSettings, Membership, Note, Profile
from core.outbox import OutboxRow, Outgoing
from core.privacy import Erasure
from core.records import EndedSession, FeedbackRecord, PendingTidy, SessionRow
from core.schedule import Recurrence, Schedule
from core.session import SessionState
from core.shards import ShardSet
from core.stats import SessionFacts


class GroupStore(Protocol):
    """The groups repository."""

    async def create(
        self,
        *,
        guild_id: int,
        name: str,
        description: str,
        capacity: int,
        timezone: str | None,
        role_id: int | None,
        category_id: int | None,
        text_channel_id: int | None,
        voice_channel_id: int | None,
        created_by: int,
        now: datetime,
    ) -> Group:
        """The group and its creator as facilitator and member, in one transaction. Raises
        `DuplicateName` when the guild has a group of that name (any case)."""
        ...

    async def get(self, group_id: int) -> Group | None: ...

    async def many(self, group_ids: Iterable[int]) -> dict[int, Group]:
        """The groups with these ids, in one query (start-up loads thousands at once)."""
        ...

    async def by_name(self, guild_id: int, name: str) -> Group | None: ...

    async def by_channel(self, channel_id: int) -> Group | None: ...

    async def list_for_guild(
        self, guild_id: int, *, include_archived: bool = ...
    ) -> list[Group]: ...

    async def search(self, guild_id: int, text: str, limit: int = ...) -> list[Group]:
        """Groups whose name contains the text, any case; names that start with it first, then
        active before archived groups. `%` and `_` are matched literally."""
        ...

    async def set_discord_ids(
        self,
        group_id: int,
        *,
        role_id: int | None,
        category_id: int | None,
        text_channel_id: int | None,
        voice_channel_id: int | None,
    ) -> None: ...

    async def archive(self, group_id: int, now: datetime) -> None: ...

    async def members(self, group_id: int) -> list[Membership]: ...

    async def member_ids(self, group_ids: Iterable[int]) -> dict[int, set[int]]:
        """Who belongs to each of these groups, in one query; a group without members maps
        to an empty set."""
        ...

    async def membership(self, group_id: int, user_id: int) -> Membership | None: ...

    async def add_member(
        self, group_id: int, user_id: int, now: datetime, *, capacity: int
    ) -> bool:
        """Add a member unless the group is full; the count and the insert are one transaction,
        so two people clicking at once cannot both take the last seat."""
        ...

    async def restore_member(self, membership: Membership) -> None:
        """Put back a membership exactly as it was (undoing a removal Discord refused)."""
        ...

    async def remove_member(self, group_id: int, user_id: int) -> None: ...

    async def set_facilitator(self, group_id: int, user_id: int, value: bool) -> None: ...

    async def remove_user_from_guild(self, guild_id: int, user_id: int) -> list[int]:
        """Someone left the server: drop their memberships there. Returns the groups affected."""
        ...

    async def promote_if_leaderless(self, group_id: int) -> int | None:
        """Make the longest-standing member facilitator of a group that has members but no
        facilitator left. Returns who was promoted, if anyone."""
        ...

    async def member_counts(self, guild_id: int) -> dict[int, int]:
        """How many members each group of the guild has (groups with none are absent)."""
        ...

    async def memberships_of_user(self, guild_id: int, user_id: int) -> list[Membership]:
        """The person's memberships in the guild's groups (with whether they facilitate)."""
        ...

    async def groups_of_user(self, guild_id: int, user_id: int) -> list[Group]: ...


class ProfileStore(Protocol):
    """The profiles repository."""

    async def get(self, user_id: int) -> Profile | None: ...

    async def many(self, user_ids: list[int]) -> dict[int, Profile]:
        """The profiles of these people (those who have one), in one query."""
        ...

    async def update(self, user_id: int, changes: dict[str, str | None], now: datetime) -> Profile:
        """Set only the fields given; the others keep their values."""
        ...


class GuildStore(Protocol):
    """The guilds repository."""

    async def settings(self, guild_id: int) -> GuildSettings: ...

    async def update_settings(self, guild_id: int, changes: dict[str, Any]) -> GuildSettings: ...

    async def audit(
        self, guild_id: int, actor_id: int, action: str, detail: str, now: datetime
    ) -> None: ...

    async def audit_entries(self, guild_id: int) -> list[AuditEntry]: ...

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...


class SessionStore(Protocol):
    """The sessions repository."""

    def version(self, session_id: int) -> int | None:
        """The version this process holds of a session (None: never loaded here)."""
        ...

    async def create(
        self,
        *,
        group_id: int,
        guild_id: int,
        started_by: int,
        now: datetime,
        build: Callable[[int], tuple[SessionState, list[Outgoing]]],
    ) -> SessionState:
        """Insert the session, its first state and the outbox rows of its first effects in
        one transaction (the state needs the id).

        The partial unique index refuses a second live session of the same group."""
        ...

    async def save_state(self, state: SessionState, outgoing: Sequence[Outgoing] = ...) -> None:
        """The new state and the outbox rows of its effects, atomically, in one trip to the
        writer (so a burst of hand-overs shares its group commits); only over the version
        this process holds, else `StaleSession` and nothing is written."""
        ...

    def encode_ahead(self, state: SessionState, outgoing: Sequence[Outgoing]) -> None:
        """Encode now a save that is coming (a hand-over prepared before its deadline), so
        that saving this very state and these rows later only writes them."""
        ...

    async def save_states(
        self, saves: Sequence[tuple[SessionState, Sequence[Outgoing]]]
    ) -> set[int]:
        """Many sessions' new states with their outbox rows in one unit of work (deadlines
        that fell together), each only over the version this process holds; returns the ids
        of the stale ones, for which nothing was written."""
        ...

    async def finish(
        self,
        state: SessionState,
        group_id: int,
        attendance: dict[int, int],
        now: datetime,
        outgoing: Sequence[Outgoing] = ...,
    ) -> None:
        """The end of a session, atomically: the final state, segment records, attendance,
        hot-seat history, the feedback request (with its close and reminder times) and the
        outbox rows of the summary and the feedback message."""
        ...

    async def set_panel(self, session_id: int, channel_id: int, message_id: int) -> None: ...

    async def panel_location(self, session_id: int) -> tuple[int, int] | None: ...

    async def get(self, session_id: int) -> SessionRow | None:
        """The stored session, to read (the version this process holds does not change)."""
        ...

    async def reload(self, session_id: int) -> SessionRow | None:
        """The stored session, to carry on from: its version becomes the one this process
        holds (after a `StaleSession`, or to adopt it)."""
        ...

    async def live(self, shards: ShardSet = ...) -> list[SessionRow]:
        """The live sessions of `shards`' guilds (every guild by default), to adopt."""
        ...

    async def live_for_group(self, group_id: int) -> SessionRow | None: ...

    async def count_for_group(self, group_id: int) -> int: ...

    async def last_hotseats(self, group_id: int) -> dict[int, datetime | None]: ...

    async def add_note(
        self,
        session_id: int,
        author_id: int,
        for_member_id: int | None,
        kind: str,
        text: str,
        now: datetime,
    ) -> int: ...

    async def notes(self, session_id: int) -> list[Note]: ...

    async def segment_rows(self, session_id: int) -> list[dict[str, object]]: ...

    async def record_voice_join(
        self, guild_id: int, user_id: int, channel_id: int, at: datetime
    ) -> None: ...

    async def forget_voice_join(self, guild_id: int, user_id: int) -> None: ...

    async def voice_joins(self, channel_id: int) -> dict[int, datetime]:
        """When each person now in the channel joined it (as far as the bot saw)."""
        ...


class FeedbackStore(Protocol):
    """The feedback repository."""

    async def open_request(
        self,
        *,
        session_id: int,
        group_id: int,
        opened_at: datetime,
        closes_at: datetime,
        remind_at: datetime,
    ) -> FeedbackRequest: ...

    async def set_message(self, session_id: int, channel_id: int, message_id: int) -> None: ...

    async def request(self, session_id: int) -> FeedbackRequest | None: ...

    async def open_requests(self, shards: ShardSet = ...) -> list[FeedbackRequest]:
        """Open requests of `shards`' guilds (of every guild by default)."""
        ...

    async def claim_reminder(
        self, session_id: int, now: datetime, effects: Sequence[Outgoing]
    ) -> bool:
        """Record the reminder as sent and write the outbox rows that send it, in one
        transaction; False (and nothing written) when it was recorded before."""
        ...

    async def reminder_missed(self, session_id: int, user_id: int) -> None:
        """The member's DMs are closed: the reminder's channel message is to name them."""
        ...

    async def reminder_misses(self, session_id: int) -> list[int]:
        """Whom the reminder's DM could not reach, by id."""
        ...

    async def close(self, session_id: int, now: datetime) -> bool: ...

    async def attendees(self, session_id: int) -> list[int]: ...

    async def latest_attended(
        self, guild_id: int, user_id: int, group_id: int | None
    ) -> tuple[int, int] | None:
        """(session id, group id) of the latest ended session the person attended."""
        ...

    async def latest_session(self, group_id: int) -> int | None: ...

    async def rate(self, session_id: int, user_id: int, rating: int, now: datetime) -> int | None:
        """Set or change the person's one rating; returns the rating it replaced (None when
        this is their first). Runs on the writer's thread: a burst of clicks shares commits."""
        ...

    async def save_details(
        self,
        *,
        session_id: int,
        group_id: int,
        user_id: int,
        details: FeedbackDetails,
        now: datetime,
    ) -> list[int]:
        """Store the form and turn its next steps into steps, in one transaction.

        Sending the form again keeps the steps it still lists (same id, same status), drops
        the open ones it no longer lists and adds the new lines. Returns the ids of the steps
        the form lists, in its order. Runs on the writer's thread, like `rate`."""
        ...

    async def save_draft(
        self, session_id: int, user_id: int, values: Mapping[str, str], now: datetime
    ) -> None:
        """Keep a refused form exactly as it was typed (the last one wins), committed before
        the person is told, so the form can be reopened with it."""
        ...

    async def draft(self, session_id: int, user_id: int) -> dict[str, str] | None:
        """The refused form the person may reopen, field by field; None if there is none."""
        ...

    async def response(self, session_id: int, user_id: int) -> FeedbackResponse | None: ...

    async def responses(self, session_id: int) -> list[FeedbackResponse]: ...

    async def count_responses(self, session_id: int) -> int:
        """Respondents: people who left feedback on the session, a rating or the details form
        or both (one `feedback` row each; the same definition as the reports)."""
        ...

    async def respondents(self, session_id: int) -> set[int]:
        """Who has left feedback on the session (see `count_responses`)."""
        ...

    async def resources_and_referrals(self, session_id: int) -> dict[int, dict[str, list[str]]]:
        """Per member, the resources and referrals they got from a session:
        `{member_id: {"resources": [...], "referrals": [...]}}`.

        Notes taken during the session (`/session note`, `Add note`) of kind resource or
        referral count for the member they were for; then each non-empty line of the
        member's own feedback form. The same item twice (case and spacing aside) counts once.
        Notes for nobody in particular (taken while nobody held the floor) are left out."""
        ...

    async def step(self, step_id: int) -> NextStep | None: ...

    async def open_steps(self, group_id: int, owner_id: int) -> list[NextStep]:
        """Steps not yet done (open, partly, not yet), oldest first."""
        ...

    async def steps_of(
        self, guild_id: int, owner_id: int, groups: Collection[int] | None, recent_done: int = ...
    ) -> list[NextStep]:
        """Every step not done yet, oldest first (the most overdue lead), then the
        `recent_done` most recently done ones; only of `groups` unless that is None."""
        ...

    async def set_step_status(
        self, step_id: int, status: StepStatus, by: int, now: datetime
    ) -> None: ...

    async def create_poll(
        self,
        *,
        guild_id: int,
        group_id: int,
        channel_id: int,
        message_id: int,
        question: str,
        options: list[str],
        created_by: int,
        created_at: datetime,
        closes_at: datetime,
    ) -> int: ...

    async def poll(self, poll_id: int) -> Poll | None: ...

    async def open_polls(self, shards: ShardSet = ...) -> list[Poll]:
        """Open polls of `shards`' guilds (of every guild by default)."""
        ...

    async def close_poll(self, poll_id: int, results: dict[str, int], now: datetime) -> None: ...


class ScheduleStore(Protocol):
    """The schedules repository."""

    async def get(self, group_id: int) -> Schedule | None: ...

    async def all(self, shards: ShardSet = ...) -> list[Schedule]:
        """Every schedule of `shards`' guilds (of every guild by default)."""
        ...

    async def by_event(self, event_id: int) -> Schedule | None: ...

    async def put(
        self,
        *,
        group_id: int,
        guild_id: int,
        recurrence: Recurrence,
        set_by: int,
        now: datetime,
        effects: Sequence[Outgoing] = ...,
    ) -> Schedule:
        """Create the group's schedule or replace its recurrence. The Discord event, skipped
        meetings and sent reminders stay: the event is moved to the new time, and a skip or a
        reminder only matters if the new series still has a meeting at that instant."""
        ...

    async def delete(
        self,
        group_id: int,
        *,
        now: datetime | None = ...,
        effects: Callable[[Schedule], Sequence[Outgoing]] = ...,
    ) -> Schedule | None:
        """Remove the schedule with its skips and reminder records, writing the outbox rows
        `effects` gives for it (deleting its event) in the same transaction; returns what
        was removed."""
        ...

    async def set_event(
        self, group_id: int, event_id: int | None, starts_at: datetime | None
    ) -> None:
        """Record the Discord event now kept for the meeting at `starts_at` (None: no event)."""
        ...

    async def forget_event(self, event_id: int) -> Schedule | None:
        """The event was deleted on Discord: drop it from its schedule, if it was one of ours,
        and return that schedule (as it is now, without the event)."""
        ...

    async def skip(
        self,
        group_id: int,
        starts_at: datetime,
        *,
        now: datetime | None = ...,
        effects: Sequence[Outgoing] = ...,
    ) -> None:
        """Skip the meeting at `starts_at`, writing `effects` (the event's replacement) with it."""
        ...

    async def skipped(self, group_id: int) -> frozenset[datetime]: ...

    async def sent_reminders(self, group_id: int, starts_at: datetime) -> frozenset[str]: ...

    async def claim_reminders(
        self,
        group_id: int,
        starts_at: datetime,
        kinds: Iterable[str],
        now: datetime,
        *,
        post: tuple[str, Outgoing] | None = ...,
    ) -> frozenset[str]:
        """Record the reminders as sent and return the kinds this call recorded (those another
        run recorded first are not returned). With `post = (kind, effect)`, the outbox row that
        posts `kind` is written in the same transaction when this call recorded it: a reminder
        is never recorded without the row that posts it, nor posted twice."""
        ...

    async def prune_reminders(self, group_id: int, before: datetime) -> None:
        """Forget the reminder records of meetings that started before `before`."""
        ...

    async def forget_skips(self, group_id: int, instants: Iterable[datetime]) -> None:
        """Forget skips the calendar no longer needs (they are not meetings of the series)."""
        ...

    async def calendar_sequence(self, group_id: int) -> int:
        """The `.ics` SEQUENCE: how many times the group's schedule has changed."""
        ...


class ReportStore(Protocol):
    """The reports repository."""

    async def pseudonym_key(self, guild_id: int, now: datetime) -> bytes:
        """The guild's secret key for pseudonyms, made on first use."""
        ...

    async def session(self, session_id: int) -> EndedSession | None:
        """The session if it has ended (a live one has no report yet)."""
        ...

    async def ended_sessions(self, group_ids: Sequence[int]) -> list[EndedSession]:
        """Ended sessions of these groups, oldest first."""
        ...

    async def ended_sessions_of_guild(self, guild_id: int) -> list[EndedSession]:
        """Ended sessions of every group of the guild, oldest first."""
        ...

    async def latest_session(self, group_id: int) -> EndedSession | None: ...

    async def recent_sessions(self, group_id: int, limit: int = ...) -> list[EndedSession]:
        """The latest ended sessions of a group, newest first (for autocomplete)."""
        ...

    async def session_facts(self, session_ids: Sequence[int]) -> list[SessionFacts]:
        """The facts of these ended sessions, in the order given (six queries for every
        `CHUNK` sessions)."""
        ...

    async def feedback_records(self, session_ids: Sequence[int]) -> list[FeedbackRecord]:
        """Every response to these sessions: oldest session first, then in order of answering."""
        ...


class PrivacyStore(Protocol):
    """The privacy repository."""

    async def has_data(self, user_id: int) -> bool: ...

    async def live_groups_with(self, user_id: int) -> list[int]:
        """Groups whose running session includes the person (they cannot be erased from it)."""
        ...

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the person, in every guild, as plain JSON-ready values."""
        ...

    async def erase(self, user_id: int, now: datetime) -> Erasure | None:
        """Erase the person as the module docstring says, in one transaction: either all of it
        happens or none. None when nothing is stored about them (already erased); raises
        `InLiveSession` when a running session includes them."""
        ...


class CohortStore(Protocol):
    """The cohorts repository."""

    async def create(
        self, *, guild_id: int, name: str, group_size: int, mix: Mix, created_by: int, now: datetime
    ) -> Cohort:
        """Raises `DuplicateName` when the guild has a cohort of that name (any case)."""
        ...

    async def get(self, cohort_id: int) -> Cohort | None: ...

    async def by_name(self, guild_id: int, name: str) -> Cohort | None: ...

    async def search(self, guild_id: int, text: str, limit: int = ...) -> list[Cohort]: ...

    async def set_message(self, cohort_id: int, channel_id: int, message_id: int) -> None: ...

    async def close(self, cohort_id: int) -> bool:
        """Stop sign-ups; False if the cohort was not open."""
        ...

    async def save_member(
        self, cohort_id: int, user_id: int, answers: dict[str, str | None], now: datetime
    ) -> bool | None:
        """Record someone's answers; True when they are new to the cohort, False when they
        changed their answers, None when the cohort's groups are already being created."""
        ...

    async def members(self, cohort_id: int) -> list[CohortMember]: ...

    async def member(self, cohort_id: int, user_id: int) -> CohortMember | None: ...

    async def add_proposal(
        self, cohort_id: int, fingerprint: str, proposal: Proposal, created_by: int, now: datetime
    ) -> StoredProposal: ...

    async def proposal(self, proposal_id: int) -> StoredProposal | None: ...

    async def start_plan(
        self,
        *,
        cohort_id: int,
        proposal_id: int,
        names: list[str],
        started_by: int,
        channel_id: int | None,
        now: datetime,
    ) -> bool:
        """Write the whole plan, and freeze the cohort's answers, in one transaction. False
        when the cohort already has a plan (a second press, or another moderator's)."""
        ...

    async def plan(self, cohort_id: int) -> Plan | None: ...

    async def unfinished_plans(self, shards: ShardSet = ...) -> list[int]:
        """Cohorts of `shards`' guilds whose groups are still being created."""
        ...

    async def step_group(self, cohort_id: int, position: int, group_id: int) -> None: ...

    async def step_members_done(self, cohort_id: int, position: int) -> None: ...

    async def step_schedule_done(self, cohort_id: int, position: int) -> None: ...

    async def finish_plan(self, cohort_id: int, now: datetime) -> bool:
        """Mark the plan done; False if it already was (so only one caller announces it)."""
        ...

    async def group_ids(self, cohort_id: int) -> list[int]:
        """The groups created from the cohort, in order."""
        ...


class SessionMessageStore(Protocol):
    """The session messages repository."""

    async def add(self, session_id: int, channel_id: int, message_id: int, kind: str) -> None: ...

    async def of_session(self, session_id: int) -> dict[int, list[int]]:
        """Message ids by channel, oldest first."""
        ...

    async def count_after(self, session_id: int, message_id: int) -> int:
        """How many of the session's messages came after `message_id` (ids grow with time)."""
        ...

    async def pending_tidies(self, shards: ShardSet = ...) -> list[PendingTidy]:
        """Ended sessions of `shards`' guilds whose messages are still to be tidied (or let
        go)."""
        ...

    async def forget(self, session_id: int) -> None:
        """The tidy is done (or not wanted): nothing of this session is left to delete."""
        ...


class OutboxStore(Protocol):
    """The outbox repository."""

    async def add(self, items: Sequence[Outgoing], now: datetime) -> list[int]:
        """Write `items` in a transaction of their own (or a savepoint of the caller's);
        returns their ids in order."""
        ...

    async def get(self, row_id: int) -> OutboxRow | None: ...

    async def next_in(self, scope: str) -> OutboxRow | None:
        """The scope's first pending row: rows of one scope are delivered in order."""
        ...

    async def pending(self, scope: str) -> list[OutboxRow]: ...

    async def pending_scopes(self, shards: ShardSet = ...) -> list[str]:
        """Scopes of `shards`' guilds with something to deliver, oldest first."""
        ...

    async def waiting(self, wait_for: str) -> list[OutboxRow]: ...

    async def of_scope(self, scope: str) -> list[OutboxRow]:
        """Every row of a scope, whatever its state, in order (for tests and diagnostics)."""
        ...

    async def latest(self, scope: str, kind: str) -> OutboxRow | None:
        """The scope's newest row of `kind`, whatever its state."""
        ...

    async def claim(self, row_id: int, owner: str, now: datetime, lease: timedelta) -> int | None:
        """Claim a pending row for `owner` until `now + lease` and count an attempt, before it
        is made (committed first: after a crash the row is known to have been tried, and its
        create is retried with the same nonce). Returns the attempt count, or None when the
        row is no longer pending or another process holds an unexpired claim on it.

        On PostgreSQL the row is locked (`FOR UPDATE SKIP LOCKED`) inside the claim, so two
        processes claiming at once never both see it free; SQLite has one writer, and its
        conditional UPDATE is the same decision."""
        ...

    async def release_claims(self, owner: str | None) -> int:
        """Give back what `owner` still holds (it is stopping), or every claim (None: a
        process alone with its database starts, so whatever a killed run held is free):
        nobody need wait for the leases to run out. What was being delivered goes again
        with the same nonce."""
        ...

    async def done(self, row_id: int, message_id: int | None, now: datetime) -> None: ...

    async def retry(self, row_id: int, at: datetime, error: str) -> None: ...

    async def failed(self, row_id: int, error: str, now: datetime) -> None: ...

    async def drop(self, row_ids: Sequence[int], reason: str, now: datetime) -> None:
        """Collapsed away: superseded by a later row of the same scope."""
        ...

    async def wait(self, row_id: int, wait_for: str) -> None:
        """Put a row aside until `wait_for` is released; later rows of its scope go on."""
        ...

    async def release(self, wait_for: str, now: datetime) -> list[str]:
        """What was waiting for `wait_for` is pending again; returns the scopes to deliver."""
        ...

    async def waiting_keys(self, prefix: str, shards: ShardSet = ...) -> list[str]:
        """What rows of `shards`' guilds wait for, among keys starting with `prefix`."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget rows finished before `before` (their message ids are kept elsewhere)."""
        ...

    async def notice_once(self, channel_id: int, permission: str, now: datetime) -> bool:
        """True the first time a missing permission in a channel is to be reported."""
        ...

    async def clear_notices(self, channel_id: int, permission: str) -> None:
        """A delivery needing `permission` in the channel worked: a later refusal is news."""
        ...

    async def noticed_channels(self) -> list[int]: ...


class Store(Protocol):
    """Every repository over one database."""

    @property
    def groups(self) -> GroupStore: ...

    @property
    def profiles(self) -> ProfileStore: ...

    @property
    def guilds(self) -> GuildStore: ...

    @property
    def sessions(self) -> SessionStore: ...

    @property
    def feedback(self) -> FeedbackStore: ...

    @property
    def schedules(self) -> ScheduleStore: ...

    @property
    def reports(self) -> ReportStore: ...

    @property
    def privacy(self) -> PrivacyStore: ...

    @property
    def cohorts(self) -> CohortStore: ...

    @property
    def session_messages(self) -> SessionMessageStore: ...

    @property
    def outbox(self) -> OutboxStore: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...
