// orderd dashboard: polls the admin JSON endpoints and redraws. No framework, no build step.
(function () {
  "use strict";
  var REFRESH_MS = 3000;
  var TOKEN_KEY = "orderd.adminToken";

  function $(id) { return document.getElementById(id); }

  // The token comes from the URL fragment (#token=...), never sent to the server in the URL,
  // or from the token box; it is kept for this browser tab only (sessionStorage).
  function tokenFromFragment() {
    var m = /(?:^#|&)token=([^&]*)/.exec(window.location.hash || "");
    return m ? decodeURIComponent(m[1]) : "";
  }
  function storedToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function storeToken(t) {
    try { window.sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* private mode */ }
  }
  var token = tokenFromFragment() || storedToken();
  if (token) storeToken(token);

  $("token-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = $("token-input").value.trim();
    storeToken(token);
    refresh();
  });

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" || typeof c === "number"
        ? document.createTextNode(String(c)) : c);
    });
    return node;
  }
  function fill(tbody, rows) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function setStatus(text, cls) {
    var s = $("status");
    s.textContent = text;
    s.className = "status " + (cls || "");
  }
  function showAuthProblem(message) {
    var b = $("auth-message");
    if (message) { b.textContent = message; b.hidden = false; } else { b.hidden = true; }
  }

  function getJson(path) {
    var headers = { "Accept": "application/json" };
    if (token) headers["Authorization"] = "Bearer " + token;
    return fetch(path, { headers: headers, cache: "no-store" }).then(function (resp) {
      if (resp.status === 401) throw { auth: "401 Unauthorized: the admin token is missing or " +
        "wrong. Open /dashboard#token=<token> or enter it above." };
      if (resp.status === 403) throw { auth: "403 Forbidden: the admin endpoints are disabled " +
        "(start orderd with --admin-token)." };
      if (!resp.ok) throw { other: path + " answered " + resp.status };
      return resp.json();
    });
  }

  // -- rendering

  function supervisorNode(s, childLabel) {
    var badges = [el("span", { "class": "badge", "data-live": s.name },
                     [s.live_children + " " + childLabel])];
    if (s.restarts > 0)
      badges.push(el("span", { "class": "badge warn" }, [s.restarts + " restarts"]));
    if (s.escalations > 0)
      badges.push(el("span", { "class": "badge bad" }, [s.escalations + " escalations"]));
    return el("span", { "class": "node" }, [el("span", { "class": "name" }, [s.name])]
      .concat(badges));
  }

  var CHILD_LABELS = { "orders": "live order actors", "inventory": "live stock actors",
                       "carts": "live cart actors" };

  function renderTree(actors) {
    var sups = actors.supervisors || [];
    var bySlot = {};
    sups.forEach(function (s) { if (s.slot) bySlot[s.slot] = s; });
    var root = sups.filter(function (s) { return !s.parent; })[0];
    var container = $("tree");
    while (container.firstChild) container.removeChild(container.firstChild);
    if (!root) { container.appendChild(el("p", {}, ["no supervisor answered"])); return; }
    var items = (root.children || []).map(function (name) {
      var sup = bySlot[name];
      if (!sup) return el("li", {}, [el("span", { "class": "node" }, [name])]);
      return el("li", {}, [el("span", { "class": "node" }, [name + " →"]),
        el("ul", {}, [el("li", {}, [supervisorNode(sup, CHILD_LABELS[sup.name] || "children")])])]);
    });
    container.appendChild(el("ul", {}, [el("li", {}, [supervisorNode(root, "children"),
      el("ul", {}, items)])]));
  }

  var STATUSES = ["PENDING", "PROCESSING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"];

  function renderOverview(o) {
    var counts = o.orders_by_status || {};
    var rows = STATUSES.map(function (st) {
      return el("tr", {}, [el("td", {}, [st]),
        el("td", { "class": "num", "data-status": st }, [counts[st] || 0])]);
    });
    rows.push(el("tr", {}, [el("th", {}, ["total"]), el("th", { "class": "num" }, [o.orders_total || 0])]));
    fill($("orders").tBodies[0], rows);

    var outbox = o.outbox || {};
    $("backlog").textContent = outbox.backlog === undefined || outbox.backlog < 0 ? "unknown"
      : String(outbox.backlog);
    $("published").textContent = outbox.published === undefined ? "–" : String(outbox.published);
    $("publisher").textContent = outbox.publisher || "–";
    $("dlq").textContent = o.dlq && o.dlq.messages !== undefined ? String(o.dlq.messages) : "–";

    fill($("breakers").tBodies[0], (o.breakers || []).map(function (b) {
      return el("tr", {}, [el("td", {}, [b.name]),
        el("td", { "class": "state-" + b.state }, [b.state]),
        el("td", {}, [b.last_error || ""])]);
    }));

    var low = o.low_stock || [];
    fill($("low-stock").tBodies[0], low.length ? low.map(function (p) {
      return el("tr", {}, [el("td", {}, [p.sku]), el("td", {}, [p.name]),
        el("td", { "class": "num" }, [p.available]),
        el("td", { "class": "num" }, [p.low_stock_threshold])]);
    }) : [el("tr", {}, [el("td", { colspan: "4" }, ["no product is low on stock"])])]);
  }

  // /ready, not an admin route: its cluster check lists the members and this node's shards.
  // Rendered on its own, so a store outage (/ready 503) never blanks the rest of the page.
  function renderCluster(ready) {
    var c = ready && ready.checks && ready.checks.cluster;
    if (!c) {
      $("cluster-summary").textContent = "single node (no cluster)";
      fill($("cluster-members").tBodies[0], []);
      fill($("cluster-changes").tBodies[0], []);
      return;
    }
    var served = (c.served || []).length;
    $("cluster-summary").textContent = "node " + c.node_id + " serves " + served + " of " +
      c.shards + " shards; " + (c.members || []).length + " live members";
    fill($("cluster-members").tBodies[0], (c.members || []).map(function (m) {
      var self = m.node_id === c.node_id;
      return el("tr", self ? { "class": "self" } : {}, [
        el("td", { "data-node": m.node_id }, [m.node_id + (self ? " (this node)" : "")]),
        el("td", {}, [m.advertise]),
        el("td", { "class": "num" }, [m.heartbeat_age_ms + " ms ago"]),
        el("td", { "class": "num", "data-shards": m.node_id }, [m.shards_owned])]);
    }));
    fill($("cluster-changes").tBodies[0], (c.recent_changes || []).map(function (h) {
      return el("tr", {}, [
        el("td", { "class": "num" }, [h.shard]),
        el("td", { "class": "num" }, [h.epoch]),
        el("td", {}, [h.previous_owner === null ? "(nobody)" : h.previous_owner]),
        el("td", { "data-took": h.owner }, [h.owner]),
        el("td", { "class": "num" }, [(h.age_ms / 1000).toFixed(1) + " s ago"])]);
    }));
  }
  function refreshCluster() {
    return fetch("/ready", { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (resp) { return resp.json(); })
      .then(renderCluster)
      .catch(function () { $("cluster-summary").textContent = "unknown (/ready unreachable)"; });
  }

  var timer = null;
  function refresh() {
    if (timer) { clearTimeout(timer); timer = null; }
    Promise.all([getJson("/api/v1/admin/actors"), getJson("/api/v1/admin/overview"),
                 refreshCluster()])
      .then(function (results) {
        showAuthProblem("");
        renderTree(results[0]);
        renderOverview(results[1]);
        $("updated").textContent = new Date().toLocaleTimeString();
        setStatus("live", "ok");
        document.body.setAttribute("data-loaded", "true");
      })
      .catch(function (err) {
        if (err && err.auth) { showAuthProblem(err.auth); setStatus("unauthorised", "bad"); }
        else { setStatus("unreachable: " + (err && (err.other || err.message) || err), "bad"); }
      })
      .then(function () { timer = setTimeout(refresh, REFRESH_MS); });
  }
  $("interval").textContent = String(REFRESH_MS / 1000);
  refresh();
})();
