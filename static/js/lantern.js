/*
 * Lantern page behaviour. Vanilla ES2017, no build step, loaded with `defer` after
 * katex.min.js and auto-render.min.js. The CSP forbids inline scripts, so templates
 * opt in to behaviour with these attributes only:
 *
 *   .math-render                    typeset TeX inside (on load and after every htmx swap)
 *   [data-explanation-stream=URL]   follow a live explanation over Server-Sent Events
 *     [data-poll-url=URL]           JSON fallback, polled every 2 s
 *     [data-done-message=TEXT]      announced when finished (default "Explanation ready.")
 *     > [data-status]               status text; gets class "badge badge-<status>"
 *     > .explanation-live           aria-live="polite" region the text streams into
 *   SSE events: delta {"text"} (appended as text), status {"status", "label"?},
 *   reset {} (a retry began: clear the text), done {"html", "status"?} (html already
 *   sanitized by tutoring.rendering). Send `id:` = characters sent so far so a reconnect
 *   resumes via Last-Event-ID; without ids the client clears and expects a replay.
 *   Poll JSON: {"status", "html", "text", "label"?}; stops on succeeded/failed/blocked.
 *   form[data-confirm=TEXT]         ask before submitting (also on a submit button)
 *   [data-copy-target=SELECTOR]     copy that element's value/text to the clipboard
 *     [data-copied-label=TEXT]      button text for 2 s afterwards (default "Copied")
 */
