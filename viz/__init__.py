"""The web view and static reports (see the web-view issue); the engine never imports it."""
