-- Every label of every image, one row per (image, label).
SELECT
  "tweetid"
, "mediaid"
, "media_url"
, "text"
, "label"."name" "label_name"
, "label"."parents" "label_parents"
FROM
  (
   SELECT *
   FROM
     media_rekognition
   , UNNEST("image_labels"."labels") t (label)
)
