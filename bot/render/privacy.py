"""What ``/privacy`` shows a member: the data the bot keeps about them in one server."""

from __future__ import annotations

import enum
from typing import Any

import discord

from bot.i18n import Texts
from bot.limits import EMBED_DESCRIPTION, EMBED_FIELD_VALUE, EMBED_FOOTER
from bot.models import MemberData
from bot.render.text import clip, points_text, safe

PREFIX = "privacy."
VOTES_BUDGET = 3000  # of the description's 4,096 characters
TITLE_MAX = 150


class Say:
    """This cog's texts (the catalog's ``[privacy]`` section) in the member's language."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts

    def __call__(self, key: str, /, **values: Any) -> str:
        return self.texts(PREFIX + key, **values)


class RoleState(enum.Enum):
    UNSET = "unset"
    HAS = "has"
    HAS_NOT = "has_not"


def vote_lines(data: MemberData, say: Say, budget: int = VOTES_BUDGET) -> list[str]:
    """One line per theory voted on, latest first, cut to the budget with a count of the rest."""
    lines: list[str] = []
    used = 0
    for index, vote in enumerate(data.votes):
        line = f"• {safe(vote.title, TITLE_MAX)}" + (f" {say('removed')}" if vote.removed else "")
        rest = len(data.votes) - index
        more = say("votes.more", count=rest)
        if used + len(line) + 1 > budget - len(more) - 1 and rest > 1:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return lines


def summary(data: MemberData, say: Say, *, server: str, role: RoleState, role_mention: str) -> discord.Embed:
    """The member's data as one embed, within Discord's limits whatever the titles are."""
    votes = vote_lines(data, say)
    body = say("votes", count=len(data.votes)) + "\n" + ("\n".join(votes) or say("votes.none"))
    embed = discord.Embed(
        title=clip(say("title", server=safe(server, 100)), 256),
        description=clip(body, EMBED_DESCRIPTION),
        colour=discord.Colour.dark_grey(),
    )
    points = (
        say("points.some", points=points_text(data.points), scored=data.scored)
        if data.scored
        else say("points.none")
    )
    embed.add_field(name=say("points"), value=clip(points, EMBED_FIELD_VALUE), inline=False)
    embed.add_field(
        name=say("role"),
        value=clip(say(f"role.{role.value}", role=role_mention), EMBED_FIELD_VALUE),
        inline=False,
    )
    if data.theories_started:
        embed.add_field(
            name=say("started"),
            value=clip(say("started.value", count=data.theories_started), EMBED_FIELD_VALUE),
            inline=False,
        )
    embed.set_footer(text=clip(say("footer"), EMBED_FOOTER))
    return embed
