-- Buzz: the 10 most linked-to domains.
SELECT lower(url_extract_host(url.expanded_url)) AS domain,
         count(*) AS count
FROM
    (SELECT *
    FROM socialanalyticsblog.tweets
    CROSS JOIN UNNEST (entities.urls) t (url))
GROUP BY  lower(url_extract_host(url.expanded_url))
ORDER BY  COUNT(*) DESC
LIMIT 10;
