"""Issue-17 brand benchmark set: logos.csv, the script that re-fetches the logos and the
script that composites them into the issue-16 photos."""
