"""AWS's own API, answered locally: Rekognition and Comprehend calls run on socialsight."""
