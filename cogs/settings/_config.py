"""``/admin config show|admin-role|announce-channel|ping-role|spoilers|language|poll-creators``."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands

from bot.announce import missing_permissions
from bot.checks import AdminChecked, assign_problem, guild_id_of
from bot.client import HalfbieBot
from bot.doctor import findings_text, server_findings
from bot.errors import BadInput, Refused, Terms
from bot.i18n import LANGUAGES, Texts
from bot.models import SpoilerMode
from bot.render.settings import describe_settings
from bot.render.text import safe

SPOILER_CHOICES = [
    app_commands.Choice(name="Hidden", value=SpoilerMode.HIDDEN.value),
    app_commands.Choice(name="Shown", value=SpoilerMode.SHOWN.value),
    app_commands.Choice(name="Left out", value=SpoilerMode.OMITTED.value),
]
LANGUAGE_CHOICES = [
    app_commands.Choice(name="Member's language", value="auto"),
    app_commands.Choice(name="English", value="en"),
    app_commands.Choice(name="Korean", value="ko"),
]


class ConfigAdmin(AdminChecked):
    def __init__(self, bot: HalfbieBot) -> None:
        super().__init__(name="config", description="This server's settings")
        self.bot = bot

    async def _save(
        self,
        interaction: discord.Interaction[HalfbieBot],
        setting: str,
        shown: Callable[[Texts], str] | None,
        *,
        note: Callable[[Texts], str] | None = None,
        **changes: object,
    ) -> None:
        """Store one setting (audited by the store) and say what it is now (and ``note``,
        what the admin should know about it)."""
        guild_id = guild_id_of(interaction)
        await self.bot.seeder.ensure(guild_id)
        await self.bot.store.settings.update(guild_id, interaction.user.id, **changes)
        # What features posted may read differently now (language, spoiler mode).
        self.bot.dispatch("settings_changed", guild_id)
        t = await self.bot.texts(interaction)  # after the save: a new language answers at once
        name = t(f"config.{setting}")
        if shown is None:
            text = t("config.cleared", setting=name, value=t("config.none"))
        else:
            text = t("config.saved", setting=name, value=shown(t))
        if note is not None:
            text += " " + note(t)
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show", description="Every setting and what it means")
    async def show(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        t = await self.bot.texts(interaction)
        settings = await self.bot.store.settings.get(guild_id_of(interaction))
        embed = describe_settings(settings, t)
        guild = interaction.guild
        if guild is not None:  # what halfbie doctor would find here
            findings = server_findings(settings, guild.me, guild.get_channel, guild.get_role)
            embed.add_field(name=t("doctor.title"), value=findings_text(findings, t), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="admin-role", description="Role that may use /admin (empty clears)")
    @app_commands.describe(role="The role")
    async def admin_role(
        self, interaction: discord.Interaction[HalfbieBot], role: discord.Role | None = None
    ) -> None:
        shown = (lambda _: role.mention) if role else None
        await self._save(interaction, "admin_role", shown, admin_role_id=role.id if role else None)

    @app_commands.command(
        name="announce-channel",
        description="Channel for news and reminders (empty clears)",
    )
    @app_commands.describe(channel="The channel")
    async def announce_channel(
        self, interaction: discord.Interaction[HalfbieBot], channel: discord.TextChannel | None = None
    ) -> None:
        if channel is not None:
            guild = interaction.guild
            assert guild is not None
            missing = missing_permissions(channel, guild.me)
            if missing:
                raise Refused(
                    "config.channel_missing",
                    channel=channel.mention,
                    permissions=Terms(f"permissions.{p}" for p in missing),
                )
        shown = (lambda _: channel.mention) if channel else None
        await self._save(
            interaction, "announce_channel", shown, announce_channel_id=channel.id if channel else None
        )

    @app_commands.command(
        name="ping-role",
        description="Role that announcements ping (empty clears)",
    )
    @app_commands.describe(role="The role")
    async def ping_role(
        self, interaction: discord.Interaction[HalfbieBot], role: discord.Role | None = None
    ) -> None:
        note = None
        if role is not None:
            guild = interaction.guild
            assert guild is not None
            problem = assign_problem(role, guild.me)
            if problem is not None:
                raise Refused(f"config.role_{problem}", role=role.mention)
            if not role.mentionable and not guild.me.guild_permissions.mention_everyone:
                # Still the role members subscribe to; announcements go out, unpinged.
                note = lambda t: t("config.role_quiet", role=role.mention)  # noqa: E731
        shown = (lambda _: role.mention) if role else None
        await self._save(interaction, "ping_role", shown, note=note, ping_role_id=role.id if role else None)

    @app_commands.command(name="spoilers", description="How spoilers are shown")
    @app_commands.describe(mode="How spoilers are shown")
    @app_commands.choices(mode=SPOILER_CHOICES)
    async def spoilers(self, interaction: discord.Interaction[HalfbieBot], mode: str) -> None:
        if mode not in {m.value for m in SpoilerMode}:
            raise BadInput("errors.bad_choice", value=safe(mode, 40), choices=", ".join(SpoilerMode))
        chosen = SpoilerMode(mode)
        await self._save(
            interaction, "spoilers", lambda t: t(f"config.spoilers_{chosen.value}"), spoiler_mode=chosen
        )

    @app_commands.command(name="language", description="The bot's language here")
    @app_commands.describe(language="The language")
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def language(self, interaction: discord.Interaction[HalfbieBot], language: str) -> None:
        if language not in {"auto", *LANGUAGES}:
            raise BadInput(
                "errors.bad_choice", value=safe(language, 40), choices=", ".join(("auto", *LANGUAGES))
            )
        await self._save(
            interaction, "language", lambda t: t(f"config.language_{language}"), language=language
        )

    @app_commands.command(
        name="poll-creators",
        description="Role that may open polls (empty clears)",
    )
    @app_commands.describe(role="The role")
    async def poll_creators(
        self, interaction: discord.Interaction[HalfbieBot], role: discord.Role | None = None
    ) -> None:
        shown = (lambda _: role.mention) if role else None
        await self._save(interaction, "poll_creators", shown, poll_creator_role_id=role.id if role else None)
