/* The answer browser (inlined into index.html by polyinstruct/report/browse.py).
 *
 * window.BROWSE_CATALOG describes the grid; each (eval set, language) is a chunk that data/chunk-N.js
 * registers with browseChunk(N, data) when a <script> tag loads it (or that index.html inlined).
 * Every text from the results is set with textContent, never parsed as HTML. The selection lives in
 * the URL's fragment (#e=..&l=..&r=0,3&...), so a view can be bookmarked or shared.
 * The document element's data-state is "loading", "ready" or "error"; performance mark "browse-ready"
 * is set when the first view has been drawn (perf/bench_browse.py reads it).
 */
(function () {
  "use strict";
  var catalog = window.BROWSE_CATALOG;
  var byId = function (id) { return document.getElementById(id); };
  var runs = catalog.runs;
  var protocolInfo = {};
  catalog.protocols.concat(catalog.pairwise).forEach(function (p) { protocolInfo[p.name] = p; });
  var state = {
    evalset: catalog.evalsets[0],
    lang: catalog.langs.length ? catalog.langs[0].code : "",
    runs: runs.slice(0, 2).map(function (_, i) { return i; }),
    category: "",
    wrong: false,
    disagree: false,
    sort: "file",
    a: 0,
    b: 1,
    protocol: catalog.protocols.length ? catalog.protocols[0].name : "",
    gated: true
  };
  var chunk = null;
  var drawn = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function append(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  function fmt(value) {
    if (value === null || value === undefined) return "\u2013";
    return Math.round(value * 100) / 100 + "";
  }

  function setState(name) { document.documentElement.setAttribute("data-state", name); }

  function chunkKey(evalset, lang) {
    for (var key in catalog.chunks) {
      var c = catalog.chunks[key];
      if (c.evalset === evalset && c.lang === lang) return key;
    }
    return null;
  }

  function langName(code) {
    for (var i = 0; i < catalog.langs.length; i++) if (catalog.langs[i].code === code) return catalog.langs[i].name;
    return code;
  }

  function load(key) {
    return new Promise(function (resolve, reject) {
      if (window.BROWSE_CHUNKS[key]) return resolve(window.BROWSE_CHUNKS[key]);
      var file = catalog.chunks[key].file;
      var script = document.createElement("script");
      script.src = file;
      script.onload = function () {
        if (window.BROWSE_CHUNKS[key]) resolve(window.BROWSE_CHUNKS[key]);
        else reject(new Error(file + " did not register its data"));
      };
      script.onerror = function () {
        reject(new Error("Could not load " + file + ". This page reads its data from the data/ folder beside it: " +
          "open results/report/browse/index.html from disk (the Snakemake report embeds the page alone)."));
      };
      document.head.appendChild(script);
    });
  }

  // ---- the URL fragment ----------------------------------------------------------------------------

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (params.has("e") && catalog.evalsets.indexOf(params.get("e")) >= 0) state.evalset = params.get("e");
    if (params.has("l") && chunkKey(state.evalset, params.get("l")) !== null) state.lang = params.get("l");
    if (params.has("r")) {
      state.runs = params.get("r").split(",").filter(function (s) { return s !== ""; }).map(Number)
        .filter(function (i) { return i >= 0 && i < runs.length; });
    }
    if (params.has("c")) state.category = params.get("c");
    state.wrong = params.get("w") === "1";
    state.disagree = params.get("d") === "1";
    if (params.has("s")) state.sort = params.get("s");
    if (params.has("a")) state.a = Number(params.get("a"));
    if (params.has("b")) state.b = Number(params.get("b"));
    if (params.has("p") && protocolInfo[params.get("p")]) state.protocol = params.get("p");
    if (params.has("g")) state.gated = params.get("g") !== "0";
  }

  function writeHash() {
    var params = new URLSearchParams();
    params.set("e", state.evalset);
    params.set("l", state.lang);
    params.set("r", state.runs.join(","));
    if (state.category) params.set("c", state.category);
    if (state.wrong) params.set("w", "1");
    if (state.disagree) params.set("d", "1");
    if (state.sort !== "file") {
      params.set("s", state.sort);
      params.set("a", state.a);
      params.set("b", state.b);
      params.set("p", state.protocol);
      params.set("g", state.gated ? "1" : "0");
    }
    history.replaceState(null, "", "#" + params.toString());
  }

  // ---- controls ------------------------------------------------------------------------------------

  function fillSelect(select, options, value) {
    select.textContent = "";
    options.forEach(function (o) {
      var option = el("option", null, o[1]);
      option.value = o[0];
      select.appendChild(option);
    });
    select.value = value;
  }

  function setUpControls() {
    byId("title").textContent = catalog.title;
    document.title = catalog.title + " \u2014 answer browser";
    byId("gap").textContent = catalog.disagree_gap;
    fillSelect(byId("evalset"), catalog.evalsets.map(function (e) { return [e, e]; }), state.evalset);
    fillLangs();
    var box = byId("runs");
    runs.forEach(function (run, i) {
      var label = el("label");
      var input = el("input");
      input.type = "checkbox";
      input.value = i;
      input.title = run.path;
      input.addEventListener("change", function () {
        state.runs = [];
        box.querySelectorAll("input").forEach(function (x) { if (x.checked) state.runs.push(Number(x.value)); });
        update();
      });
      append(label, input, " " + run.label);
      box.appendChild(label);
    });
    fillSelect(byId("protocol"), catalog.protocols.map(function (p) { return [p.name, p.name]; }), state.protocol);
    byId("protocol").disabled = !catalog.protocols.length;
    byId("evalset").addEventListener("change", function () { state.evalset = this.value; fillLangs(); change(); });
    byId("lang").addEventListener("change", function () { state.lang = this.value; change(); });
    byId("category").addEventListener("change", function () { state.category = this.value; update(); });
    byId("wrong").addEventListener("change", function () { state.wrong = this.checked; update(); });
    byId("disagree").addEventListener("change", function () { state.disagree = this.checked; update(); });
    byId("sort").addEventListener("change", function () { state.sort = this.value; update(); });
    byId("run-a").addEventListener("change", function () { state.a = Number(this.value); update(); });
    byId("run-b").addEventListener("change", function () { state.b = Number(this.value); update(); });
    byId("protocol").addEventListener("change", function () { state.protocol = this.value; update(); });
    byId("gated").addEventListener("change", function () { state.gated = this.checked; update(); });
    byId("runs-all").addEventListener("click", function () { state.runs = runs.map(function (_, i) { return i; }); update(); });
    byId("runs-none").addEventListener("click", function () { state.runs = []; update(); });
  }

  function fillLangs() {
    var langs = catalog.langs.filter(function (l) { return chunkKey(state.evalset, l.code) !== null; });
    if (!langs.some(function (l) { return l.code === state.lang; }) && langs.length) state.lang = langs[0].code;
    fillSelect(byId("lang"), langs.map(function (l) { return [l.code, l.name + " (" + l.code + ")"]; }), state.lang);
  }

  function syncControls() {
    byId("evalset").value = state.evalset;
    byId("lang").value = state.lang;
    byId("runs").querySelectorAll("input").forEach(function (x) { x.checked = state.runs.indexOf(Number(x.value)) >= 0; });
    var info = catalog.chunks[chunkKey(state.evalset, state.lang)];
    var categories = info ? info.categories : [];
    if (state.category && categories.indexOf(state.category) < 0) state.category = "";
    fillSelect(byId("category"), [["", "all categories"]].concat(categories.map(function (c) { return [c, c]; })),
      state.category);
    byId("wrong").checked = state.wrong;
    byId("disagree").checked = state.disagree;
    byId("sort").value = state.sort;
    var chosen = state.runs.map(function (i) { return [String(i), runs[i].label]; });
    if (state.runs.indexOf(state.a) < 0) state.a = state.runs.length ? state.runs[0] : 0;
    if (state.runs.indexOf(state.b) < 0 || state.b === state.a) {
      var other = state.runs.filter(function (i) { return i !== state.a; });
      state.b = other.length ? other[0] : state.a;
    }
    fillSelect(byId("run-a"), chosen, String(state.a));
    fillSelect(byId("run-b"), chosen, String(state.b));
    byId("protocol").value = state.protocol;
    byId("gated").checked = state.gated;
    var sorting = state.sort !== "file";
    ["run-a", "run-b", "protocol", "gated"].forEach(function (id) {
      byId(id).disabled = !sorting || !catalog.protocols.length;
    });
  }

  // ---- filtering and sorting -----------------------------------------------------------------------

  function entry(run, index) {
    var list = chunk.answers[String(run)];
    return list ? list[index] : null;
  }

  function score(run, index) {
    var e = entry(run, index);
    if (!e || !e.judge || !e.judge[state.protocol]) return null;
    var value = e.judge[state.protocol][state.gated ? "gated" : "score"];
    return value === undefined ? null : value;
  }

  function difference(index) {
    var a = score(state.a, index), b = score(state.b, index);
    return a === null || b === null ? null : a - b;
  }

  function visible() {
    var shown = [];
    chunk.items.forEach(function (item, index) {
      if (state.category && String(item.category) !== state.category) return;
      var selected = state.runs.map(function (r) { return entry(r, index); }).filter(Boolean);
      if (state.wrong && !selected.some(function (e) { return e.wrong_language; })) return;
      if (state.disagree && !selected.some(function (e) { return e.disagree && e.disagree.length; })) return;
      shown.push(index);
    });
    if (state.sort !== "file") {
      var key = function (index) {
        var d = difference(index);
        if (d === null) return null;
        return state.sort === "diff-desc" ? -d : state.sort === "diff-asc" ? d : -Math.abs(d);
      };
      shown = shown.map(function (index, position) { return [key(index), position, index]; });
      shown.sort(function (x, y) {
        if (x[0] === null || y[0] === null) return (x[0] === null) - (y[0] === null) || x[1] - y[1];
        return x[0] - y[0] || x[1] - y[1];
      });
      shown = shown.map(function (x) { return x[2]; });
    }
    return shown;
  }

  // ---- drawing -------------------------------------------------------------------------------------

  function rawDetails(summary, texts) {
    // the raw answers are drawn when first opened: most are never read, and 1,500 answers stay light
    var details = el("details", "raw");
    append(details, el("summary", null, summary));
    details.addEventListener("toggle", function () {
      if (!details.open || details.querySelector("pre")) return;
      texts.forEach(function (t) {
        append(details, el("pre", null, t === null || t === undefined ? "(no answer: the judge call failed)" : t));
      });
    });
    return details;
  }

  function drawTurnValue(info, value) {
    if (value === null || value === undefined) return "\u2013";
    if (typeof value === "object") {
      return Object.keys(value).map(function (k) { return k + " " + fmt(value[k]); }).join(", ");
    }
    return fmt(value);
  }

  function drawJudge(name, judged) {
    var info = protocolInfo[name];
    var box = el("div", "judge");
    box.setAttribute("data-protocol", name);
    var top = append(el("div"), el("span", "label", name));
    var scale = info.scale[0] + "\u2013" + info.scale[1];
    if (!judged) return append(box, append(top, el("span", "missing", "not judged")));
    var headline = info.headline ? " (" + info.headline + ")" : "";
    append(top, el("span", "score", fmt(judged.score)), " / " + scale + headline + " ",
      el("span", "gated", "gated " + fmt(judged.gated) + " (" + info.gating + ")"));
    box.appendChild(top);
    judged.turns.forEach(function (t) {
      var line = el("div");
      var where = t.turn ? "turn " + t.turn + ": " : "turn 1 (the item's score): ";
      append(line, where + drawTurnValue(info, t.value));
      if (t.gated_out) append(line, el("span", "gated", " \u2192 left out (wrong language)"));
      else if (!t.lang_correct) append(line, el("span", "gated", " \u2192 gated " + drawTurnValue(info, t.gated)));
      if (t.parse_error) {
        append(line, " ", el("span", "parse-error", "unparsed: " + t.parse_error + (t.parse_detail ? " (" + t.parse_detail + ")" : "")));
      }
      box.appendChild(line);
      box.appendChild(rawDetails("judge's answer" + (t.turn ? " (turn " + t.turn + ")" : ""), [t.raw]));
    });
    return box;
  }

  function slotMeaning(verdict, mineIsA) {
    if (verdict === null || verdict === undefined) return "unparsed";
    if (verdict === "tie") return "tie";
    if (verdict === "both_bad") return "both bad";
    return (verdict === "A") === mineIsA ? "this answer" : "the baseline";
  }

  function drawPair(row) {
    var box = el("div", "pair");
    box.setAttribute("data-protocol", row.protocol);
    var baseline = runs[row.baseline].label;
    append(box, el("span", "label", row.protocol), "vs " + baseline + ", turn " + row.turn + ": ");
    var outcome = row.outcome === null ? "undecided" : row.outcome;
    append(box, el("span", "outcome-" + outcome, outcome),
      row.consistent === false ? " (inconsistent" + (row.position_flip ? ", position flip" : "") + ")" : "");
    var orders = el("div");
    append(orders, "this answer first: [[" + (row.verdict_ab === null ? "?" : row.verdict_ab) + "]] \u2192 " +
      slotMeaning(row.verdict_ab, true) + "; second: [[" + (row.verdict_ba === null ? "?" : row.verdict_ba) +
      "]] \u2192 " + slotMeaning(row.verdict_ba, false));
    if (row.parse_error) append(orders, " ", el("span", "parse-error", "unparsed: " + row.parse_error));
    box.appendChild(orders);
    box.appendChild(rawDetails("judge's answers (both orders)", row.raw || []));
    return box;
  }

  function drawAnswer(run, index, item) {
    var e = entry(run, index);
    var box = el("section", "answer");
    box.setAttribute("data-run", run);
    append(box, el("h3", null, runs[run].label));
    if (!e) return append(box, el("p", "missing", "no answer in this run"));
    if (e.wrong_language) box.classList.add("wrong-language");
    e.responses.forEach(function (text, t) {
      var turn = el("div", "turn");
      var meta = append(el("div"), el("span", "label", "Turn " + (t + 1)));
      if (e.langid) {
        var ok = e.langid.turn_correct[t];
        var code = e.langid.predicted[t];
        var name = e.langid.names[t];
        var prob = e.langid.prob ? " " + fmt(e.langid.prob[t]) : "";
        var tag = el("span", "lang " + (ok ? "ok" : "wrong"),
          (ok ? "" : "wrong language: ") + (code || "none") + (name ? " (" + name + ")" : "") + prob);
        tag.title = "fastText language ID; the prompt is " + langName(chunk.lang);
        meta.appendChild(tag);
      } else {
        meta.appendChild(el("span", "missing", "no language ID"));
      }
      append(turn, meta, el("div", "text", text));
      box.appendChild(turn);
    });
    catalog.protocols.forEach(function (p) { box.appendChild(drawJudge(p.name, e.judge[p.name])); });
    (e.pairwise || []).forEach(function (row) { box.appendChild(drawPair(row)); });
    if (e.disagree && e.disagree.length) {
      var list = el("ul", "reasons");
      e.disagree.forEach(function (r) { list.appendChild(el("li", null, r)); });
      box.appendChild(list);
    }
    return box;
  }

  function drawItem(index) {
    var item = chunk.items[index];
    var card = el("article", "item");
    card.setAttribute("data-id", item.id);
    var head = append(el("header"), el("span", "id", item.id));
    if (item.category !== null && item.category !== undefined) head.appendChild(el("span", "tag category", item.category));
    var selected = state.runs.map(function (r) { return entry(r, index); }).filter(Boolean);
    if (selected.some(function (e) { return e.wrong_language; })) head.appendChild(el("span", "tag wrong", "wrong language"));
    if (selected.some(function (e) { return e.disagree && e.disagree.length; })) {
      head.appendChild(el("span", "tag disagree", "judges disagree"));
    }
    if (state.sort !== "file") {
      var d = difference(index);
      var diff = el("span", "diff", "A \u2212 B = " + (d === null ? "\u2013" : (d > 0 ? "+" : "") + fmt(d)));
      diff.setAttribute("data-diff", d === null ? "" : d);
      head.appendChild(diff);
    }
    card.appendChild(head);
    var prompt = el("div", "prompt");
    item.turns.forEach(function (text, t) {
      var turn = append(el("div", "turn"), el("span", "label", "Turn " + (t + 1)), el("span", "text", text));
      var reference = Array.isArray(item.reference) ? item.reference[t] : t === 0 ? item.reference : null;
      if (reference) turn.appendChild(el("div", "reference", "Reference: " + reference));
      prompt.appendChild(turn);
    });
    card.appendChild(prompt);
    var answers = el("div", "answers");
    state.runs.forEach(function (run) { answers.appendChild(drawAnswer(run, index, item)); });
    card.appendChild(answers);
    return card;
  }

  function draw() {
    syncControls();
    writeHash();
    var shown = visible();
    var main = byId("items");
    var fragment = document.createDocumentFragment();
    shown.forEach(function (index) { fragment.appendChild(drawItem(index)); });
    main.textContent = "";
    main.appendChild(fragment);
    var status = byId("status");
    status.className = "";
    var text = "Showing " + shown.length + " of " + chunk.items.length + " prompts \u00b7 " + state.evalset + " \u00b7 " +
      langName(state.lang) + " \u00b7 " + state.runs.length + (state.runs.length === 1 ? " run" : " runs");
    if (state.runs.length < 2) text += " (select two or more runs to compare them)";
    status.textContent = text;
    setState("ready");
    if (!drawn) {
      drawn = true;
      performance.mark("browse-ready");
    }
  }

  function fail(error) {
    var status = byId("status");
    status.className = "error";
    status.textContent = error.message;
    byId("items").textContent = "";
    setState("error");
  }

  function update() {
    if (chunk) draw();
  }

  function change() {
    var key = chunkKey(state.evalset, state.lang);
    if (key === null) return fail(new Error("No data for " + state.evalset + " in " + state.lang));
    setState("loading");
    byId("status").className = "";
    byId("status").textContent = "Loading " + state.evalset + " \u00b7 " + langName(state.lang) + "\u2026";
    return load(key).then(function (data) {
      if (chunkKey(state.evalset, state.lang) !== key) return;  // the selection changed meanwhile
      chunk = data;
      draw();
    }, fail);
  }

  setState("loading");
  setUpControls();
  readHash();
  fillLangs();
  window.addEventListener("hashchange", function () { readHash(); fillLangs(); change(); });
  change();
})();
