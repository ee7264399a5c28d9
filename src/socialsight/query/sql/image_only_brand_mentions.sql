-- Brands: image-only mentions, posts whose photos show a brand their text does not name.
SELECT brand,
         count(*) AS posts,
         count(CASE WHEN in_photos AND NOT in_text THEN 1 END) AS image_only,
         round(100.0 * count(CASE WHEN in_photos AND NOT in_text THEN 1 END) / count(*), 1) AS image_only_share
FROM
    (SELECT brand,
         tweetid,
         bool_or(place = 'photo') AS in_photos,
         bool_or(place = 'text') AS in_text
    FROM socialanalyticsblog.brand_mentions
    GROUP BY  brand, tweetid)
GROUP BY  brand
ORDER BY  image_only DESC, brand;
