-- Celebrities: images of John Doe, in the post's text or recognised in the image, with the first line of text in it.
SELECT cv.media_url,
         count(*) AS count ,
         detectedtext
FROM socialanalyticsblog.celeb_view cv
LEFT JOIN      -- left join to catch cases with no text
    (SELECT tweetid,
         mediaid,
         textdetection.detectedtext AS detectedtext
    FROM socialanalyticsblog.media_rekognition , UNNEST(image_labels.textdetections) t (textdetection)
    WHERE (textdetection.type = 'LINE'
            AND textdetection.id = 0) -- get the first line of text
    ) mr
    ON ( cv.mediaid = mr.mediaid
        AND cv.tweetid = mr.tweetid )
WHERE ( ( NOT position('johndoe' IN lower(tweettext)) = 0 ) -- JohnDoe IN text
        OR ( (NOT position('johndoe' IN lower(name)) = 0) -- JohnDoe IN image
        AND matchconfidence > 75) )  -- with pretty good confidence
GROUP BY  cv.media_url, detectedtext
ORDER BY  count(*) DESC;
