"""Theory polls as Discord shows them: the poll message, list lines, the leaderboard,
result cards.  Pure: rows in, embeds and button specs out, every limit applied here
whatever members typed (markdown and mentions are shown as typed, never acted on).
Every word comes from the catalog in the language ``t`` is bound to: the member's for
answers, the server's for what is posted in a channel (the poll message, its buttons,
result cards).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.i18n import DEFAULT
from bot.limits import BUTTON_LABEL, CHOICE_NAME, EMBED_DESCRIPTION, EMBED_TITLE, EMBED_TOTAL
from bot.models import DEFAULT_OPTIONS, DEFAULT_OPTIONS_KO, SpoilerMode, TheoryStatus
from bot.render import facts
from bot.render.text import clip, points_text, safe

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.i18n import Texts
    from bot.models import LeaderboardEntry, MemberVote, Resolution, Tally, Theory

STATUS_COLOUR = {
    TheoryStatus.OPEN: discord.Colour.green(),
    TheoryStatus.CLOSED: discord.Colour.dark_grey(),
    TheoryStatus.RESOLVED: discord.Colour.gold(),
}

# Budgets: every part under its own limit and the whole embed well under 6,000.
TITLE_MAX = EMBED_TITLE
DETAILS_MAX = 900
OPTION_MAX = 150  # an option as shown in the description (after escaping)
STATUS_MAX = 400
FOOTER_MAX = 300
DESCRIPTION_MAX = EMBED_DESCRIPTION
EMBED_TOTAL_MAX = EMBED_TOTAL
BUTTON_LABEL_MAX = BUTTON_LABEL
CHOICE_NAME_MAX = CHOICE_NAME
LINE_MAX = 300
BAR_WIDTH = 10

CUSTOM_ID_PREFIX = "poll"
RETRACT = "retract"
# The template the poll buttons' DynamicItem matches (ids are Discord-sized ints).
CUSTOM_ID_TEMPLATE = rf"{CUSTOM_ID_PREFIX}:(?P<theory>[0-9]{{1,20}}):(?P<option>[0-9]|{RETRACT})"
BUTTONS_PER_ROW = 5


def vote_id(theory_id: int, option: int) -> str:
    return f"{CUSTOM_ID_PREFIX}:{theory_id}:{option}"


def retract_id(theory_id: int) -> str:
    return f"{CUSTOM_ID_PREFIX}:{theory_id}:{RETRACT}"


def votes_text(count: int, t: Texts) -> str:
    """The count with its noun: "1 vote", "3 votes" (Korean counts have no plural)."""
    return t("theory.votes_one" if count == 1 else "theory.votes", count=count)


def voters_text(count: int, t: Texts) -> str:
    return t("theory.voters_one" if count == 1 else "theory.voters", count=count)


def percent(count: int, total: int) -> int:
    return round(100 * count / total) if total else 0


def bar(count: int, total: int) -> str:
    filled = round(BAR_WIDTH * count / total) if total else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def one_line(text: str) -> str:
    """Typed text on one line (newlines and runs of spaces become one space)."""
    return " ".join(text.split())


# -- spoilers: a theory's spoiler level covers its title, details and options ------------------


def hides(theory: Theory, t: Texts) -> bool:
    return facts.hides(theory.fields.spoiler, t.spoilers)


def title(theory: Theory, t: Texts) -> str:
    """The title in the reader's language."""
    return facts.localized(theory.fields.title, theory.fields.title_ko, t)


def details(theory: Theory, t: Texts) -> str | None:
    f = theory.fields
    return facts.localized(f.details, f.details_ko, t) if f.details else None


def label(theory: Theory, option: int, t: Texts) -> str:
    """An option's label in the reader's language (never marked: labels are short, and
    members type them in whatever language they speak)."""
    korean = theory.fields.options_ko
    if t.language == "ko" and korean:
        return korean[option]
    return theory.fields.options[option]


def plain_title(theory: Theory, t: Texts) -> str:
    """The title where Discord cannot hide text (an embed's title, a choice's name): its
    spoiler-free form when the theory is a spoiler this server hides."""
    f = theory.fields
    if not hides(theory, t):
        return title(theory, t)
    if f.safe_title:
        return facts.localized(f.safe_title, f.safe_title_ko, t)
    return t("theory.spoiler_title")


