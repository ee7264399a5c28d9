-- Text: the entities mentioned most, by type (people, places, organisations, products, ...).
SELECT type,
         entity,
         count(*) AS mentions
FROM socialanalyticsblog.tweet_entities
WHERE score > 0.5
GROUP BY  type, entity
ORDER BY  mentions desc, type, entity
LIMIT 50;
