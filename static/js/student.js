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
 *   textarea[data-char-limit=N]    counts its characters as the server does (a line break
 *     [data-count=ID]              is two: the browser sends CR LF) into element ID, from
 *                                  its data-template "{count} of {limit} characters"
 *     [data-too-long=ID]           over N: that element (aria-live) gets its data-template
 *                                  text ("…{limit}…") and the box aria-invalid; nothing
 *                                  is cut (the server refuses it with the form's message)
 *   form[data-reset-on-success]    cleared after a 2xx htmx answer (the question was sent);
 *                                  focus then goes back to its text box, and after a
 *                                  refused question it goes there too (to fix it). The
 *                                  answer itself is announced by its aria-live region, so
 *                                  focus never jumps away from where the student types.
 */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return name in values ? String(values[name]) : match;
    });
  }

  function updateCount(box) {
    var limit = parseInt(box.getAttribute("data-char-limit"), 10);
    var counter = document.getElementById(box.getAttribute("data-count"));
    var warning = document.getElementById(box.getAttribute("data-too-long"));
    // Code points, as Python's len() counts them; a line break is sent as CR LF.
    var count = Array.from(box.value.replace(/\r?\n/g, "\r\n")).length;
    if (counter && counter.getAttribute("data-template")) {
      counter.textContent = fill(counter.getAttribute("data-template"), { count: count, limit: limit });
      counter.classList.toggle("is-over", count > limit);
    }
    var tooLong = count > limit;
    if (tooLong) {
      box.setAttribute("aria-invalid", "true");
    } else if (warning && warning.textContent !== "") {
      box.removeAttribute("aria-invalid");
    }
    // Only a change of state is announced (the warning is aria-live), not every keystroke;
    // the counter shows the exact count.
    if (warning && tooLong !== (warning.textContent !== "")) {
      warning.textContent = tooLong ? fill(warning.getAttribute("data-template"), { limit: limit }) : "";
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-char-limit]")) {
      updateCount(event.target);
    }
  });
  document.addEventListener("reset", function (event) {
    var boxes = event.target.querySelectorAll ? event.target.querySelectorAll("textarea[data-char-limit]") : [];
    // The reset event fires before the form's values are cleared.
    window.setTimeout(function () {
      Array.prototype.forEach.call(boxes, updateCount);
    }, 0);
  }, true);
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-char-limit]"), updateCount);

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
    if (xhr && elt && elt.matches && elt.matches("form[data-reset-on-success]")) {
      var box = elt.querySelector("textarea, input[type=text]");
      if (box) {
        box.focus();
      }
    }
  });
})();
