-- Labels and faces: the most frequent labels in the images.
SELECT label_name,
         count(*) AS count
FROM socialanalyticsblog.media_image_labels_query
GROUP BY label_name
ORDER BY 2 desc;
