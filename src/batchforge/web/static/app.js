/* batchforge web UI: progressive enhancement only.  Every page works without this script;
   with it: live status and log tailing, copy buttons, confirmations, and form conveniences.
   No dependencies, no build step. */
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function fetchText(url, options) {
    options = options || {};
    options.headers = Object.assign({ "X-Requested-With": "fetch" }, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options).then(function (response) {
      if (response.status === 401) { window.location.reload(); throw new Error("signed out"); }
      return response.text().then(function (text) { return { status: response.status, text: text }; });
    });
  }

  function announce(region, text) {
    if (region) { region.textContent = text; }
  }

  /* --- error summary and confirmations ---------------------------------------------------- */
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.querySelectorAll('a[href^="#f-"]').forEach(function (link) {
      var label = document.querySelector('label[for="' + link.getAttribute("href").slice(1) + '"]');
      if (label) {  /* "Name: must be…" rather than the message alone */
        var words = label.cloneNode(true);
        words.querySelectorAll(".optional").forEach(function (o) { o.remove(); });
        link.textContent = words.textContent.trim() + ": " + link.textContent;
      }
    });
    summary.focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    var busy = form.getAttribute("data-busy");
    if (busy) {
      var status = form.querySelector("[data-busy-status]");
      announce(status, busy);
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    }
  });

  /* --- copy buttons ------------------------------------------------------------------------ */
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var text = source ? source.textContent : "";
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      var done = function () { announce(status, "Copied to the clipboard."); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text, done, status); });
      } else {
        fallbackCopy(text, done, status);
      }
    });
  });

  function fallbackCopy(text, done, status) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); done(); }
    catch (e) { announce(status, "Copy failed: select the text and copy it."); }
    document.body.removeChild(area);
  }

  /* --- live fragments: [data-poll] is replaced by a fresh copy until it stops asking ------- */
  function poll(element) {
    var url = element.getAttribute("data-poll");
    var every = parseInt(element.getAttribute("data-interval") || "2000", 10);
    window.setTimeout(function () {
      fetchText(url).then(function (answer) {
        if (answer.status >= 500) { poll(element); return; }
        var holder = document.createElement("div");
        holder.innerHTML = answer.text;
        var fresh = holder.firstElementChild;
        if (!fresh) { return; }
        var go = fresh.getAttribute("data-redirect");
        if (go) { window.location.assign(go); return; }
        var focused = document.activeElement && element.contains(document.activeElement);
        var said = fresh.getAttribute("data-announce");
        if (said && said !== element.getAttribute("data-announce")) {
          announce(document.getElementById("announcer"), said);
        }
        element.replaceWith(fresh);
        if (focused) { fresh.setAttribute("tabindex", "-1"); fresh.focus(); }
        if (fresh.hasAttribute("data-poll")) { poll(fresh); }
      }).catch(function () { poll(element); });
    }, every);
  }
  document.querySelectorAll("[data-poll]").forEach(poll);

  /* --- log tail ------------------------------------------------------------------------------ */
  document.querySelectorAll("[data-log]").forEach(function (pre) {
    var url = pre.getAttribute("data-log");
    var next = pre.getAttribute("data-next") || "";
    var note = document.getElementById(pre.getAttribute("data-log-status"));
    var quietRounds = 0;
    function tick() {
      var full = url + (next ? (url.indexOf("?") < 0 ? "?" : "&") + "next=" + encodeURIComponent(next) : "");
      fetchText(full).then(function (answer) {
        if (answer.status === 404) { return; }
        if (answer.status !== 200) { window.setTimeout(tick, 4000); return; }
        var page = JSON.parse(answer.text);
        var atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
        if (page.lines.length) {
          var placeholder = pre.querySelector("[data-log-empty]");
          if (placeholder) { placeholder.remove(); }
          pre.appendChild(document.createTextNode(page.lines.join("\n") + "\n"));
          if (atEnd) { pre.scrollTop = pre.scrollHeight; }
        }
        next = page.next || next;
        if (note) { note.textContent = page.message || (page.pending ? "Following the log…" : "The run has ended: this is the whole log."); }
        quietRounds = page.lines.length ? 0 : quietRounds + 1;
        if (page.pending || page.lines.length) {
          window.setTimeout(tick, page.lines.length ? 500 : Math.min(1000 + quietRounds * 500, 5000));
        }
      }).catch(function () { window.setTimeout(tick, 4000); });
    }
    if (pre.getAttribute("data-pending") === "true") { window.setTimeout(tick, 1000); }
  });

  /* --- compute environment form ------------------------------------------------------------ */
  var ceForm = document.querySelector("[data-ce-form]");
  if (ceForm) { enhanceComputeForm(ceForm); }

  function enhanceComputeForm(form) {
    var status = document.getElementById("resources-status");

    function showMode() {
      var checked = form.querySelector('input[name="mode"]:checked');
      var mode = checked ? checked.value : "forge";
      form.querySelectorAll("[data-mode-section]").forEach(function (section) {
        section.hidden = section.getAttribute("data-mode-section") !== mode;
      });
    }
    function showStorage() {
      form.querySelectorAll("[data-show-when]").forEach(function (block) {
        var rule = block.getAttribute("data-show-when");
        var negated = rule.indexOf("!=") > 0;
        var parts = rule.split(negated ? "!=" : "=");
        var control = form.querySelector('[name="' + parts[0] + '"]');
        var value = control && control.type === "checkbox" ? (control.checked ? control.value : "") : (control ? control.value : "");
        var listed = control ? parts[1].split("|").indexOf(value) >= 0 : false;
        block.hidden = !control || (negated ? listed : !listed);
      });
    }
    function filterByVpc() {
      var vpcSelect = form.querySelector('select[name="vpcId"]');
      var vpc = vpcSelect ? vpcSelect.value : "";
      form.querySelectorAll("option[data-vpc]").forEach(function (option) {
        var match = !vpc || option.getAttribute("data-vpc") === vpc;
        option.hidden = !match;
        option.disabled = !match;
        if (!match) { option.selected = false; }
      });
    }
    function reloadResources() {
      var box = document.getElementById("aws-resources");
      if (!box) { return; }
      var data = new FormData(form);
      data.delete("csrf_token");
      var query = new URLSearchParams(data).toString();
      announce(status, "Loading AWS resources…");
      fetchText("/ui/compute-envs/new/resources?" + query).then(function (answer) {
        var holder = document.createElement("div");
        holder.innerHTML = answer.text;
        var fresh = holder.querySelector("#aws-resources");
        if (fresh) { box.replaceWith(fresh); }
        showStorage();
        filterByVpc();
        var region = form.querySelector('[name="region"]');
        announce(status, answer.status === 200 ? "AWS resources loaded for " + (region ? region.value : "the region") + "." : "Could not load AWS resources.");
      }).catch(function () { announce(status, "Could not load AWS resources."); });
    }

    form.addEventListener("change", function (event) {
      var name = event.target.getAttribute("name");
      if (name === "mode") { showMode(); }
      if (name === "credentialsId" || name === "region") { reloadResources(); }
      if (name === "vpcId") { filterByVpc(); }
      showStorage();
    });
    var loadButton = form.querySelector("[data-load-resources]");
    if (loadButton) { loadButton.hidden = true; }
    showMode();
    showStorage();
    filterByVpc();
  }

  /* --- jump to a line and column of a text area (policy findings, params errors) ----------- */
  function selectAt(area, line, column) {
    var lines = area.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { offset += lines[i].length + 1; }
    offset += Math.max(0, (column || 1) - 1);
    area.focus();
    area.setSelectionRange(offset, Math.min(offset + 1, area.value.length));
    var height = area.scrollHeight / Math.max(lines.length, 1);
    area.scrollTop = Math.max(0, (line - 3) * height);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-goto-line]") : null;
    if (!link) { return; }
    var area = document.getElementById(link.getAttribute("data-goto"));
    if (!area) { return; }
    event.preventDefault();
    selectAt(area, parseInt(link.getAttribute("data-goto-line"), 10), parseInt(link.getAttribute("data-goto-column"), 10));
  });

  /* --- params editor: check JSON/YAML and jump to the error -------------------------------- */
  document.querySelectorAll("[data-params-check]").forEach(function (button) {
    button.hidden = false;
    var area = document.getElementById(button.getAttribute("data-params-check"));
    var status = document.getElementById(button.getAttribute("data-params-status"));
    button.addEventListener("click", function () {
      fetchText(button.getAttribute("data-url"), {
        method: "POST",
        headers: { "Content-Type": "text/plain", "X-CSRF-Token": csrf },
        body: area.value
      }).then(function (answer) {
        var result = JSON.parse(answer.text);
        announce(status, result.message);
        status.className = result.ok ? "hint" : "error-text";
        if (!result.ok && result.line) { selectAt(area, result.line, result.column); }
      });
    });
  });
})();