(function () {
  "use strict";

  var MATH_DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
    { left: "$", right: "$", display: false }
  ];
  var TERMINAL_STATUSES = ["succeeded", "failed", "blocked"];
  var POLL_INTERVAL_MS = 2000;
  var POLL_MAX_INTERVAL_MS = 30000;
  var MAX_STREAM_ERRORS = 3;

  /* ---------- Screen-reader announcements ---------- */

  var announcer = null;

  function announce(message) {
    if (!announcer) {
      announcer = document.createElement("div");
      announcer.className = "visually-hidden";
      announcer.setAttribute("role", "status");
      announcer.setAttribute("aria-live", "polite");
      document.body.appendChild(announcer);
    }
    // Clearing first makes a repeated message ("Copied") be announced again.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  /* ---------- Math ---------- */

  function typeset(element) {
    if (typeof window.renderMathInElement !== "function") {
      return; // KaTeX not on this page: the TeX source stays readable as text.
    }
    window.renderMathInElement(element, {
      delimiters: MATH_DELIMITERS,
      throwOnError: false,
      // Typeset output keeps its TeX in annotations: never typeset it twice. Text still
      // streaming in is half a formula at best; it is typeset once, when it is done.
      ignoredClasses: ["katex", "is-streaming"]
    });
  }

  function renderMath(root) {
    if (!root || root.nodeType !== 1) {
      return;
    }
    if (root.closest(".math-render")) {
      typeset(root);
      return;
    }
    var targets = root.querySelectorAll(".math-render");
    for (var i = 0; i < targets.length; i++) {
      typeset(targets[i]);
    }
  }

  /* ---------- Live explanation stream ---------- */

  function parseJSON(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return null;
    }
  }

  function ExplanationStream(element) {
    this.element = element;
    this.streamUrl = element.getAttribute("data-explanation-stream");
    this.pollUrl = element.getAttribute("data-poll-url");
    this.live = element.querySelector(".explanation-live") || element;
    this.statusEl = element.querySelector("[data-status]");
    this.source = null;
    this.errors = 0;
    this.finished = false;
    this.sawEventIds = false;
    this.lastEventId = "";
    this.pollDelay = POLL_INTERVAL_MS;
    this.pollTimer = null;
  }

  ExplanationStream.prototype.start = function () {
    this.live.classList.add("is-streaming");
    this.live.setAttribute("aria-busy", "true");
    if (this.streamUrl && typeof window.EventSource === "function") {
      this.openStream();
    } else {
      this.startPolling();
    }
  };

  ExplanationStream.prototype.isDetached = function () {
    // htmx may swap the element away while it streams; stop instead of leaking.
    if (!document.body.contains(this.element)) {
      this.stop();
      return true;
    }
    return false;
  };

  ExplanationStream.prototype.openStream = function () {
    var self = this;
    var source = new EventSource(this.streamUrl);
    this.source = source;

    source.addEventListener("open", function () {
      // Without event ids the server cannot resume and replays from the start.
      if (self.errors > 0 && !self.sawEventIds) {
        self.live.textContent = "";
      }
    });
    source.addEventListener("delta", function (event) {
      if (self.isDetached()) { return; }
      if (event.lastEventId && event.lastEventId !== self.lastEventId) {
        // Resumable and making progress: a dropped connection here is routine.
        self.sawEventIds = true;
        self.lastEventId = event.lastEventId;
        self.errors = 0;
      }
      var data = parseJSON(event.data);
      if (data && typeof data.text === "string") {
        self.live.appendChild(document.createTextNode(data.text));
      }
    });
    source.addEventListener("reset", function () {
      // The server started a new attempt (a retry): what was shown is void.
      if (self.isDetached()) { return; }
      self.live.textContent = "";
    });
    source.addEventListener("status", function (event) {
      if (self.isDetached()) { return; }
      var data = parseJSON(event.data);
      if (data && data.status) {
        self.setStatus(data.status, data.label);
      }
    });
    source.addEventListener("done", function (event) {
      if (self.isDetached()) { return; }
      var data = parseJSON(event.data) || {};
      self.finish(data.status || "succeeded", data.html, data.text, data.label);
    });
    source.addEventListener("error", function () {
      if (self.finished || self.isDetached()) { return; }
      self.errors += 1;
      // EventSource reconnects by itself unless the server refused outright (CLOSED).
      if (source.readyState === EventSource.CLOSED || self.errors >= MAX_STREAM_ERRORS) {
        source.close();
        self.source = null;
        self.startPolling();
      }
    });
  };

  ExplanationStream.prototype.startPolling = function () {
    if (!this.pollUrl || this.finished) {
      return;
    }
    this.schedulePoll(0);
  };

  ExplanationStream.prototype.schedulePoll = function (delay) {
    var self = this;
    this.pollTimer = window.setTimeout(function () { self.poll(); }, delay);
  };

  ExplanationStream.prototype.poll = async function () {
    if (this.finished || this.isDetached()) {
      return;
    }
    var data = null;
    try {
      var response = await fetch(this.pollUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      });
      if (response.ok) {
        data = await response.json();
      }
    } catch (e) {
      data = null;
    }
    if (this.finished || this.isDetached()) {
      return;
    }
    if (!data || !data.status) {
      // Network trouble: back off so a classroom of tablets does not hammer the server.
      this.pollDelay = Math.min(this.pollDelay * 2, POLL_MAX_INTERVAL_MS);
      this.schedulePoll(this.pollDelay);
      return;
    }
    this.pollDelay = POLL_INTERVAL_MS;
    if (TERMINAL_STATUSES.indexOf(data.status) !== -1) {
      this.finish(data.status, data.html, data.text, data.label);
      return;
    }
    this.setStatus(data.status, data.label);
    if (typeof data.text === "string") {
      this.live.textContent = data.text;
    }
    this.schedulePoll(POLL_INTERVAL_MS);
  };

  ExplanationStream.prototype.setStatus = function (status, label) {
    this.element.setAttribute("data-explanation-status", status);
    if (!this.statusEl) {
      return;
    }
    this.statusEl.textContent = label || status;
    var kept = [];
    var classes = this.statusEl.className.split(/\s+/);
    for (var i = 0; i < classes.length; i++) {
      if (classes[i] && classes[i].indexOf("badge-") !== 0 && classes[i] !== "badge") {
        kept.push(classes[i]);
      }
    }
    kept.push("badge", "badge-" + status);
    this.statusEl.className = kept.join(" ");
  };

  ExplanationStream.prototype.finish = function (status, html, text, label) {
    if (this.finished) {
      return;
    }
    this.finished = true;
    this.stop();
    this.setStatus(status, label);
    if (typeof html === "string" && html !== "") {
      // Trusted: the server renders this through tutoring.rendering (Markdown + nh3).
      this.live.innerHTML = html;
    } else if (typeof text === "string") {
      this.live.textContent = text;
      this.live.classList.add("is-plain-text");
    }
    this.live.classList.remove("is-streaming");
    typeset(this.live);
    this.live.setAttribute("aria-busy", "false");
    announce(this.element.getAttribute("data-done-message") || "Explanation ready.");
  };

  ExplanationStream.prototype.stop = function () {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
    if (this.pollTimer !== null) {
      window.clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
  };

  var startedStreams = typeof WeakSet === "function" ? new WeakSet() : null;

  function startStreams(root) {
    if (!root || root.nodeType !== 1) {
      return;
    }
    var elements = Array.prototype.slice.call(
      root.querySelectorAll("[data-explanation-stream]")
    );
    if (root.matches("[data-explanation-stream]")) {
      elements.unshift(root);
    }
    elements.forEach(function (element) {
      if (startedStreams && startedStreams.has(element)) {
        return;
      }
      if (startedStreams) { startedStreams.add(element); }
      new ExplanationStream(element).start();
    });
  }

  /* ---------- Confirm before submit ---------- */

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) ||
      (form && form.getAttribute && form.getAttribute("data-confirm"));
    if (message && !window.confirm(message)) {
      event.preventDefault();
      // Capture phase on document: stopping here also keeps htmx from sending it.
      event.stopPropagation();
    }
  }, true);

  /* ---------- Copy to clipboard ---------- */

  function copyText(text, source) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-http school intranets have no Clipboard API: fall back to a selection.
    var scratch = document.createElement("textarea");
    scratch.value = text;
    scratch.setAttribute("readonly", "");
    scratch.className = "visually-hidden";
    source.parentNode.insertBefore(scratch, source.nextSibling);
    scratch.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    scratch.remove();
    source.focus();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy-target]") : null;
    if (!button) {
      return;
    }
    event.preventDefault();
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) {
      return;
    }
    var text = "value" in target && typeof target.value === "string"
      ? target.value
      : target.textContent.trim();
    var label = button.getAttribute("data-copied-label") || "Copied";
    copyText(text, button).then(function () {
      if (!button.hasAttribute("data-original-label")) {
        button.setAttribute("data-original-label", button.textContent);
      }
      button.textContent = label;
      announce(label);
      window.setTimeout(function () {
        button.textContent = button.getAttribute("data-original-label");
        button.removeAttribute("data-original-label");
      }, 2000);
    }, function () {
      // Leave the key selected so the user can copy it by hand.
      if (typeof target.select === "function") {
        target.focus();
        target.select();
      }
    });
  });

  /* ---------- Selects that submit their form (language switcher) ---------- */

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select && select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.submit();
    }
  });

  /* ---------- Wiring ---------- */

  function enhance(root) {
    renderMath(root);
    startStreams(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document.body);
  });
  document.addEventListener("htmx:load", function (event) {
    enhance(event.detail && event.detail.elt ? event.detail.elt : event.target);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    enhance(event.detail && event.detail.target ? event.detail.target : event.target);
  });
})();
