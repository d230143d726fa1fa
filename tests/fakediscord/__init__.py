"""An offline fake Discord (REST API + gateway) that the unmodified discord.py client logs into.

Only two class attributes of discord.py are changed, and restored afterwards:
``discord.http.Route.BASE`` and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``.

Quick start::

    from tests.fakediscord import FakeDiscord, Perm

    async def test_character(fake_discord: FakeDiscord) -> None:   # fixture from plugin.py
        guild = fake_discord.add_guild("AoUAD Fans")
        fan = guild.add_member("fan")
        bot = make_bot()                                 # the project's commands.Bot
        task = asyncio.create_task(bot.start(fake_discord.token))
        await fake_discord.wait_ready()
        await bot.tree.sync()    # or: the bot syncs in setup_hook
        r = await fake_discord.slash(guild, fan, "character", name="namra")
        await r.response()
        assert r.ephemeral and "Nam-ra" in r.content
        await bot.close(); await task

Public API
==========

``FakeDiscord(token=FAKE_TOKEN, *, host="127.0.0.1", port=0, interaction_deadline=3.0,
realistic_rate_limits=False, bot_name="Halfbie")`` (``FAKE_TOKEN`` has a real token's shape,
so the bot's settings accept it)

- ``await start()`` / ``await close()`` (also ``async with FakeDiscord() as fake``);
  ``url`` (``http://127.0.0.1:PORT``), ``gateway_url`` (``ws://127.0.0.1:PORT/gateway``),
  ``api_base`` (``url + "/api/v10"``), ``token``, ``bot_user_id``, ``application_id``
  (equal, as for modern bots), ``bot_user``.
- ``with patched(): ...`` points discord.py at the fake and restores it.
- ``env(*, inherit=True) -> dict[str, str]``: environment for a subprocess bot (``PYTHONPATH``
  gets ``tests/fakediscord/site`` whose ``sitecustomize`` patches discord.py when
  ``HALFBIE_FAKE_DISCORD_URL`` is set; ``HALFBIE_FAKE_DISCORD_TOKEN`` carries the token).
- ``add_guild(name="AoUAD Fans", *, locale="en-US", owner_name="owner", members=0) -> FakeGuild``;
  ``add_guilds(n, *, members=0, prefix="Guild")``; ``remove_guild(guild)`` (GUILD_DELETE).
  Guilds added after the bot connected arrive live as GUILD_CREATE (a join).
- ``guilds``, ``channels``, ``users``, ``messages`` (dicts by id); ``member_count``.
- Waiting: ``await wait_ready(timeout=10)`` (READY and every GUILD_CREATE *written*; the
  bot's ``on_ready`` comes ``guild_ready_timeout`` - 2 s by default - later),
  ``await barrier(timeout=5)`` (the bot has *parsed* every event sent so far: use it after
  live changes such as ``add_channel`` before reading the bot's caches),
  ``await wait_identified()``, ``await wait_resumed()``; events ``identified``, ``ready``;
  ``identify_times`` (monotonic), ``identify_payloads``, ``intents``, ``resume_count``,
  ``replayed_events``, ``gateway_queries`` (query strings of each websocket connect).
- Commands: ``synced_commands(guild=None) -> list[dict]`` (what was last PUT, with ids),
  ``sync_count``, ``set_commands(commands, guild=None)`` (pretend they were synced before).
- Interactions (each returns an :class:`InteractionResult` right after dispatching):

  - ``await slash(guild, member, "cmd [group] [sub]", /, *, channel=None, options=None,
    locale=None, **option_values)`` - option types come from the synced command;
    ``FakeRole``/``FakeChannel``/``FakeMember`` (or ids) become ids plus ``resolved``; pass
    options whose names clash with ``channel``/``options``/``locale`` via ``options={}``.
  - ``await autocomplete(guild, member, "cmd", /, *, focused, channel=None, options=None,
    timeout=5, **values) -> list[dict]`` (the bot's choices; the focused value is sent as the
    raw string); ``autocomplete_result(...)`` returns the InteractionResult instead.
  - ``await click(guild, member, message, custom_id)`` - a button on a ``FakeMessage`` or on
    an ``InteractionResult``'s response message.
  - ``await select(guild, member, message, custom_id, values)``.
  - ``await submit_modal(guild, member, modal, values, *, message=None, channel=None)`` -
    ``modal`` is the InteractionResult that opened it, or a modal custom_id; the submit
    mirrors the modal's structure (action rows or labels).
  - ``await context_menu(guild, member, name, target)`` - user/message commands.
  - ``await send_raw_interaction(payload, *, guild=None)`` - sent verbatim;
    ``interaction_payload(guild, member, kind=2, data=None)`` builds a valid one to mutate.
  - ``interactions`` (by id), ``modals`` (last modal data by custom_id), ``modal_openers``
    (the InteractionResult that opened it).
- Messages: ``messages_in(channel, *, include_deleted=False) -> list[FakeMessage]``
  (ephemeral messages are not channel messages: reach them through the InteractionResult);
  ``dm_channels`` (by recipient id);
  ``await wait_for_message(channel, predicate=None, timeout=5, *, after=0)``;
  ``await wait_for_edit(message, count=1, timeout=5)``.
- Message nonces, as Discord does them: a ``POST /channels/{id}/messages`` with ``nonce``
  and ``"enforce_nonce": true`` (discord.py's ``send(nonce=X)`` sends ``str(X)`` and both
  fields; without ``nonce=`` it sends a random one) gets the message already created with
  that nonce in that channel by the same author within ``NONCE_WINDOW`` (10 minutes;
  ``nonce_window`` per fake; the fake's monotonic time) - the same 200 answer and id, no
  second MESSAGE_CREATE - instead of a second message.  Without ``enforce_nonce`` nothing
  is deduplicated.  Nonces compare as text; a deleted message no longer counts.  The answer
  to the creating POST and its MESSAGE_CREATE carry ``nonce`` (later fetches do not, as on
  Discord); ``FakeMessage.nonce`` records it.  A nonce must be an int or a string of at
  most 25 characters (else 400 and a violation).
- Records: ``requests`` (``RequestRecord`` = ``(method, path, json)`` tuples, path without
  ``/api/v10``, plus ``.status``, ``.query``, ``.files``, ``.at``); ``violations`` (list of
  str); ``take_violations()`` (return and clear); ``http_errors`` (4xx answers that are not
  violations, e.g. 403 Missing Permissions); ``allowed_pings`` (set of ``"everyone"``,
  ``"role:ID"``, ``"user:ID"`` a test allows); ``forbid_user_pings`` (default False).
- Faults: ``fail_requests(pattern, status=429, count=1, retry_after=0.05, *, is_global=False)``
  (regex on ``"METHOD /path"``); ``rate_limit(pattern, limit, per)`` (real per-route limit
  with headers); ``await drop_gateway(code=4000)`` (resumable close -> RESUME, missed
  events replayed); ``await send_reconnect()`` (op 7); ``await invalidate_session()`` (op 9);
  ``dispatch_event(name, data, *, guild=None)``; ``allow_resume``,
  ``allowed_privileged_intents``, ``interaction_deadline``, ``recommended_shards``.
- Holding requests, to stop or kill the bot at an exact step:
  ``hold_requests(pattern, *, stage: Literal["before", "after"], count=1) -> Hold`` catches
  the next ``count`` requests matching the regex on ``"METHOD /path"``.  ``"before"``: the
  request is not applied (nothing is created) and not answered; ``"after"``: it is applied
  (the message exists, MESSAGE_CREATE went out) and only the answer is withheld.
  ``Hold``: ``await hold.wait(timeout=5)`` (returns the records once ``count`` are held;
  AssertionError on timeout), ``held`` (list of ``RequestRecord``; ``status`` stays 0 while
  a "before" one waits), ``release()`` (answer them normally, a "before" one applied first;
  the hold then catches nothing more).  When the client goes away (the bot process is
  SIGKILLed, or its request is cancelled) a held request ends quietly - nothing logged,
  nothing raised - and a "before" one is never applied.  ``close()`` drops whatever is
  still held (not applied, connection closed without an answer).  Typical use with
  ``python -m bot`` in a subprocess: hold its POST, ``await hold.wait()``, SIGKILL, start
  it again.

``FakeGuild``: ``id``, ``name``, ``locale``, ``roles`` (by position; ``everyone``,
``bot_role`` "Halfbie", ``admin_role`` "Admin" = ADMINISTRATOR above the bot),
``channels``, ``general``, ``members``, ``owner``, ``bot_member``, ``member_count``;
``add_role(name, permissions=0, position=None, *, above_bot=False, mentionable=False,
color=0)`` (default position 1: below the bot's role, like Discord's new roles),
``add_channel(name, *, bot_can_send=True, bot_can_embed=True, bot_can_view=True,
topic=None)``, ``add_member(name, roles=(), *, locale="en-US", bot=False)``,
``remove_member(m)``, ``set_member_roles(m, roles)``, ``update_role(role, permissions=,
name=)``, ``update_channel(ch)``, ``get_member/get_role``, ``role_named/channel_named/
member_named``, ``permissions_in(member, channel)``, ``base_permissions(member)``.
Live changes send GUILD_ROLE_CREATE/UPDATE, CHANNEL_CREATE/UPDATE, GUILD_MEMBER_ADD/UPDATE/
REMOVE.

``FakeMember``: ``id``, ``name``, ``user``, ``roles``, ``locale``, ``mention``,
``top_role``, ``permissions_in(channel)``.  ``FakeRole``: ``id``, ``name``, ``permissions``,
``position``, ``mention``.  ``FakeChannel``: ``id``, ``name``, ``overwrites``,
``set_overwrite(target, allow=, deny=)``, ``mention``.

``FakeMessage``: ``id``, ``channel_id``, ``guild_id``, ``author_id``, ``content``,
``embeds``, ``components``, ``flags``, ``ephemeral``, ``loading``, ``attachments``,
``nonce`` (of the channel post that created it, as sent; None for interaction messages),
``edits`` (number of edits), ``history`` (earlier versions), ``pinged`` (see below),
``deleted``, ``pinned``, ``interaction_id``, ``custom_ids()``, ``component(custom_id)``,
``buttons()``, ``text`` (content + embed texts, for asserts).

``pinged`` is who the message pings by Discord's ``allowed_mentions`` rules: without
``allowed_mentions`` channel messages parse users, roles and @everyone, interaction
responses and follow-ups parse users only; ephemeral messages ping nobody; a reply pings the
replied-to author unless ``replied_user`` is false.  Role "mentionable" and the bot's
MENTION_EVERYONE permission are not considered (admins can change those any time), and
edits are checked like new messages.  Any @everyone/@here or role ping not in
``allowed_pings`` is a violation.

``InteractionResult``: ``await response(timeout=5)``; ``type`` (callback type), ``data``,
``ephemeral``, ``deferred``, ``content``/``embeds``/``components`` (of the response message
when there is one - so edits after a defer show - else of the callback data), ``modal``,
``modal_custom_id``, ``choices``, ``acked_after``, ``rejected``, ``message``,
``followups``, ``await wait_followups(n=1, timeout=5)``, ``await wait_message(timeout=5,
predicate=None)`` (response message present, not "thinking", predicate true),
``custom_ids()``, ``payload`` (what was sent).  After a "thinking" defer the first follow-up
fills the loading message (as Discord does): it is then both ``message`` and
``followups[0]``.

What is validated (each breach is a 400 with Discord's error body *and* a violation):
message content/embeds/components/allowed_mentions/flags/nonce (see limits.py), empty messages,
modals, autocomplete choices, application commands (names, descriptions, options,
choices, localizations), callbacks after ``interaction_deadline`` (404 10062), second
callbacks (400 40060), callback types that do not fit the interaction, follow-ups/edits
before acknowledging, unknown routes (404), unknown interaction tokens.  Channel posts check
the bot's channel permissions (403 50001/50013, recorded in ``http_errors``); role changes
check MANAGE_ROLES and the role hierarchy (403 50013).

The pytest plugin (``pytest_plugins = ["tests.fakediscord.plugin"]``) provides the
``fake_discord`` fixture and the markers ``allow_errors(*regex)`` and
``allow_violations(*regex)``.  ``python -m tests.fakediscord --port 0 --guilds N
--print-url`` runs it standalone (see control.py for its ``/_fake/`` control API).
"""

from __future__ import annotations

from .interactions import FakeDiscordError, InteractionResult
from .permissions import ALL_PERMISSIONS, DEFAULT_EVERYONE, Perm
from .server import FAKE_TOKEN, NONCE_WINDOW, FakeDiscord, Hold, RequestRecord
from .state import FakeChannel, FakeGuild, FakeMember, FakeMessage, FakeRole, FakeUser

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_EVERYONE",
    "FAKE_TOKEN",
    "NONCE_WINDOW",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "Hold",
    "InteractionResult",
    "Perm",
    "RequestRecord",
]
