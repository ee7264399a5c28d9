-- Buzz: product links (/dp/ pages) with the first line of text found in the post's photo.
SELECT tweetid,
         user_name,
         media_url,
         element_at(textdetections,1).detectedtext AS first_line,
         expanded_url,
         tweet_urls.text
FROM
    (SELECT id,
         user.name AS user_name,
         text,
         entities,
         url.expanded_url as expanded_url
    FROM socialanalyticsblog.tweets
    CROSS JOIN UNNEST (entities.urls) t (url)) tweet_urls
JOIN
    (SELECT media_url,
         tweetid,
         image_labels.textdetections AS textdetections
    FROM socialanalyticsblog.media_rekognition) rk
    ON rk.tweetid = tweet_urls.id
WHERE lower(url_extract_host(expanded_url)) IN ('www.amazon.com', 'amazon.com', 'www.amazon.com.uk', 'amzn.to')
        AND NOT position('/dp/' IN url_extract_path(expanded_url)) = 0
LIMIT 50;
