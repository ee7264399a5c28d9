-- Face details for images labelled Face, with each face's top emotion.
SELECT
  "tweetid"
, "mediaid"
, "media_url"
, "text"
, "label"."name" "label_name"
, "label"."parents" "label_parents"
, "facedetails"."eyeglasses"."confidence" "eyeglasses_conf"
, "facedetails"."eyeglasses"."value" "eyeglasses_value"
, "facedetails"."sunglasses"."confidence" "sunglasses_conf"
, "facedetails"."sunglasses"."value" "sunglasses_value"
, "facedetails"."gender"."confidence" "gender_conf"
, "facedetails"."gender"."value" "gender_value"
, "facedetails"."agerange"."high" "age_range_high"
, "facedetails"."agerange"."low" "age_range_low"
, "facedetails"."smile"."value" "smiling"
, "facedetails"."smile"."confidence" "smile_confidence"
, "facedetails"."boundingbox"."top" "face_top_edge"
, "facedetails"."boundingbox"."left" "face_left_edge"
, "reduce"("facedetails"."emotions", "element_at"("facedetails"."emotions", 1), ("s_emotion", "emotion") -> IF(("emotion"."confidence" > "s_emotion"."confidence"), "emotion", "s_emotion"), ("s") -> "s") "top_emotion"
, "facedetails"."pose"."yaw"
, "facedetails"."pose"."roll"
, "facedetails"."pose"."pitch"
FROM
  (
   SELECT *
   FROM
     media_rekognition
   , UNNEST("image_labels"."labels") t (label)
   , UNNEST("image_labels"."facedetails") t (facedetails)
)
WHERE ("label"."name" = 'Face')
