"""socialsight: what social-media images say, analysed on your own machine."""

__version__ = "0.1.0"
