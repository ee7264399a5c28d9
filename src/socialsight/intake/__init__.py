"""What ``import`` and ``run`` share on the way into the lake.

- :mod:`~socialsight.intake.prepare`: a converted post made ready to store (its
  language detected where the platform gave none, its ``raw_json``, where it came from).
- :mod:`~socialsight.intake.writer`: posts and error rows into the ``tweets`` and
  ``errors`` tables, batch by batch, each post once.

It sits in the ingest layer (docs/architecture.md): it stands on ``posts`` (the
canonical post), ``language`` (language detection) and ``lake`` (storage).
"""
