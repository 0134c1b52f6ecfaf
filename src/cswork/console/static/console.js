// Draws the indicator charts from the JSON figures in the page (plotly.js is
// served by the console itself). The page's tables carry the same numbers,
// so nothing is lost when this does not run.
(function () {
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll('script[data-chart]').forEach(function (s) {
      var id = s.getAttribute('data-chart');
      var div = document.getElementById(id);
      try {
        var f = JSON.parse(s.textContent);
        Promise.resolve(window.Plotly.newPlot(div, f.data, f.layout,
                                              {responsive: true, displaylogo: false}))
          .then(function () { div.setAttribute('data-drawn', 'yes'); })
          .catch(function (e) { div.textContent = 'This chart could not be drawn: ' + e; });
      } catch (e) {
        div.textContent = 'This chart could not be drawn: ' + e;
      }
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else { draw(); }
})();
