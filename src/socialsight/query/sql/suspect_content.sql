-- Suspect content: posts whose image has moderation labels, or that the platform marked sensitive.
SELECT tweetid,
transform(image_labels.moderationlabels, ml -> ml.name) AS moderationlabels,
"mediaid", "media_url" ,
"url"."expanded_url" AS url ,
    (CASE WHEN ("substr"("tweets"."text", 1, 2) = 'RT') THEN true
    ELSE false END) "isretweet"
FROM media_rekognition
INNER JOIN tweets
    ON ("tweets"."id" = "tweetid"), UNNEST("entities"."urls") t (url)
WHERE cardinality(image_labels.moderationlabels) > 0
        OR possibly_sensitive = True;
