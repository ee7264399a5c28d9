"use strict";
(() => {
  const d = SS.data();
  // Counts are whole: no 0.5 ticks on a short axis.
  const whole = (values) => ({ xaxis: values.length && Math.max(...values) <= 6 ? { dtick: 1 } : {} });
  const links = d.domains.map((r) => r.links);
  SS.bar("top-domains", d.domains.map((r) => r.domain), links, { left: 160, layout: whole(links) });
  const posts = d.hashtags.map((r) => r.posts);
  // A hashtag's bar filters every page by it: the page reloads with q=#tag.
  SS.bar("top-hashtags", d.hashtags.map((r) => "#" + r.label), posts, {
    color: SS.COLORS[1], layout: whole(posts),
    onClick: (point) => { window.location.href = SS.withFilters("/buzz", { q: point.y }); },
  });
})();
