/* CKAN's DataTables view under the portal's Content-Security-Policy, which forbids inline script.
 *
 * CKAN 2.12 hands the view its data dictionary and view id in an inline <script> and wires its
 * buttons with onclick attributes. The portal's template (templates/datatables/datatables_view.html)
 * puts both values in a JSON block instead; this file, loaded before datatablesview.js, makes them
 * the globals that script expects and wires the buttons (also the copy and print buttons that
 * datatablesview.js writes into a record's details with onclick attributes).
 */
(function () {
  'use strict';
  // Once a non-English language file is loaded, datatablesview.js calls
  // setTimeout(initFilterObserver(), 100): it passes undefined, which browsers run as the string
  // "undefined" (an eval the policy blocks). A timer without a function has nothing to do.
  var setTimeoutWithFunction = window.setTimeout;
  window.setTimeout = function (handler) {
    return typeof handler === 'function' ? setTimeoutWithFunction.apply(window, arguments) : 0;
  };
  var data = JSON.parse(document.getElementById('vierstaedte-datatables-data').textContent);
  window.gdataDict = data.dictionary;
  window.gresviewId = data.view;

  // datatablesview.js replaces each filter cell's text with an unlabelled input: it gets the
  // cell's data-label ("Filter: Stadt") as its accessible name.
  var wrapper = document.getElementById('resize_wrapper');
  // The helper frame and text field datatablesview.js adds outside the table get names too.
  function labelFilters() {
    document.querySelectorAll('th.fhead[data-label] input:not([aria-label])').forEach(function (input) {
      input.setAttribute('aria-label', input.closest('th').dataset.label);
    });
    document.querySelectorAll('iframe:not([title])').forEach(function (frame) {
      frame.setAttribute('title', 'Hilfsrahmen der Tabelle');
    });
    document.querySelectorAll('input[type="text"]:not([aria-label])').forEach(function (input) {
      if (!input.labels || !input.labels.length) {
        input.setAttribute('aria-label', input.placeholder || 'Eingabe der Tabelle');
      }
    });
  }
  if (wrapper) {  // DataTables may move the header into a scrolling clone: watch the whole page
    labelFilters();
    new MutationObserver(labelFilters).observe(document.body, { childList: true, subtree: true });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('#refit-button, #modalcopy-button, #modalprint-button');
    if (!button) {
      return;
    }
    var table = document.getElementById('dtprv');
    var title = table.dataset.packageName + '\u2014' + table.dataset.resourceName;
    if (button.id === 'refit-button') {
      window.fitColText();
    } else if (button.id === 'modalcopy-button') {
      window.copyModal(title);
    } else {
      window.printModal(title);
    }
  });
}());
