"use strict";
(() => {
  const d = SS.data();
  const label = (p) => (d.platforms.find((r) => r.platform === p) || {}).label || p;
  SS.overTime("posts-over-time", d.over_time, "platform", "posts", label);
  SS.overTime("photos-over-time", d.over_time, "platform", "photos", label);
  SS.pie("platform-share", d.platforms.map((r) => r.label), d.platforms.map((r) => r.posts),
    { colors: d.platforms.map((r) => ({ x: "#111827", bluesky: "#1185fe", mastodon: "#6364ff" })[r.platform] || "#6b7280") });
})();
