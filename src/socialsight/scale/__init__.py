"""Scaling out: the analysis of ``socialsight enrich`` on a Ray cluster (:mod:`.ray_executor`).

Nothing here is imported by the base install: Ray is an extra
(``pip install 'socialsight[ray]'``), imported only when ``enrich.executor = "ray"``.
"""
