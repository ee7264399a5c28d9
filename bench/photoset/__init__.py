"""Issue-16 development photo set: photos.csv and the script that re-fetches it."""
