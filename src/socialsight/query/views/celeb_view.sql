-- Every known person recognised in an image, with the post and its author.
SELECT
  "tweetid"
, "user"."id" "user_id"
, "user"."screen_name"
, "user"."name" "user_name"
, "mediaid"
, "media_url"
, "tweets"."text" "tweettext"
, "tweets"."retweeted"
, (CASE WHEN ("substr"("tweets"."text", 1, 2) = 'RT') THEN true ELSE false END) "isretweet"
, "from_unixtime"(("timestamp_ms" / 1000)) "ts"
, "celebrityface"."name"
, "celebrityface"."urls"
, "celebrityface"."id"
, "celebrityface"."matchconfidence"
FROM
  ((
   SELECT *
   FROM
     media_rekognition
   , UNNEST("image_labels"."celebrityrecognition"."celebrityfaces") t (celebrityface)
)
INNER JOIN tweets ON ("tweets"."id" = "tweetid"))
