/*
 * Student pages. Vanilla ES2017, loaded with `defer` after htmx and lantern.js. The CSP
 * forbids inline scripts, so templates opt in with these attributes only:
 *
 *   [data-card-url=URL]            an explanation card; when the live explanation inside it
 *                                  (lantern.js sets data-explanation-status) reaches a final
 *                                  status, the card is fetched again from URL and swapped in,
 *                                  bringing the server-rendered answer, feedback and retry
 *   [data-swap-errors]             htmx requests from inside it swap 4xx answers too (form
 *                                  errors, a used-up budget); htmx drops them by default
 *   form[data-reset-on-success]    cleared after a 2xx htmx answer (the question was sent)
 */
(function () {
  "use strict";

  var TERMINAL_STATUSES = ["succeeded", "failed", "blocked"];

  function refreshCard(card) {
    if (!card || card.hasAttribute("data-refreshing") || !window.htmx) {
      return;
    }
    card.setAttribute("data-refreshing", "true");
    window.htmx.ajax("GET", card.getAttribute("data-card-url"), {
      target: card,
      swap: "outerHTML"
    });
  }

  var observer = new MutationObserver(function (records) {
    records.forEach(function (record) {
      var status = record.target.getAttribute("data-explanation-status");
      if (TERMINAL_STATUSES.indexOf(status) !== -1) {
        refreshCard(record.target.closest("[data-card-url]"));
      }
    });
  });
  observer.observe(document.documentElement, {
    subtree: true,
    attributes: true,
    attributeFilter: ["data-explanation-status"]
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    // The element that sent the request (detail.elt is the swap target here).
    var elt = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    if (xhr && xhr.status >= 400 && xhr.status < 500 &&
        elt && elt.closest && elt.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    // Status, not detail.successful: a 4xx swapped by the rule above counts as
    // "successful" for htmx, and a refused question must stay in the box to be fixed.
    if (xhr && xhr.status >= 200 && xhr.status < 300 &&
        elt && elt.matches && elt.matches("form[data-reset-on-success]")) {
      elt.reset();
    }
  });
})();
