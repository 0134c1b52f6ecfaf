// The console works without JavaScript; this file only adds two comforts:
// it scrolls a wide diagram to the case's current state, and it draws the
// indicator charts from the JSON figures in the page with plotly.js (served
// by the console itself; the tables carry the same numbers).
(function () {
  function centre() {
    document.querySelectorAll('.diagram').forEach(function (box) {
      var state = box.querySelector('g.state.current');
      if (!state || box.scrollWidth <= box.clientWidth) { return; }
      var b = state.getBoundingClientRect(), c = box.getBoundingClientRect();
      box.scrollLeft += (b.left + b.width / 2) - (c.left + c.width / 2);
    });
  }
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
  function ready() { centre(); draw(); }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else { ready(); }
})();
