/* The comparison page (/vergleich): progressive enhancement of a page that works without JavaScript.
 *
 * vierstaedte-compare-form: submits the GET form when a choice is made with the mouse or by touch.
 *   A choice made with the keyboard waits for the "Anzeigen" button: arrowing through the
 *   indicators must not reload the page at every step (WCAG 3.2.2, on input).
 * vierstaedte-compare-chart: draws the data of the page's table, read from a JSON script tag, with Chart.js.
 *   The x axis is the year; each point's tooltip names its exact period (a year or a reference date).
 */
"use strict";

ckan.module("vierstaedte-compare-form", function () {
  return {
    initialize: function () {
      var form = this.el[0];
      var byKeyboard = false;
      form.addEventListener("keydown", function () { byKeyboard = true; });
      form.addEventListener("pointerdown", function () { byKeyboard = false; });
      form.addEventListener("change", function () {
        if (!byKeyboard) {
          form.submit();
        }
      });
    }
  };
});

ckan.module("vierstaedte-compare-chart", function () {
  // below city level a city has many series: one colour each, not the city's
  var SERIES_COLOURS = ["#1f5fa8", "#e08a00", "#2e8540", "#c8102e", "#6f42c1", "#17a2b8", "#795548", "#555555"];

  return {
    options: {source: null},

    initialize: function () {
      var source = document.getElementById(this.options.source);
      var canvas = this.el.find("canvas")[0];
      if (!source || !canvas || typeof Chart === "undefined") {
        return;
      }
      var data = JSON.parse(source.textContent);
      var cities = data.datasets.map(function (series) { return series.city; });
      var perCity = new Set(cities).size === cities.length;
      this.el[0].hidden = false;
      new Chart(canvas, {
        type: data.labels.length > 1 ? "line" : "bar",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (series, index) {
            // a city's own colour (cities.json) where each city has one series
            var own = perCity && series.colour;
            var colour = own || SERIES_COLOURS[index % SERIES_COLOURS.length];
            return {label: series.label, data: series.data, periods: series.periods, borderColor: colour,
                    backgroundColor: colour, spanGaps: true};
          })
        },
        options: {
          locale: document.documentElement.lang || "de",  // 250.000 on the German page, 250,000 on /en/
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            legend: {position: "bottom"},
            tooltip: {callbacks: {label: function (item) {
              var period = item.dataset.periods && item.dataset.periods[item.dataIndex];
              var text = item.dataset.label + ": " + item.formattedValue;
              return period ? text + " (" + data.period_title + " " + period + ")" : text;
            }}}
          },
          scales: {
            x: {title: {display: Boolean(data.x_title), text: data.x_title}},
            y: {beginAtZero: true, title: {display: Boolean(data.unit), text: data.unit}}
          }
        }
      });
    }
  };
});
