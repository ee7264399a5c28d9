-- Labels and faces: each face's top emotion, with the post's author and its amazon links.
SELECT top_emotion.type AS emotion,
         top_emotion.confidence AS emotion_confidence ,
         milfq.* ,
         "user".id AS user_id ,
         "user".screen_name ,
         "user".name AS user_name ,
         url.expanded_url AS url
FROM socialanalyticsblog.media_image_labels_face_query milfq
INNER JOIN socialanalyticsblog.tweets
    ON "tweets".id = tweetid, UNNEST(entities.urls) t (url)
WHERE position('.amazon.' IN url.expanded_url) > 0;