def title_text(theory: Theory, t: Texts, limit: int) -> str:
    """The title where a spoiler tag can hide it: the spoiler-free form, then the title
    behind a tag (left out where the server leaves spoilers out)."""
    if not hides(theory, t):
        return safe(one_line(title(theory, t)), limit)
    shown = safe(one_line(plain_title(theory, t)), limit // 2)
    if t.spoilers is SpoilerMode.OMITTED:
        return shown
    return f"{shown} {facts.tagged(one_line(title(theory, t)), limit - len(shown) - 1)}"


def _generic(text: str) -> bool:
    """An answer that tells nothing by itself (Agree, Disagree, Not sure)."""
    return text in DEFAULT_OPTIONS or text in DEFAULT_OPTIONS_KO


def option_text(theory: Theory, option: int, t: Texts, limit: int = OPTION_MAX) -> str:
    """An option's label on one line, made safe for markdown ("?" if the theory lacks it)."""
    options = theory.fields.options
    if not 0 <= option < len(options):
        return "?"
    shown = one_line(label(theory, option, t))
    if _generic(shown):
        return safe(shown, limit)
    return facts.shown(shown, theory.fields.spoiler, t.spoilers, t, limit)


def option_label(theory: Theory, option: int, t: Texts) -> str:
    """An option where nothing can be hidden (a button, a choice's name): its number
    alone when it would give away a spoiler the server hides."""
    shown = one_line(label(theory, option, t))
    if hides(theory, t) and not _generic(shown):
        return f"{option + 1}"
    return f"{option + 1}. {shown}"


def jump_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


# -- the poll message ---------------------------------------------------------------------


def shown_key(theory: Theory, tally: Tally, t: Texts) -> str:
    """What the poll message shows, as a short key: equal keys, equal messages.

    A sealed open poll's key holds only the number of voters, so votes moving between
    options cause no edit; the store keeps the key of the last edit, and the start-up
    check re-edits only messages whose key differs from the database's state.  A
    language other than English and a spoiler mode other than hidden are part of the key
    (keys without them are those from before), so a server that changes either gets its
    poll messages rewritten.
    """
    if theory.hides_tally:
        key = f"v1|open|sealed|{tally.total}"
    else:
        counts = ",".join(str(n) for n in tally.counts)
        key = f"v1|{theory.status.value}|{theory.outcome}|{counts}"
    if t.language != DEFAULT:
        key += f"|{t.language}"
    if t.spoilers is not SpoilerMode.HIDDEN:
        key += f"|{t.spoilers.value}"
    return key


def status_line(theory: Theory, t: Texts, now: float | None = None) -> str:
    if theory.status is TheoryStatus.RESOLVED and theory.outcome is not None:
        return t("theory.status_resolved", option=option_text(theory, theory.outcome, t, 200))
    if theory.status is not TheoryStatus.OPEN:
        return t("theory.status_closed")
    closes_at = theory.fields.closes_at
    if closes_at is None:
        return t("theory.status_open")
    if now is not None and closes_at <= now:
        return t("theory.status_open_overdue")
    return t("theory.status_open_closes", when=f"<t:{closes_at}:R> (<t:{closes_at}:f>)")


def tally_lines(theory: Theory, tally: Tally, t: Texts) -> list[str]:
    """One block per option: label, then bar, percentage and count."""
    total = tally.total
    lines = []
    for index, count in enumerate(tally.counts):
        mark = " ✅" if theory.outcome == index else ""
        lines.append(f"**{index + 1}.** {option_text(theory, index, t)}{mark}")
        lines.append(f"`{bar(count, total)}` {percent(count, total)}% · {count}")
    return lines


def poll_description(theory: Theory, tally: Tally, t: Texts, *, resolution: Resolution | None = None) -> str:
    parts: list[str] = []
    if hides(theory, t) and t.spoilers is SpoilerMode.HIDDEN:  # the embed's title is the safe form
        parts.append(facts.tagged(one_line(title(theory, t)), TITLE_MAX))
    said = details(theory, t)
    if said:
        parts.append(facts.shown(said, theory.fields.spoiler, t.spoilers, t, DETAILS_MAX))
    rules = rules_line(theory, t)
    if rules:
        parts.append(rules)
    if theory.hides_tally:
        key = "theory.sealed_one" if tally.total == 1 else "theory.sealed"
        parts.append(t(key, voters=tally.total))
    else:
        parts.append("\n".join(tally_lines(theory, tally, t)))
    parts.append(clip(status_line(theory, t), STATUS_MAX))
    if resolution is not None:
        parts.append(clip(resolution_line(resolution, t), STATUS_MAX))
    return clip("\n\n".join(parts), DESCRIPTION_MAX)


def chosen_text(chosen: Sequence[int]) -> str:
    """A member's answers by number ("1, 3"), for the private answer to a click."""
    return ", ".join(str(option + 1) for option in chosen)


def role_text(role_id: int) -> str:
    """A role by its mention: the client shows its name; sent with mentions off, it
    pings nobody (and never where members typed it: the id is the bot's)."""
    return f"<@&{role_id}>"


def rules_line(theory: Theory, t: Texts) -> str:
    """How this poll is voted on, when not the plain one-answer poll for everyone."""
    f = theory.fields
    bits = []
    if f.max_choices > 1 and theory.status is TheoryStatus.OPEN:
        bits.append(t("theory.choose_up_to", count=f.max_choices))
    if f.voter_role_id is not None and theory.status is TheoryStatus.OPEN:
        bits.append(t("theory.voters_only", role=role_text(f.voter_role_id)))
    return " · ".join(bits)


def resolution_line(resolution: Resolution, t: Texts) -> str:
    voters = voters_text(resolution.voters, t)
    if not resolution.right:
        return t("theory.resolved_nobody", voters=voters)
    return t(
        "theory.resolved_scored",
        right=resolution.right,
        voters=voters,
        points=points_text(resolution.points),
    )


def footer(theory: Theory, tally: Tally, t: Texts) -> str:
    source = theory.fields.source
    return clip(
        t(
            "theory.footer",
            id=theory.id,
            source=facts.source_name(source, t),  # footers show no markdown and ping nobody
            certainty=t(f"certainty.{source.certainty.value}"),
            votes=votes_text(tally.total, t),
        ),
        FOOTER_MAX,
    )


def poll_embed(theory: Theory, tally: Tally, t: Texts) -> discord.Embed:
    """The poll message's embed: title, details, the tally (or the sealed count), status."""
    embed = discord.Embed(
        title=safe(plain_title(theory, t), TITLE_MAX),
        description=poll_description(theory, tally, t),
        colour=STATUS_COLOUR[theory.status],
    )
    embed.set_footer(text=footer(theory, tally, t))
    return embed


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """A poll button as data; the cog turns these into its DynamicItems."""

    custom_id: str
    label: str
    option: int | None  # None: the take-back button
    row: int
    style: discord.ButtonStyle


def poll_buttons(theory: Theory, t: Texts) -> list[ButtonSpec]:
    """One button per option and "Take back my vote"; none once the poll is closed.

    Only the labels follow the language: the custom ids stay as they always were, so the
    buttons of every poll ever posted keep working.
    """
    if theory.status is not TheoryStatus.OPEN:
        return []
    specs = [
        ButtonSpec(
            custom_id=vote_id(theory.id, index),
            # Button labels show text as typed (no markdown, no mentions); the number keeps
            # a label that is all spaces or zero-width characters non-empty.
            label=clip(option_label(theory, index, t), BUTTON_LABEL_MAX),
            option=index,
            row=index // BUTTONS_PER_ROW,
            style=discord.ButtonStyle.primary,
        )
        for index in range(len(theory.fields.options))
    ]
    specs.append(
        ButtonSpec(
            custom_id=retract_id(theory.id),
            label=clip(t("theory.retract"), BUTTON_LABEL_MAX),
            option=None,
            row=(len(specs) + BUTTONS_PER_ROW - 1) // BUTTONS_PER_ROW,
            style=discord.ButtonStyle.secondary,
        )
    )
    return specs


def moved_embed(theory: Theory, url: str | None, t: Texts) -> discord.Embed:
    """What an earlier copy of a poll shows once the poll is posted again."""
    text = t("theory.moved", url=url) if url else t("theory.moved_no_link")
    return discord.Embed(
        title=safe(plain_title(theory, t), TITLE_MAX),
        description=text,
        colour=discord.Colour.light_grey(),
    )


def deleted_embed(t: Texts) -> discord.Embed:
    return discord.Embed(description=t("theory.deleted_poll"), colour=discord.Colour.light_grey())


# -- lists ----------------------------------------------------------------------------------


def short_status(theory: Theory, t: Texts) -> str:
    return t(f"theory.short_{theory.status.value}")


def list_line(theory: Theory, tally: Tally, t: Texts) -> str:
    """``#12`` title: status · votes · leading option (unless sealed)."""
    total = tally.total
    bits = [short_status(theory, t), votes_text(total, t)]
    if theory.scheduled and theory.fields.opens_at is not None:  # not posted yet: no votes
        bits = [t("theory.short_scheduled", when=f"<t:{theory.fields.opens_at}:F>")]
    elif theory.status is TheoryStatus.RESOLVED and theory.outcome is not None:
        bits.append(t("theory.list_came_true", option=option_text(theory, theory.outcome, t, 60)))
    elif theory.hides_tally:
        bits.append(t("theory.list_sealed"))
    elif not total:
        bits.append(t("theory.list_no_votes"))
    elif tally.leading is None:
        bits.append(t("theory.list_tied"))
    else:
        leading = tally.leading
        bits.append(
            t(
                "theory.list_leading",
                option=option_text(theory, leading, t, 60),
                percent=percent(tally.counts[leading], total),
            )
        )
    title = title_text(theory, t, 150)
    return clip(f"`#{theory.id}` {title}: {' · '.join(bits)}", LINE_MAX)


def choice(theory: Theory, t: Texts) -> app_commands.Choice[str]:
    """An autocomplete choice: the name is plain text (no markdown), the value the id."""
    name = clip(one_line(f"#{theory.id} {plain_title(theory, t)}"), CHOICE_NAME_MAX)
    return app_commands.Choice(name=name or f"#{theory.id}", value=str(theory.id))


def option_choice(theory: Theory, option: int, t: Texts) -> app_commands.Choice[str]:
    label = option_label(theory, option, t)
    return app_commands.Choice(name=clip(label, CHOICE_NAME_MAX), value=str(option + 1))


def mine_line(vote: MemberVote, t: Texts) -> str:
    theory = vote.theory
    if theory.status is TheoryStatus.RESOLVED:
        score = (
            t("theory.mine_right", points=points_text(vote.points))
            if vote.points is not None
            else t("theory.mine_wrong")
        )
    else:
        score = ""
    return clip(
        t(
            "theory.mine_line",
            id=theory.id,
            title=title_text(theory, t, 120),
            option=", ".join(option_text(theory, o, t, 80 // len(vote.options)) for o in vote.options)
            if vote.options
            else option_text(theory, vote.option, t, 80),
            status=short_status(theory, t),
            score=score,
        ),
        LINE_MAX,
    )


def leaderboard_line(entry: LeaderboardEntry, t: Texts) -> str:
    # A user mention inside an embed shows the member's name and never pings.
    return t(
        "theory.board_line",
        rank=entry.rank,
        member=entry.member_id,
        points=points_text(entry.points),
        right=entry.right,
    )


def leaderboard_embed(
    entries: Sequence[LeaderboardEntry],
    own: LeaderboardEntry | None,
    t: Texts,
    *,
    who: str | None = None,
) -> discord.Embed:
    """The top 10 and the asker's own place (``who`` names the asker on a public post)."""
    lines = [leaderboard_line(entry, t) for entry in entries[:10]]
    embed = discord.Embed(
        title=t("theory.board_title"),
        description="\n".join(lines) if lines else t("theory.board_empty"),
        colour=discord.Colour.gold(),
    )
    you = (
        t("theory.board_you_rank", rank=own.rank, points=points_text(own.points), right=own.right)
        if own is not None
        else t("theory.board_you_none")
    )
    name = safe(who, 200).strip() if who else ""
    embed.add_field(name=name or t("theory.board_you"), value=you, inline=False)
    # The whole rule is in /help (help.scoring_text); the footer has the short form.
    embed.set_footer(text=clip(t("theory.board_footer"), FOOTER_MAX))
    return embed


# -- result cards (the announcement channel) ------------------------------------------------


def opened_card(theory: Theory, t: Texts) -> discord.Embed:
    """A short card for the announcement channel when a poll with a ping role opens."""
    parts = [t("theory.card_opened_text")]
    if theory.channel_id is not None and theory.message_id is not None:
        parts.append(
            t("theory.card_jump", url=jump_url(theory.guild_id, theory.channel_id, theory.message_id))
        )
    rules = rules_line(theory, t)
    if rules:
        parts.append(rules)
    embed = discord.Embed(
        title=clip(t("theory.card_opened", title=safe(plain_title(theory, t), TITLE_MAX)), TITLE_MAX),
        description=clip("\n\n".join(parts), DESCRIPTION_MAX),
        colour=STATUS_COLOUR[theory.status],
    )
    return embed


def result_card(
    theory: Theory, tally: Tally, t: Texts, *, resolution: Resolution | None = None
) -> discord.Embed:
    """A short card for the announcement channel when a poll closes or is resolved."""
    key = "theory.card_resolved" if resolution is not None else "theory.card_closed"
    description = poll_description(theory, tally, t, resolution=resolution)
    if theory.channel_id is not None and theory.message_id is not None:
        url = jump_url(theory.guild_id, theory.channel_id, theory.message_id)
        description = clip(description, DESCRIPTION_MAX - 200) + "\n\n" + t("theory.card_jump", url=url)
    embed = discord.Embed(
        title=clip(t(key, title=safe(plain_title(theory, t), TITLE_MAX)), TITLE_MAX),
        description=description,
        colour=STATUS_COLOUR[theory.status],
    )
    embed.set_footer(text=footer(theory, tally, t))
    return embed
