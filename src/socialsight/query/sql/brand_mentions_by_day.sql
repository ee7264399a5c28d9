-- Brands: posts mentioning each enrolled brand per day, in photos (logo or word mark) beside in text.
SELECT date_format(ts, '%Y-%m-%d') AS day,
         brand,
         count(DISTINCT CASE WHEN place = 'photo' THEN tweetid END) AS in_photos,
         count(DISTINCT CASE WHEN place = 'text' THEN tweetid END) AS in_text
FROM socialanalyticsblog.brand_mentions
GROUP BY  1, 2
ORDER BY  1, 2;
