"""The web UI: server-rendered pages (Jinja2) for agents and managers, served with the JSON API."""
