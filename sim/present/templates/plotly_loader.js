/* plotly.js v{version}, the cartesian partial bundle (trace types {traces}),
   gzipped and base64-encoded in the script element "plotly-js-gzip" above.
   Copyright 2012-2026, Plotly, Inc. Licensed under the MIT license
   (https://github.com/plotly/plotly.js/blob/master/LICENSE).
   This unpacks it in the browser (DecompressionStream) and runs it; the charts'
   calls to Plotly.newPlot made before then wait for it. A browser without
   DecompressionStream shows a note in place of each chart. */
(function () {
  var ready = new Promise(function (resolve) {
    if (typeof DecompressionStream === "undefined") {
      var note = function () {
        document.querySelectorAll(".plotly-graph-div").forEach(function (div) {
          div.className += " chart-unavailable";
          div.style.height = "auto";
          div.textContent = "This browser cannot unpack the charts of this page: it lacks " +
            "DecompressionStream (Chrome and Edge 80, Firefox 113 and Safari 16.4 have it). " +
            "Open the page in a newer browser to see the charts.";
        });
      };
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", note);
      } else {
        note();
      }
      return; /* never resolves: no chart is drawn, and nothing throws */
    }
    var packed = atob(document.getElementById("plotly-js-gzip").textContent.trim());
    var bytes = new Uint8Array(packed.length);
    for (var i = 0; i < packed.length; i++) {
      bytes[i] = packed.charCodeAt(i);
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text().then(function (code) {
      var script = document.createElement("script");
      script.textContent = code;
      document.head.appendChild(script); /* runs now; sets window.Plotly */
      resolve(window.Plotly);
    });
  });
  window.Plotly = {
    newPlot: function () {
      var args = arguments;
      return ready.then(function (plotly) {
        return plotly.newPlot.apply(plotly, args);
      });
    },
  };
})();
