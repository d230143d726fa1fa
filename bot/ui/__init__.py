"""Views and components shared by the cogs."""
