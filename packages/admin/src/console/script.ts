/**
 * The console's script: plain browser JavaScript, inline, no dependencies.
 * It talks only to the admin API on the page's own origin; data is written
 * into the page with textContent (never as HTML).
 */
export const SCRIPT = String.raw`
"use strict";
(function () {
  var BASE = document.documentElement.getAttribute("data-base") || "";
  var TOKEN_KEY = "detour-admin-token:" + BASE;
  var state = { status: null, skew: 0, stream: null, live: false, auditAll: false, lastAudit: null, signedIn: false };
  var DURATIONS = [["", "No end"], ["900", "In 15 minutes"], ["1800", "In 30 minutes"], ["3600", "In 1 hour"], ["7200", "In 2 hours"], ["14400", "In 4 hours"]];

  function $(id) { return document.getElementById(id); }
  function h(tag, props, children) {
    var el = document.createElement(tag);
    if (props) for (var name in props) {
      var value = props[name];
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") el.textContent = value;
      else if (name === "className") el.className = value;
      else if (name.slice(0, 2) === "on") el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : value);
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  function token() { try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }
  function setToken(value) { try { if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) {} }
  function headers(extra) {
    var out = { accept: "application/json" };
    for (var k in extra || {}) out[k] = extra[k];
    var t = token();
    if (t) out.authorization = "Bearer " + t;
    return out;
  }

  function Unauthorized() { this.message = "unauthorized"; }

  function api(method, path, body) {
    var init = { method: method, headers: headers(body === undefined ? {} : { "content-type": "application/json" }), credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(BASE + path, init).then(function (res) {
      if (res.status === 401) { signedOut(); throw new Unauthorized(); }
      return res.json().catch(function () { return null; }).then(function (data) {
        if (!res.ok) throw new Error(data && data.detail ? data.detail : (data && data.title) || "HTTP " + res.status);
        return data;
      });
    });
  }

  function showError(error) {
    if (error instanceof Unauthorized) return;
    $("alert").textContent = error && error.message ? error.message : String(error);
  }
  function announce(text) { $("announce").textContent = text; }

  // ----- time -----
  function serverNow() { return Date.now() + state.skew; }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function duration(ms) {
    if (ms <= 0) return "ended";
    var s = Math.round(ms / 1000), d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return d + " d " + hh + " h";
    if (hh > 0) return hh + " h " + pad(m) + " min";
    if (m > 0) return m + " min " + pad(sec) + " s";
    return sec + " s";
  }
  function ago(iso) {
    var ms = serverNow() - Date.parse(iso);
    if (ms < 45000) return "just now";
    if (ms < 3600000) return Math.round(ms / 60000) + " min ago";
    if (ms < 86400000) return Math.round(ms / 3600000) + " h ago";
    return Math.round(ms / 86400000) + " d ago";
  }
  function when(iso) {
    var date = new Date(iso);
    var sameDay = new Date(serverNow()).toDateString() === date.toDateString();
    return sameDay ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : date.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function timeEl(iso, text) { return h("time", { datetime: iso, title: new Date(iso).toLocaleString(), text: text }); }
  function countdown(flag) {
    if (flag.state === "scheduled" && flag.from) return h("span", { "data-from": flag.from, text: "starts in " + duration(Date.parse(flag.from) - serverNow()) });
    if (flag.state === "ended") return h("span", { className: "muted", text: "ended" });
    if (!flag.until) return h("span", { className: "muted", text: "until turned off" });
    return h("strong", { "data-until": flag.until, text: duration(Date.parse(flag.until) - serverNow()) });
  }
  function tick() {
    document.querySelectorAll("[data-until]").forEach(function (el) { el.textContent = duration(Date.parse(el.getAttribute("data-until")) - serverNow()); });
    document.querySelectorAll("[data-from]").forEach(function (el) { el.textContent = "starts in " + duration(Date.parse(el.getAttribute("data-from")) - serverNow()); });
  }

  // ----- rendering -----
  var MODE_TEXT = { maintenance: "Maintenance", "read-only": "Read-only", available: "Available" };
  var SCOPE_TEXT = { site: "Whole site", feature: "Whole feature", user: "Some users" };
  function pill(mode, big) { return h("span", { className: "pill " + mode + (big ? " big" : ""), text: MODE_TEXT[mode] || mode }); }

  function render(status) {
    state.status = status;
    state.skew = Date.parse(status.serverTime) - Date.now();
    renderHealth(status.store);
    renderSite(status);
    renderFlags(status);
    renderKnown(status.known);
    if (!state.auditAll) renderAudit(status.audit);
    $("audit-more").hidden = state.auditAll || status.audit.length < 20;
    var newest = status.audit[0];
    if (state.lastAudit !== null && newest && newest.at + newest.action + newest.flag !== state.lastAudit) {
      announce(newest.actor + ": " + newest.action + " " + (newest.flag || "document"));
      if (state.auditAll) loadAudit();
    }
    state.lastAudit = newest ? newest.at + newest.action + newest.flag : "";
  }

  function renderHealth(store) {
    var text = store.kind + " store";
    if (store.revision !== null) text += " · revision " + store.revision;
    if (store.stale) text += " · unreachable, showing the last known state";
    $("store-text").textContent = text;
    $("live-dot").className = "dot" + (store.stale ? " stale" : state.live ? " live" : "");
  }

  function renderSite(status) {
    var key = status.siteFlag;
    var flag = status.flags.filter(function (f) { return f.key === key; })[0];
    var whole = flag && flag.scope !== "user" && flag.active;
    var mode = whole ? flag.mode : "available";
    $("site-key").textContent = key;
    $("site-pill").replaceWith(h("span", { id: "site-pill", className: "pill big " + mode, text: MODE_TEXT[mode] }));
    var users = flag && flag.scope === "user" ? (flag.percent !== null ? flag.percent + "% of users " : flag.users.length + " user" + (flag.users.length === 1 ? "" : "s") + " ") + MODE_TEXT[flag.mode].toLowerCase() : "";
    $("site-state").textContent = !flag ? "Serving everyone" : whole ? (mode === "maintenance" ? "Down for maintenance" : "Read-only for everyone")
      : users ? users : flag.state === "scheduled" ? MODE_TEXT[flag.mode] + " scheduled" : "Serving everyone";
    var meta = clear($("site-meta"));
    if (flag) {
      if (flag.since) meta.append("Since ", timeEl(flag.since, when(flag.since)));
      if (flag.by) meta.append(" by " + flag.by);
      if (flag.state === "scheduled" && flag.from) meta.append(" · from ", timeEl(flag.from, when(flag.from)), " (", countdown(flag), ")");
      if (flag.until) meta.append(" · ends ", timeEl(flag.until, when(flag.until)), flag.state === "active" ? " (" : "", flag.state === "active" ? countdown(flag) : "", flag.state === "active" ? ")" : "");
    }
    var message = $("site-message");
    message.hidden = !(flag && flag.message);
    message.textContent = flag && flag.message ? flag.message : "";
    $("site-maintenance").hidden = whole && mode === "maintenance";
    $("site-readonly").hidden = whole && mode === "read-only";
    $("site-off").hidden = !flag;
    $("site-off").textContent = whole && mode === "maintenance" ? "End maintenance" : whole ? "End read-only" : "Turn off";
    $("site-maintenance").textContent = whole ? "Switch to maintenance" : "Start maintenance";
    $("site-readonly").textContent = whole ? "Switch to read-only" : "Read-only";
  }

  function renderFlags(status) {
    var body = clear($("flags-body"));
    status.flags.forEach(function (flag) {
      var chips = flag.users.map(function (user) {
        return h("span", { className: "chip" }, [user, h("button", { type: "button", "aria-label": "Remove " + user + " from " + flag.key, title: "Remove", text: "\u00d7",
          onclick: function (event) { act(event.currentTarget, "POST", flag.key, "off", { users: [user] }); } })]);
      });
      // Contexts of other kinds (tenants), grouped by kind: "organization: acme".
      Object.keys(flag.contexts || {}).forEach(function (kind) {
        flag.contexts[kind].forEach(function (key) {
          chips.push(h("span", { className: "chip", "data-kind": kind }, [kind + ": " + key, h("button", { type: "button", "aria-label": "Remove " + kind + " " + key + " from " + flag.key, title: "Remove", text: "\u00d7",
            onclick: function (event) { act(event.currentTarget, "POST", flag.key, "off", { contexts: [{ kind: kind, key: key }] }); } })]));
        });
      });
      var users = h("div", { className: "chips" }, chips);
      var timing = h("div", null, [
        flag.from ? h("div", { className: "muted" }, ["from ", timeEl(flag.from, when(flag.from))]) : flag.since ? h("div", { className: "muted" }, ["since ", timeEl(flag.since, when(flag.since))]) : null,
        flag.until ? h("div", null, ["until ", timeEl(flag.until, when(flag.until))]) : null,
      ]);
      body.appendChild(h("tr", { "data-flag": flag.key }, [
        h("td", { className: "key" }, [flag.key, flag.by ? h("div", { className: "muted", text: "by " + flag.by }) : null]),
        h("td", null, [pill(flag.mode), flag.active ? null : h("div", { className: "muted", text: flag.state === "scheduled" ? "scheduled" : "not in force" })]),
        h("td", { text: SCOPE_TEXT[flag.scope] || flag.scope }),
        h("td", null, [chips.length ? users : h("span", { className: "muted", text: "\u2014" })]),
        h("td", { className: "num", text: flag.percent === null ? "\u2014" : flag.percent + "%" }),
        h("td", { className: "num" }, [timing, countdown(flag)]),
        h("td", { className: "message", text: flag.message || "" }),
        h("td", null, [h("div", { className: "actions" }, [h("button", { type: "button", className: "small", "aria-label": "Turn " + flag.key + " off", text: "Turn off",
          onclick: function (event) { act(event.currentTarget, "POST", flag.key, "off", {}); } })])]),
      ]));
    });
    $("flags-empty").hidden = status.flags.length > 0;
    $("flags-table").hidden = status.flags.length === 0;
    $("flags-count").textContent = String(status.flags.length);
  }

  function rate(x) { return x === null || x === undefined ? "\u2014" : (x * 100).toFixed(x === 0 || x === 1 ? 0 : 1) + "%"; }
  function ms(x) { return x === null || x === undefined ? "\u2014" : x >= 100 ? Math.round(x) + " ms" : x >= 1 ? x.toFixed(1) + " ms" : (x * 1000).toFixed(0) + " \u00b5s"; }
  function renderMigrations(summary) {
    $("migrations").hidden = false;
    $("migrations-window").textContent = "last " + summary.minutes + " min" + (summary.instances > 1 ? " \u00b7 " + summary.instances + " instances" : "");
    var body = clear($("migrations-body"));
    var rows = 0;
    summary.flags.forEach(function (flag) {
      flag.stages.forEach(function (stage) {
        var checks = stage.checks, checked = checks.consistent + checks.inconsistent;
        var consistency = checked ? rate(checks.consistencyRate) + " of " + checked : "\u2014";
        if (checks.checkErrors) consistency += " \u00b7 " + checks.checkErrors + " check errors";
        stage.origins.forEach(function (origin, i) {
          rows++;
          body.appendChild(h("tr", { "data-migration": flag.flag + "/" + stage.stage + "/" + origin.origin }, [
            h("td", { className: "key", text: i === 0 ? flag.flag : "" }),
            h("td", null, i === 0 ? [h("span", { className: "tag", text: stage.stage })] : []),
            h("td", { text: origin.origin }),
            h("td", { className: "num", text: String(origin.invocations) }),
            h("td", { className: "num" + (origin.errors ? " bad" : ""), "data-cell": "error-rate", text: rate(origin.errorRate) }),
            h("td", { className: "num", "data-cell": "p50", text: ms(origin.p50Ms) }),
            h("td", { className: "num", "data-cell": "p99", text: ms(origin.p99Ms) }),
            h("td", { className: "num", "data-cell": "consistency", text: i === 0 ? consistency : "" }),
          ]));
        });
      });
    });
    $("migrations-empty").hidden = rows > 0;
  }

  function renderKnown(keys) {
    var list = clear($("known-flags"));
    keys.forEach(function (key) { list.appendChild(h("option", { value: key })); });
  }

  /** An audited { kind, key } as "organization:acme"; anything else as it is. */
  function contextText(item) {
    return item && typeof item === "object" && typeof item.kind === "string" ? item.kind + ":" + item.key : String(item);
  }

  function details(entry) {
    var parts = [];
    var d = entry.details || {};
    Object.keys(d).forEach(function (name) {
      var value = d[name];
      parts.push(name + " " + (Array.isArray(value) ? value.map(contextText).join(", ") : typeof value === "object" ? JSON.stringify(value) : String(value)));
    });
    return parts.join(" · ");
  }

  function renderAudit(entries) {
    var body = clear($("audit-body"));
    entries.forEach(function (entry) {
      body.appendChild(h("tr", null, [
        h("td", { className: "num" }, [timeEl(entry.at, when(entry.at)), h("div", { className: "muted", text: ago(entry.at) })]),
        h("td", { text: entry.actor }),
        h("td", null, [h("span", { className: "tag", text: entry.action })]),
        h("td", { className: "key", text: entry.flag || "\u2014" }),
        h("td", { className: "details", text: details(entry) }),
      ]));
    });
    $("audit-empty").hidden = entries.length > 0;
  }

  function loadAudit() {
    return api("GET", "/api/audit?limit=200").then(function (data) { state.auditAll = true; renderAudit(data.audit); $("audit-more").hidden = true; }, showError);
  }

  // ----- actions -----
  function act(button, method, key, verb, body) {
    $("alert").textContent = "";
    if (button) button.disabled = true;
    return api(method, "/api/flags/" + encodeURIComponent(key) + "/" + verb, body)
      .then(function (status) { render(status); announce(key + " " + (verb === "on" ? "turned on" : "turned off")); return true; }, function (error) { showError(error); return false; })
      .finally(function () { if (button) button.disabled = false; });
  }
  function value(id) { return $(id).value.trim(); }
  function withEnd(body, id) { var ttl = $(id).value; if (ttl) body.ttl = Number(ttl); return body; }
  function userList(text) { return text.split(/[\s,]+/).filter(Boolean); }

  /** The form's ids for the chosen kind: { users } for users, { contexts: [{ kind, key }] } for any other kind. */
  function targets(kind, text) {
    var ids = userList(text);
    return !kind || kind === "user" ? { users: ids } : { contexts: ids.map(function (key) { return { kind: kind, key: key }; }) };
  }

  function siteOn(button, mode) {
    var key = state.status ? state.status.siteFlag : "site";
    if (mode === "maintenance" && !window.confirm("Take the whole site down for maintenance? Visitors will get the maintenance page.")) return;
    var body = withEnd({ mode: mode }, "site-duration");
    if (value("site-message-input")) body.message = value("site-message-input");
    act(button, "POST", key, "on", body);
  }

  function wire() {
    $("site-maintenance").addEventListener("click", function (e) { siteOn(e.currentTarget, "maintenance"); });
    $("site-readonly").addEventListener("click", function (e) { siteOn(e.currentTarget, "read-only"); });
    $("site-off").addEventListener("click", function (e) { act(e.currentTarget, "POST", state.status ? state.status.siteFlag : "site", "off", {}); });
    $("feature-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var body = withEnd({ mode: $("feature-mode").value }, "feature-duration");
      if (value("feature-message")) body.message = value("feature-message");
      act(e.submitter, "POST", value("feature-key"), "on", body);
    });
    $("feature-off").addEventListener("click", function (e) {
      if (!$("feature-key").reportValidity()) return;
      act(e.currentTarget, "POST", value("feature-key"), "off", {});
    });
    $("users-form").addEventListener("submit", function (e) {
      e.preventDefault();
      act(e.submitter, "POST", value("users-key"), "on", Object.assign({ mode: "read-only" }, targets(value("users-kind").trim(), value("users-ids")))).then(function (ok) { if (ok) $("users-ids").value = ""; });
    });
    $("users-remove").addEventListener("click", function (e) {
      if (!$("users-key").reportValidity() || !$("users-ids").reportValidity()) return;
      act(e.currentTarget, "POST", value("users-key"), "off", targets(value("users-kind").trim(), value("users-ids"))).then(function (ok) { if (ok) $("users-ids").value = ""; });
    });
    $("percent-form").addEventListener("submit", function (e) {
      e.preventDefault();
      act(e.submitter, "POST", value("percent-key"), "on", { mode: $("percent-mode").value, percent: Number($("percent-value").value) });
    });
    $("audit-more").addEventListener("click", loadAudit);
    $("signin-form").addEventListener("submit", function (e) {
      e.preventDefault();
      setToken($("token").value.trim());
      $("token").value = "";
      start();
    });
    $("signout").addEventListener("click", function () { setToken(""); stopStream(); signedOut(true); });
    document.querySelectorAll("select[data-durations]").forEach(function (select) {
      DURATIONS.forEach(function (d) { select.appendChild(h("option", { value: d[0], text: d[1] })); });
    });
    setInterval(tick, 1000);
  }

  // ----- sign-in -----
  function signedOut(byUser) {
    stopStream();
    state.signedIn = false;
    $("main").hidden = true;
    $("footer").hidden = true;
    $("signout").hidden = true;
    $("signin").hidden = false;
    var error = $("signin-error");
    error.hidden = byUser || !token();
    error.textContent = "That token was refused.";
    setLive(false, "Signed out");
    $("token").focus();
  }
  function signedIn() {
    state.signedIn = true;
    $("signin").hidden = true;
    $("main").hidden = false;
    $("footer").hidden = false;
    $("signout").hidden = !token();
  }

  // ----- live updates: Server-Sent Events read with fetch, so the bearer token travels in a header -----
  function setLive(live, text) {
    state.live = live;
    $("live-text").textContent = text || (live ? "Live" : "Reconnecting\u2026");
    $("live-dot").className = "dot" + (live ? " live" : "");
  }
  function stopStream() {
    if (state.stream) { state.stream.abort(); state.stream = null; }
  }
  function listen(delay) {
    var controller = new AbortController();
    state.stream = controller;
    var watchdog;
    function feed() {
      clearTimeout(watchdog);
      watchdog = setTimeout(function () { controller.abort(); }, 45000);
    }
    setTimeout(function () {
      if (controller.signal.aborted) return;
      fetch(BASE + "/api/events", { headers: headers({ accept: "text/event-stream" }), credentials: "same-origin", cache: "no-store", signal: controller.signal })
        .then(function (res) {
          if (res.status === 401) { signedOut(); throw new Unauthorized(); }
          if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
          setLive(true);
          feed();
          var reader = res.body.getReader();
          var decoder = new TextDecoder();
          var buffer = "";
          function pump() {
            return reader.read().then(function (chunk) {
              if (chunk.done) return;
              feed();
              buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
              var end;
              while ((end = buffer.indexOf("\n\n")) >= 0) {
                dispatch(buffer.slice(0, end));
                buffer = buffer.slice(end + 2);
              }
              return pump();
            });
          }
          return pump();
        })
        .catch(function (error) { if (error instanceof Unauthorized) return; })
        .then(function () {
          clearTimeout(watchdog);
          if (state.stream !== controller || !state.signedIn) return;
          setLive(false);
          listen(2000);
        });
    }, delay);
  }
  function dispatch(block) {
    var name = "message", data = [];
    block.split("\n").forEach(function (line) {
      if (line.slice(0, 6) === "event:") name = line.slice(6).trim();
      else if (line.slice(0, 5) === "data:") data.push(line.slice(5).replace(/^ /, ""));
    });
    if ((name === "status" || name === "change") && data.length) {
      try { render(JSON.parse(data.join("\n"))); } catch (e) { showError(e); }
    }
    if (name === "migrations" && data.length) {
      try { renderMigrations(JSON.parse(data.join("\n"))); } catch (e) { showError(e); }
    }
  }

  function start() {
    stopStream();
    api("GET", "/api/status").then(function (status) {
      signedIn();
      render(status);
      listen(0);
    }, showError);
  }

  wire();
  start();
})();
`;
