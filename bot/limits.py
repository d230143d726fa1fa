"""Discord's limits, declared once (the one check of typed lengths is
:func:`bot.checks.check_length`).

The numbers are Discord's (``../shared/DISCORD_LIMITS.md``, from its API documentation):
a payload over any of them is refused with a 400.  Rendering keeps its own smaller
budgets (a card's parts must fit 6,000 characters together); those live beside the
renderer and are written in terms of these.  The offline Discord in ``tests/`` checks
every payload against its own copy of the same numbers, so a mistake here is caught.
"""

from __future__ import annotations

MESSAGE_CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000  # every title, description, field, footer and author of a message's embeds
BUTTON_LABEL = 80
CHOICE_NAME = 100  # an autocomplete or fixed choice's name (1-100) and string value
CHOICES = 25  # autocomplete choices in one answer
SELECT_OPTION_TEXT = 100  # a select option's label, value and description
MODAL_TITLE = 45
TEXT_INPUT_LABEL = 45
TEXT_INPUT_VALUE = 4000
