"use strict";
(() => {
  const d = SS.data();
  const shown = d.labels.slice(0, d.charted);
  const photos = shown.map((r) => r.photos);
  // Counts are whole: no 0.5 ticks on a short axis.
  const xaxis = photos.length && Math.max(...photos) <= 6 ? { dtick: 1 } : {};
  SS.bar("top-labels", shown.map((r) => r.name), photos, {
    layout: { xaxis },
    // A label's bar opens its photos, with the same filters.
    onClick: (point) => {
      window.location.href = SS.withFilters("/labels/" + encodeURIComponent(point.y));
    },
  });
})();
