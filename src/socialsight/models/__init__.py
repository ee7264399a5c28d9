"""The models: one table of them (:mod:`.registry`) and where their sessions run
(:mod:`.runtime`). The analyses that use them live in :mod:`socialsight.vision` and
:mod:`socialsight.language`."""
