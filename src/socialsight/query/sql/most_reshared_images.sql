-- Look-alikes: the most re-shared images, counting every version of each (re-encoded, resized, cropped, captioned, screenshots).
SELECT v.version_of,
         count(DISTINCT m.tweetid) AS posts,
         count(DISTINCT m.sha256) AS versions,
         min(m.media_url) AS media_url
FROM socialanalyticsblog.photo_versions v
JOIN socialanalyticsblog.media_rekognition m
    ON m.sha256 = v.sha256
GROUP BY  v.version_of
ORDER BY  posts DESC, versions DESC, v.version_of
LIMIT 20;
