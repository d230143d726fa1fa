"""Pure rendering: rows in, embeds and components out; Discord's limits applied here."""
