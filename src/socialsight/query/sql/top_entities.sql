-- Text: the entities mentioned most, by type (people, places, organisations, products, ...).
-- The PII rows beside them (type 'PII:EMAIL', ...; docs/privacy.md) are not entities.
SELECT type,
         entity,
         count(*) AS mentions
FROM socialanalyticsblog.tweet_entities
WHERE score > 0.5
        AND type NOT LIKE 'PII:%'
GROUP BY  type, entity
ORDER BY  mentions desc, type, entity
LIMIT 50;
