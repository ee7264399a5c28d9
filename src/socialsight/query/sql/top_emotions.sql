-- Labels and faces: top emotions across all faces in all images.
SELECT top_emotion.type AS emotion,
         count(*) AS "count"
FROM socialanalyticsblog.media_image_labels_face_query milfq
WHERE top_emotion.confidence > 50
GROUP BY top_emotion.type
ORDER BY 2 desc;
