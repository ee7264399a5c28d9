-- Text: the share of each sentiment per day (the companion dashboard post's sentiment chart).
SELECT date_format(from_unixtime(tweets.timestamp_ms / 1000), '%Y-%m-%d') AS day,
         s.sentiment,
         count(*) AS posts,
         round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY date_format(from_unixtime(tweets.timestamp_ms / 1000), '%Y-%m-%d')), 1) AS share
FROM socialanalyticsblog.tweet_sentiments s
JOIN socialanalyticsblog.tweets
    ON tweets.id = s.tweetid
WHERE s.sentiment IS NOT NULL
GROUP BY  1, 2
ORDER BY  1, 3 desc;
