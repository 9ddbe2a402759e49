// The Model health page's one script, shipped in the package: show the newest drift intervals
// (the right end of each heatmap) first. The page works without it.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".heatmap-wrap").forEach(function (wrap) {
    wrap.scrollLeft = wrap.scrollWidth;
  });
});
