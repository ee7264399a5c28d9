-- Celebrities: who appears most often (an image with two people counts twice).
SELECT name as celebrity,
         count(*) as count
FROM socialanalyticsblog.celeb_view
GROUP BY  name ORDER BY  count(*) desc;
