"""What runs the analyses of ``socialsight enrich``: :mod:`.base` (the protocol),
:mod:`.local` (worker processes) and :mod:`.ray` (actors on a Ray cluster).

Both executors stand only on :mod:`socialsight.analysis`. Nothing here is
imported by the base install: Ray is an extra (``pip install 'socialsight[ray]'``),
imported only when ``enrich.executor = "ray"``.
"""
