"""The web dashboard at /ui/: one HTML shell and plain ES modules that talk only to /v1.

No templates and no build step: the browser loads static/index.html for every page URL, and
static/js/app.js picks the page from the path. Nothing here imports the rest of the service.
"""
