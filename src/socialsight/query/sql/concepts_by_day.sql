-- Concepts: the posts whose photos show each learnt concept, day by day.
SELECT concept,
         dt,
         count(DISTINCT tweetid) AS posts,
         count(*) AS photos,
         round(avg(confidence), 1) AS confidence
FROM socialanalyticsblog.concept_hits
GROUP BY  concept, dt
ORDER BY  dt, posts DESC, concept;
