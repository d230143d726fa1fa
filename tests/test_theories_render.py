"""Whatever members typed into a theory, what the bot renders stays within Discord's
limits and pings nobody (property tests on the pure renderers)."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import LANGUAGES, Catalog, Texts
from bot.models import (
    Certainty,
    LeaderboardEntry,
    MemberVote,
    Resolution,
    SourceRef,
    Tally,
    Theory,
    TheoryFields,
    TheoryStatus,
)
from bot.render import theories as render
from bot.render.text import safe
from cogs.theories._polls import voted_text
from cogs.theories._views import poll_view
from tests.fakediscord import limits

GUILD = 1_000_000_000_000_000_001
ROLE = 1_000_000_000_000_000_777

CATALOG = Catalog.load()
# Every renderer in every language: a Korean text must stay within the limits too.
texts = st.sampled_from([Texts(CATALOG, language) for language in LANGUAGES])

HOSTILE = [
    "@everyone",
    "@here",
    f"<@&{ROLE}>",
    f"<@&{GUILD}>",
    "<@1000000000000000002>",
    "<@!1000000000000000003>",
    "**bold** __under__ ~~strike~~ ||spoiler|| `code` ```block```",
    "> quote",
    "# Heading",
    "[link](https://example.org)",
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width
    "\u202e\u202dreversed\u202c",  # RTL overrides
    "שלום עולם مرحبا",
    "이청산 최남라",
    "\\",
    "\n\n\n",
    "   ",
    "🧟" * 50,
    "a" * 5000,
    "@" * 300,
]

text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=300),
    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=6).map("".join),
    st.text(alphabet=st.sampled_from("@<>&#!*_~|`\\\u200b\u202e 0123456789e"), max_size=6000),
).filter(lambda s: len(s) > 0)


@st.composite
def theories(draw: st.DrawFn) -> tuple[Theory, Tally]:
    options = tuple(draw(st.lists(text, min_size=2, max_size=10)))
    status = draw(st.sampled_from(list(TheoryStatus)))
    outcome = draw(st.integers(0, len(options) - 1)) if status is TheoryStatus.RESOLVED else None
    fields = TheoryFields(
        title=draw(text),
        options=options,
        source=SourceRef(draw(text), draw(st.sampled_from(list(Certainty)))),
        details=draw(st.none() | text),
        sealed=draw(st.booleans()),
        closes_at=draw(st.none() | st.integers(0, 2**33)),
    )
    theory = Theory(
        guild_id=GUILD,
        id=draw(st.integers(1, 2**62)),
        fields=fields,
        status=status,
        created_at=0,
        created_by=None,
        channel_id=draw(st.none() | st.just(5)),
        message_id=6,
        outcome=outcome,
    )
    counts = tuple(draw(st.lists(st.integers(0, 10**7), min_size=len(options), max_size=len(options))))
    return theory, Tally(theory.id, counts)


def problems(payload: dict[str, Any]) -> list[str]:
    return [str(p) for p in limits.validate_message(payload, context="channel", creating=True)]


def pings(content: str) -> set[str]:
    """Who ``content`` would ping even if the bot forgot allowed_mentions (the worst case)."""
    return limits.compute_pings(
        [content],
        None,
        default_parse=("everyone", "roles", "users"),
        guild_id=GUILD,
        role_ids={GUILD, ROLE},
    )


SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(theories(), texts)
def test_the_poll_message_stays_within_limits_and_pings_nobody(drawn: tuple[Theory, Tally], t: Texts) -> None:
    theory, tally = drawn
    view = poll_view(theory, t)
    payload: dict[str, Any] = {"embeds": [render.poll_embed(theory, tally, t).to_dict()]}
    if view is not None:
        payload["components"] = view.to_components()
    assert problems(payload) == []
    assert limits.message_texts(payload) == []  # typed text never goes where mentions parse
    if theory.hides_tally:
        description = payload["embeds"][0]["description"]
        # no tally bar with its percentage (the details, as rendered, may hold a typed "%")
        shown_details = safe(theory.fields.details, render.DETAILS_MAX) if theory.fields.details else ""
        assert "%" not in description.replace(shown_details, "")
    for spec in render.poll_buttons(theory, t):
        assert 1 <= len(spec.label) <= 80
        assert 1 <= len(spec.custom_id) <= 100
    # the answer to a click quotes the button's label in the message content
    for spec in render.poll_buttons(theory, t):
        answer = voted_text(spec.label, spec.option or 0, t)
        assert len(answer) <= 2000
        assert pings(answer) == set()


@SETTINGS
@given(theories(), st.integers(0, 10**6), st.integers(0, 10**6), texts)
def test_cards_lines_and_choices_stay_within_limits(
    drawn: tuple[Theory, Tally], voters: int, right: int, t: Texts
) -> None:
    theory, tally = drawn
    resolution = Resolution(theory, voters, min(right, voters), 3.25, None)
    for embed in (
        render.result_card(theory, tally, t),
        render.result_card(theory, tally, t, resolution=resolution),
        render.moved_embed(theory, render.jump_url(GUILD, 5, 6), t),
        render.moved_embed(theory, None, t),
        render.deleted_embed(t),
    ):
        assert problems({"embeds": [embed.to_dict()]}) == []
    line = render.list_line(theory, tally, t)
    assert len(line) <= render.LINE_MAX
    assert "\n" not in line  # one theory, one line of the paged list
    assert pings(line) == set()
    mine = render.mine_line(MemberVote(theory, 0, 0, 2.5), t)
    assert len(mine) <= render.LINE_MAX
    assert pings(mine) == set()
    choice = render.choice(theory, t).to_dict()
    assert limits.validate_autocomplete({"choices": [choice]}) == []
    option_choices = [render.option_choice(theory, i, t).to_dict() for i in range(len(theory.fields.options))]
    assert limits.validate_autocomplete({"choices": option_choices}) == []


@SETTINGS
@given(
    st.lists(
        st.builds(
            LeaderboardEntry,
            member_id=st.integers(1, 2**63 - 1),
            rank=st.integers(1, 10**6),
            points=st.floats(0, 1e9),
            right=st.integers(0, 10**6),
        ),
        max_size=12,
    ),
    st.none() | text,
    texts,
)
def test_the_leaderboard_stays_within_limits(
    entries: list[LeaderboardEntry], who: str | None, t: Texts
) -> None:
    own = entries[0] if entries else None
    embed = render.leaderboard_embed(entries, own, t, who=who)
    assert problems({"embeds": [embed.to_dict()]}) == []
