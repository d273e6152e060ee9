/* The comparison page (/vergleich): progressive enhancement of a page that works without JavaScript.
 *
 * vierstaedte-compare-choices: folds the choices away on a phone, so the chart is on the first
 *   screen; the summary line names the indicator and opens them again.
 * vierstaedte-compare-form: submits the GET form when a choice is made with the mouse or by touch.
 *   A choice made with the keyboard waits for the "Anzeigen" button: arrowing through the
 *   indicators must not reload the page at every step (WCAG 3.2.2, on input).
 * vierstaedte-compare-chart: draws the data of the page's table, read from a JSON script tag, with
 *   Chart.js. The server decides the kind (logic/comparison.py): bars for one year, otherwise a
 *   linear axis of numeric years, so the gaps between years are true. Colours come from the server
 *   too (a city's, a party's), the same as beside the table's names. Numbers are written in the
 *   page's language (220.000 and 72,19 on the German page); each tooltip names the exact period.
 *   On a line chart each series has its own point shape, shown in the legend too, and with a few
 *   series the earlier ones have larger points: two cities with the same value in a year would
 *   otherwise be one point, the later drawn over the earlier.
 */
"use strict";

ckan.module("vierstaedte-compare-choices", function () {
  return {
    initialize: function () {
      if (window.matchMedia("(max-width: 575.98px)").matches) {
        this.el[0].open = false;
      }
    }
  };
});

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
  return {
    options: {source: null},

    initialize: function () {
      var source = document.getElementById(this.options.source);
      var canvas = this.el.find("canvas")[0];
      if (!source || !canvas || typeof Chart === "undefined") {
        return;
      }
      var data = JSON.parse(source.textContent);
      var locale = document.documentElement.lang || "de";
      var numbers = new Intl.NumberFormat(locale, {maximumFractionDigits: 3});
      var bars = data.kind === "bar";
      var shapes = ["circle", "rectRot", "triangle", "rect", "star", "crossRot"];
      var stepped = data.datasets.length <= shapes.length;  // many series: one size for all
      this.el[0].hidden = false;

      function pointRadius(index) {
        return bars || !stepped ? 4 : 4 + 1.5 * (data.datasets.length - 1 - index);
      }

      function periodOf(item) {
        return bars ? item.dataset.periods[item.dataIndex] : item.raw.period;
      }

      var x = bars ? {} : {
        type: "linear",
        min: data.years[0],
        max: data.years[1],
        offset: true,  // a point of the first or last year is not drawn on the chart's edge
        title: {display: true, text: data.x_title},
        // a year is a year: 2021, never 2.021; no ticks between years
        ticks: {stepSize: 1, callback: function (value) {
          return Number.isInteger(value) ? String(value) : "";
        }}
      };
      new Chart(canvas, {
        type: bars ? "bar" : "line",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (series, index) {
            var colour = series.colours || series.colour;
            return {label: series.label, data: series.data, periods: series.periods,
                    borderColor: colour, backgroundColor: colour,
                    pointStyle: bars ? "circle" : shapes[index % shapes.length],
                    pointRadius: pointRadius(index), pointHoverRadius: pointRadius(index) + 2,
                    spanGaps: true};
          })
        },
        options: {
          locale: locale,
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            // one bar series coloured by city: the axis names the cities, a legend would not help
            legend: {display: data.datasets.length > 1 || !bars, position: "bottom",
                     labels: {usePointStyle: !bars}},
            tooltip: {callbacks: {
              title: function (items) {
                return bars ? items[0].label : String(items[0].raw.x);
              },
              label: function (item) {
                var value = item.parsed.y === null ? "–" : numbers.format(item.parsed.y);
                var period = periodOf(item);
                var text = item.dataset.label + ": " + value;
                return period ? text + " (" + data.period_title + " " + period + ")" : text;
              }
            }}
          },
          scales: {
            x: x,
            y: {beginAtZero: true, title: {display: Boolean(data.unit), text: data.unit},
                ticks: {callback: function (value) { return numbers.format(value); }}}
          }
        }
      });
    }
  };
});
