"""The dashboard: FastAPI pages over the lake, each with a JSON endpoint behind it.

``app.py`` builds the app (settings, engine, security, templates, static files);
``views/`` has one module per page family, each a thin layer over the matching
:mod:`socialsight.explore` function; ``photos.py`` serves photos from the lake's
store by their sha256 only, thumbnailed and blurred on request.
"""
