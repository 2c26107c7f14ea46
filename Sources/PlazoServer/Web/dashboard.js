// Plazo's web dashboard: reads the public dashboard API of the service that served it, shows every
// board's chart (SVG drawn by the server, format=svg) and its figures as tables (built from the
// JSON answers). Rules this file keeps (docs/api-guide.md, "The web page"):
// - text from the API or the address goes into the page with textContent only, never as markup;
//   the server's SVG is parsed as XML, cleaned of anything but drawing elements, and imported;
// - the address is read for known values only (a language, codes listed by /v1/dashboards);
// - a token lives in one variable of this closure: never in the address, storage or cookies.
"use strict";

(function () {
  const BOARDS = ["time-to-decision", "time-to-charge", "funnel", "dispositions", "backlog", "victim-updates"];
  // The point each board's trend shows first.
  const TREND_X = { "time-to-decision": "365", "time-to-charge": "365", funnel: "charged", dispositions: "pending", backlog: "", "victim-updates": "90" };
  const SVG_NS = "http://www.w3.org/2000/svg";
  // What a chart may contain: drawing elements and their text, nothing that runs or links.
  const SVG_ELEMENTS = new Set(["svg", "g", "title", "desc", "rect", "line", "polyline", "polygon", "path", "circle", "text", "tspan"]);

  const STRINGS = {
    es: {
      pageTitle: "Plazo · Tableros de justicia",
      skip: "Saltar al contenido",
      tagline: "Estadísticas de justicia con privacidad diferencial",
      switchTo: "English",
      switchLang: "en",
      h1: "¿Cuánto tarda la justicia para niñas, niños y adolescentes víctimas de explotación sexual en línea?",
      lede: "Tiempos de la denuncia a la imputación, desgaste de los casos, resultados, rezago e información a las víctimas en México, calculados por Plazo a partir de los eventos que envían las instituciones, sin identidades, y publicados con ruido de privacidad diferencial.",
      noscript: "Esta página necesita JavaScript para consultar la API. Las mismas cifras están en /v1/dashboards (JSON, CSV o SVG).",
      accessHeading: "Publicaciones no públicas",
      accessHelp: "Las publicaciones públicas se leen sin token. Para una publicación no pública, escriba el token de supervisión que le dio la persona custodia de los datos. El token solo se guarda en la memoria de esta página: nunca en la dirección, ni en el almacenamiento del navegador, y se olvida al cerrarla o recargarla.",
      tokenLabel: "Token de supervisión",
      tokenUse: "Usar token",
      tokenForget: "Olvidar token",
      tokenHint: "Empieza por plz_. Se envía solo en el encabezado Authorization de las consultas a esta API.",
      tokenSet: "Token en uso: se muestran también las publicaciones no públicas que puede leer.",
      tokenCleared: "Token olvidado: se muestran solo las publicaciones públicas.",
      tokenEmpty: "Escriba un token.",
      tokenRejected: "El servicio no aceptó el token: ",
      filtersHeading: "Filtros",
      releaseLabel: "Publicación",
      releaseDefault: "La más reciente que pueda responder",
      releaseHint: "Por omisión: ",
      nonPublic: "no pública",
      cohortLabel: "Cohorte (trimestre de la denuncia)",
      cohortAll: "Todas las cohortes, combinadas",
      stateLabel: "Entidad federativa",
      stateAll: "Nacional (todas las entidades)",
      stateComparing: "La comparación de entidades está activa: quítela para filtrar por una sola entidad.",
      offenceLabel: "Delito",
      offenceAll: "Todos los delitos",
      compareSummary: "Comparar entidades",
      compareLegend: "Elija dos o más entidades: cada tablero muestra una línea o barra por entidad.",
      compareClear: "Quitar la comparación",
      compareOne: "Elija al menos una entidad más para comparar.",
      reset: "Restablecer filtros",
      summaryPrefix: "Mostrando: ",
      summaryNational: "nacional",
      summaryAllCohorts: "todas las cohortes",
      summaryComparing: "comparación de ",
      tocHeading: "Tableros",
      keyHeading: "Cifras clave",
      keyNone: "Las cifras clave se muestran sin comparación de entidades; vea cada tablero.",
      keyUnavailable: "No disponible para estos filtros.",
      keyCharged365: "Imputados en un año desde la denuncia",
      keyConvicted: "Casos que llegan a una condena",
      keyInformed90: "Víctimas informadas en los primeros 90 días",
      loading: "Cargando…",
      loaded: "Tableros actualizados.",
      failed: "No se pudo cargar: ",
      showTable: "Mostrar como tabla",
      hideTable: "Ocultar la tabla",
      downloadCSV: "Descargar CSV",
      downloadSVG: "Descargar SVG",
      releaseMeta: (r) => `Publicación ${r.id}: ${r.title} · fecha de corte ${r.cutoff}` + (r.public ? " · pública" : " · no pública") + (r.selection === "default" ? " · elegida por omisión" : ""),
      unanswerable: "Ninguna publicación que pueda leer responde a estos filtros en este tablero.",
      available: "Desgloses disponibles: ",
      national: "nacional",
      noRelease: "Todavía no hay ninguna publicación que pueda leer. Si tiene un token de supervisión, escríbalo arriba.",
      colValue: "Valor",
      colInterval: (level) => `Intervalo del ${Math.round(level * 100)} %`,
      colCases: "Casos (denominador)",
      colStatus: "Nota",
      unreliable: "Poco fiable: el intervalo es demasiado ancho.",
      unbounded: "sin límite",
      axis: { day: "Día desde la denuncia", stage: "Etapa", outcome: "Resultado", age_band: "Antigüedad", share: "Proporción de la cohorte", cohort: "Cohorte", release: "Publicación" },
      units: { days: "días", cases: "casos" },
      trendHeading: "Tendencia entre publicaciones",
      trendHelp: "La misma cifra en cada publicación que puede responder a los filtros elegidos, de la más antigua a la más reciente. Cada publicación lleva su propio ruido: compare los intervalos, no solo los puntos.",
      trendBoard: "Tablero",
      trendX: "Cifra",
      trendRelease: (p) => `Publicación ${p.release_id} (${p.cutoff})`,
      aboutHeading: "Cómo leer estas cifras",
      about1: "Cada cifra lleva ruido de privacidad diferencial para que ningún caso pueda identificarse. Por eso cada número viene con su intervalo de confianza: el valor real está dentro del intervalo en la gran mayoría de las publicaciones.",
      about2: "En gris, las cifras cuyo intervalo es demasiado ancho para leerlas (poco fiables). No las compare entre sí.",
      about3: "Las curvas se cortan al final del seguimiento: más allá, ningún caso de la cohorte se ha observado tanto tiempo y no se publica nada.",
      about4: "Antes de comparar dos entidades, mire si sus intervalos se traslapan: si lo hacen, la diferencia puede deberse al ruido.",
      about5: "Las mismas cifras están disponibles como datos: JSON en /v1/dashboards, CSV con format=csv y estas gráficas como SVG con format=svg, para incluirlas en informes.",
      about6: "«Sin datos suficientes»: cuando el número de casos detrás de una proporción podría ser cero, no se publica ningún valor; una proporción de nada no es un cero.",
      about7: "Las cifras por entidad se leen por año de la denuncia: un trimestre tiene muy pocos casos por entidad para verlos a través del ruido, así que se suman los cuatro trimestres del año. Cada caso sigue contando una sola vez.",
      footer: "Plazo publica solo cifras agregadas con ruido; ningún nombre, identificador de caso ni texto libre sale de las instituciones.",
      navLabel: "Tableros",
    },
    en: {
      pageTitle: "Plazo · Justice dashboards",
      skip: "Skip to content",
      tagline: "Justice statistics with differential privacy",
      switchTo: "Español",
      switchLang: "es",
      h1: "How long does justice take for children and adolescents exploited online?",
      lede: "Time from report to charge, attrition, outcomes, backlog and keeping victims informed in Mexico, computed by Plazo from the events agencies send without identities, and published with differential-privacy noise.",
      noscript: "This page needs JavaScript to query the API. The same figures are at /v1/dashboards (JSON, CSV or SVG).",
      accessHeading: "Non-public releases",
      accessHelp: "Public releases are read without a token. For a non-public release, type the oversight token the data steward gave you. The token is kept in this page's memory only: never in the address or the browser's storage, and it is forgotten when the page is closed or reloaded.",
      tokenLabel: "Oversight token",
      tokenUse: "Use token",
      tokenForget: "Forget token",
      tokenHint: "It starts with plz_. It is sent only in the Authorization header of this API's requests.",
      tokenSet: "Token in use: non-public releases you may read are shown too.",
      tokenCleared: "Token forgotten: only public releases are shown.",
      tokenEmpty: "Type a token.",
      tokenRejected: "The service refused the token: ",
      filtersHeading: "Filters",
      releaseLabel: "Release",
      releaseDefault: "The latest that can answer",
      releaseHint: "By default: ",
      nonPublic: "not public",
      cohortLabel: "Cohort (quarter of the report)",
      cohortAll: "All cohorts, pooled",
      stateLabel: "State",
      stateAll: "National (all states)",
      stateComparing: "A comparison of states is active: remove it to filter on one state.",
      offenceLabel: "Offence",
      offenceAll: "All offences",
      compareSummary: "Compare states",
      compareLegend: "Choose two or more states: each board shows one line or bar per state.",
      compareClear: "Remove the comparison",
      compareOne: "Choose at least one more state to compare.",
      reset: "Reset filters",
      summaryPrefix: "Showing: ",
      summaryNational: "national",
      summaryAllCohorts: "all cohorts",
      summaryComparing: "comparing ",
      tocHeading: "Dashboards",
      keyHeading: "Key figures",
      keyNone: "Key figures are shown without a comparison of states; see each board.",
      keyUnavailable: "Not available for these filters.",
      keyCharged365: "Charged within a year of the report",
      keyConvicted: "Cases that reach a conviction",
      keyInformed90: "Victims informed within the first 90 days",
      loading: "Loading…",
      loaded: "Dashboards updated.",
      failed: "Could not load: ",
      showTable: "Show as table",
      hideTable: "Hide the table",
      downloadCSV: "Download CSV",
      downloadSVG: "Download SVG",
      releaseMeta: (r) => `Release ${r.id}: ${r.title} · cutoff ${r.cutoff}` + (r.public ? " · public" : " · not public") + (r.selection === "default" ? " · chosen by default" : ""),
      unanswerable: "No release you may read answers these filters on this board.",
      available: "Available breakdowns: ",
      national: "national",
      noRelease: "No release you may read has been published yet. If you have an oversight token, type it above.",
      colValue: "Value",
      colInterval: (level) => `${Math.round(level * 100)} % interval`,
      colCases: "Cases (denominator)",
      colStatus: "Note",
      unreliable: "Unreliable: the interval is too wide.",
      unbounded: "unbounded",
      axis: { day: "Day since the report", stage: "Stage", outcome: "Outcome", age_band: "Age", share: "Share of the cohort", cohort: "Cohort", release: "Release" },
      units: { days: "days", cases: "cases" },
      trendHeading: "Trend across releases",
      trendHelp: "The same figure in every release that can answer the chosen filters, oldest first. Each release carries its own noise: compare the intervals, not only the points.",
      trendBoard: "Dashboard",
      trendX: "Figure",
      trendRelease: (p) => `Release ${p.release_id} (${p.cutoff})`,
      aboutHeading: "How to read these figures",
      about1: "Every figure carries differential-privacy noise so that no case can be singled out. That is why every number comes with its confidence interval: the true value lies within it in the great majority of releases.",
      about2: "Greyed out are figures whose interval is too wide to read (unreliable). Do not compare them with each other.",
      about3: "Curves stop at the end of follow-up: beyond it, no case of the cohort has been observed that long, and nothing is published.",
      about4: "Before comparing two states, check whether their intervals overlap: if they do, the difference may be noise.",
      about5: "The same figures are available as data: JSON at /v1/dashboards, CSV with format=csv, and these charts as SVG with format=svg, to put in reports.",
      about6: "“Insufficient data”: when the number of cases behind a share could be zero, no value is published; a share of nothing is not a zero.",
      about7: "State figures read by year of the report: a quarter holds too few cases per state to see through the noise, so the four quarters of the year are pooled. Each case still counts once.",
      footer: "Plazo publishes only noisy aggregate figures; no name, case identifier or free text leaves the agencies.",
      navLabel: "Dashboards",
    },
  };

  // ---- State -------------------------------------------------------------------------------

  /** The oversight token, in memory only. */
  let token = null;
  const view = {
    lang: "es",
    index: null, // GET /v1/dashboards
    release: "",
    cohort: "",
    state: "",
    offence: "",
    compare: [], // state codes, in the order chosen
    trendBoard: "time-to-charge",
    trendX: "",
    tablesOpen: new Set(),
  };
  let generation = 0; // answers from an older generation of filters are dropped
  const answers = {}; // board -> last JSON answer
  let pending = null;

  const $ = (id) => document.getElementById(id);
  const t = (key) => STRINGS[view.lang][key];

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "className") e.className = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---- Numbers ------------------------------------------------------------------------------

  function numberFormat(digits) {
    return new Intl.NumberFormat(view.lang === "es" ? "es-MX" : "en-US", { minimumFractionDigits: 0, maximumFractionDigits: digits });
  }

  function fmtValue(v, unit) {
    if (v === null || v === undefined) return "—";
    if (unit === "proportion") return (v * 100).toFixed(1) + " %";
    if (unit === "days") return numberFormat(1).format(v) + " " + t("units").days;
    if (unit === "cases") return numberFormat(0).format(v);
    return numberFormat(2).format(v);
  }

  function fmtEnd(v, unit) {
    if (v === null || v === undefined) return t("unbounded");
    if (unit === "proportion") return (v * 100).toFixed(1);
    return numberFormat(unit === "cases" ? 0 : 1).format(v);
  }

  function fmtInterval(interval, unit) {
    if (!interval) return "—";
    return fmtEnd(interval.low, unit) + " – " + fmtEnd(interval.high, unit) + (unit === "proportion" ? " %" : "");
  }

  function fmtDenominator(d) {
    if (!d) return "—";
    return numberFormat(0).format(d.value) + " (" + fmtInterval(d.interval, "cases") + ")";
  }

  // ---- The address: known values only -----------------------------------------------------

  function readAddress() {
    let params;
    try {
      params = new URLSearchParams(window.location.search);
    } catch (e) {
      return {};
    }
    const pick = (name, pattern) => {
      const v = params.get(name);
      return v !== null && v.length <= 200 && pattern.test(v) ? v : "";
    };
    return {
      lang: pick("lang", /^(es|en)$/),
      release: pick("release", /^[1-9][0-9]{0,9}$/),
      cohort: pick("cohort", /^[12][0-9]{3}Q[1-4]$/),
      state: pick("state", /^[0-9a-z_]+(,[0-9a-z_]+)*$/),
      offence: pick("offence", /^[a-z_]+$/),
      trend: pick("trend", /^[a-z-]+$/),
      x: pick("x", /^[0-9A-Za-z_.]{1,16}$/),
    };
  }

  /** Drops what the index does not list; called once the index is known. */
  function checkAgainstIndex(wanted) {
    const codes = (name) => new Set((filterOf(name)?.values || []).map((v) => v.code));
    const states = codes("state");
    if (wanted.release && codes("release").has(wanted.release)) view.release = wanted.release;
    if (wanted.cohort && codes("cohort").has(wanted.cohort)) view.cohort = wanted.cohort;
    if (wanted.offence && codes("offence").has(wanted.offence)) view.offence = wanted.offence;
    if (wanted.state) {
      const list = wanted.state.split(",").filter((c, i, a) => states.has(c) && a.indexOf(c) === i);
      if (list.length === 1) view.state = list[0];
      else if (list.length > 1) view.compare = list;
    }
    if (wanted.trend && BOARDS.includes(wanted.trend)) view.trendBoard = wanted.trend;
    if (wanted.x) view.trendX = wanted.x;
  }

  function writeAddress() {
    const p = new URLSearchParams();
    if (view.lang !== "es") p.set("lang", view.lang);
    if (view.release) p.set("release", view.release);
    if (view.cohort) p.set("cohort", view.cohort);
    const states = stateParam();
    if (states) p.set("state", states);
    if (view.offence) p.set("offence", view.offence);
    if (view.trendBoard !== "time-to-charge") p.set("trend", view.trendBoard);
    if (view.trendX) p.set("x", view.trendX);
    const query = p.toString();
    history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }

  // ---- The API ------------------------------------------------------------------------------

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, params, accept) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) url.searchParams.set(k, v);
    const headers = { Accept: accept || "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch(url.toString(), { headers, credentials: "omit", cache: "no-cache", referrerPolicy: "no-referrer" });
    if (!response.ok) {
      let code = "error";
      let message = response.statusText || String(response.status);
      try {
        const body = await response.json();
        if (body && body.error) {
          code = String(body.error.code || code);
          message = String(body.error.message || message);
        }
      } catch (e) {
        /* not JSON */
      }
      throw new APIError(response.status, code, message);
    }
    return response;
  }

  function filterOf(name) {
    return (view.index?.filters || []).find((f) => f.name === name);
  }

  function boardInfo(metric) {
    return (view.index?.dashboards || []).find((b) => b.metric === metric);
  }

  function stateParam() {
    if (view.compare.length > 1) return view.compare.join(",");
    return view.state;
  }

  /** The filter parameters of a board request (without release, format and lang). */
  function filterParams() {
    return { state: stateParam(), offence: view.offence, cohort: view.cohort };
  }

  function dimensions() {
    const dims = [];
    if (stateParam()) dims.push("state");
    if (view.offence) dims.push("offence");
    return dims;
  }

  function releaseCanAnswer(release, dims) {
    if (view.cohort && !release.cohorts.includes(view.cohort)) return false;
    // Tables pooled by report year answer a breakdown when no quarter is chosen (by default).
    const sets = view.cohort ? release.breakdowns : release.breakdowns.concat(release.breakdowns_by_year || []);
    return sets.some((b) => dims.every((d) => b.includes(d)));
  }

  /** Whether some release answers `metric` with the current filters (the one chosen, if any). */
  function answerable(metric, anyRelease) {
    const info = boardInfo(metric);
    if (!info) return false;
    const dims = dimensions();
    return info.releases.some((r) => (anyRelease || !view.release || String(r.id) === view.release) && releaseCanAnswer(r, dims));
  }

  function breakdownText(metric) {
    const info = boardInfo(metric);
    const seen = [];
    for (const r of info?.releases || []) {
      for (const b of r.breakdowns) {
        const words = b.length === 0 ? t("national") : b.map((d) => filterOf(d)?.title || d).join(" + ");
        const line = `${words} (${r.cohorts[0]}–${r.cohorts[r.cohorts.length - 1]})`;
        if (!seen.includes(line)) seen.push(line);
      }
    }
    return seen.join("; ");
  }

  // ---- Charts -------------------------------------------------------------------------------

  /** The server's SVG as a node of this document: parsed as XML, every element that is not a
   * drawing element removed, every event handler and link attribute dropped. */
  function importChart(text) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    if (!root || root.namespaceURI !== SVG_NS || root.localName !== "svg" || doc.getElementsByTagName("parsererror").length) {
      throw new Error("not an SVG chart");
    }
    const all = [root, ...root.getElementsByTagName("*")];
    for (const node of all) {
      if (node !== root && (!SVG_ELEMENTS.has(node.localName) || node.namespaceURI !== SVG_NS)) {
        node.remove();
        continue;
      }
      for (const attr of [...node.attributes]) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on") || name.includes("href") || name === "style" || /javascript:/i.test(attr.value)) node.removeAttribute(attr.name);
      }
    }
    root.removeAttribute("width");
    root.removeAttribute("height");
    return document.importNode(root, true);
  }

  // ---- Tables -------------------------------------------------------------------------------

  function pointRow(p, unit, headText) {
    const note = [];
    if (p.status_text) note.push(p.status_text);
    if (p.value !== null && !p.reliable) note.push(t("unreliable"));
    const row = el("tr", { className: p.value !== null && !p.reliable ? "unreliable" : p.value === null ? "no-value" : null },
      el("th", { scope: "row", text: headText }),
      el("td", { className: "num", text: fmtValue(p.value, unit) }),
      el("td", { className: "num", text: p.value === null ? "—" : fmtInterval(p.interval, unit) }),
      el("td", { className: "num", text: fmtDenominator(p.denominator) }),
      el("td", { text: note.join(" ") || "" }));
    return row;
  }

  function seriesTable(caption, firstColumn, level, rows) {
    return el("table", { className: "figures" },
      el("caption", { text: caption }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: firstColumn }),
        el("th", { scope: "col", text: t("colValue") }),
        el("th", { scope: "col", text: t("colInterval")(level) }),
        el("th", { scope: "col", text: t("colCases") }),
        el("th", { scope: "col", text: t("colStatus") }))),
      el("tbody", {}, ...rows));
  }

  function boardTables(answer) {
    const box = document.createDocumentFragment();
    for (const s of answer.series) {
      const level = s.points[0]?.interval?.level ?? 0.95;
      const caption = s.group_label ? `${s.title} — ${s.group_label}` : s.title;
      box.append(seriesTable(caption, t("axis")[s.x_axis] || s.x_axis, level, s.points.map((p) => pointRow(p, s.unit, p.label))));
    }
    return box;
  }

  function trendTables(answer) {
    const box = document.createDocumentFragment();
    for (const s of answer.series) {
      const level = s.points[0]?.interval?.level ?? 0.95;
      const caption = [s.title, s.label, s.group_label].filter(Boolean).join(" — ");
      box.append(seriesTable(caption, t("axis").release, level, s.points.map((p) => pointRow(p, s.unit, t("trendRelease")(p)))));
    }
    return box;
  }

  // ---- Board sections -----------------------------------------------------------------------

  function buildSections() {
    const boards = $("boards");
    clear(boards);
    const toc = $("toc");
    clear(toc);
    for (const metric of BOARDS) {
      const info = boardInfo(metric);
      const title = info ? info.title : metric;
      const section = el("section", { id: "board-" + metric, className: "board", "aria-labelledby": "h-" + metric, "data-metric": metric },
        el("h2", { id: "h-" + metric, text: title }),
        el("p", { className: "desc", text: info ? info.description : "" }),
        el("div", { className: "board-body" }));
      boards.append(section);
      toc.append(el("li", {}, el("a", { href: "#board-" + metric, text: title })));
    }
    toc.append(el("li", {}, el("a", { href: "#trend", text: t("trendHeading") })));
  }

  /** Fills a board's body: release line, chart, table toggle, downloads. */
  function fillBody(body, key, answer, svgText, tables, downloads) {
    clear(body);
    if (answer.release) body.append(el("p", { className: "meta", text: t("releaseMeta")(answer.release) }));
    const figure = el("figure", { className: "chart" });
    const holder = el("div", { className: "chart-holder" });
    try {
      holder.append(importChart(svgText));
    } catch (e) {
      holder.append(el("p", { className: "notice", text: t("failed") + e.message }));
    }
    figure.append(holder, el("figcaption", { text: answer.interval_note || "" }));
    body.append(figure);
    // Series pooled by report year say so (state figures by default).
    const pooling = [...new Set((answer.series || []).map((s) => s.pooling_note).filter(Boolean))];
    for (const note of pooling) body.append(el("p", { className: "meta pooling", text: note }));
    const tableId = "table-" + key;
    const open = view.tablesOpen.has(key);
    const toggle = el("button", { type: "button", className: "table-toggle", "aria-expanded": open ? "true" : "false", "aria-controls": tableId, text: open ? t("hideTable") : t("showTable") });
    const tableBox = el("div", { id: tableId, className: "tables", hidden: !open });
    tableBox.append(tables);
    toggle.addEventListener("click", () => {
      const nowOpen = tableBox.hidden;
      tableBox.hidden = !nowOpen;
      toggle.setAttribute("aria-expanded", nowOpen ? "true" : "false");
      toggle.textContent = nowOpen ? t("hideTable") : t("showTable");
      if (nowOpen) view.tablesOpen.add(key); else view.tablesOpen.delete(key);
    });
    const actions = el("div", { className: "actions" }, toggle);
    for (const d of downloads) {
      const b = el("button", { type: "button", className: "secondary", text: d.label });
      b.addEventListener("click", () => download(d.path, d.params, d.accept, d.filename));
      actions.append(b);
    }
    body.append(actions, tableBox);
  }

  function notice(body, lines) {
    clear(body);
    const box = el("div", { className: "notice" });
    for (const line of lines) box.append(el("p", { text: line }));
    body.append(box);
  }

  async function download(path, params, accept, filename) {
    try {
      const response = await api(path, params, accept);
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const a = el("a", { href: url, download: filename });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      setStatus(t("failed") + e.message);
    }
  }

  async function loadBoard(metric, gen) {
    const body = document.querySelector(`#board-${metric} .board-body`);
    if (!view.index.dashboards.length || !boardInfo(metric)?.releases.length) {
      notice(body, [t("noRelease")]);
      answers[metric] = null;
      return;
    }
    if (!answerable(metric, false)) {
      notice(body, [t("unanswerable"), t("available") + breakdownText(metric)]);
      answers[metric] = null;
      return;
    }
    body.setAttribute("aria-busy", "true");
    const params = { ...filterParams(), release: view.release, lang: view.lang };
    try {
      const [json, svg] = await Promise.all([
        api("/v1/dashboards/" + metric, params).then((r) => r.json()),
        api("/v1/dashboards/" + metric, { ...params, format: "svg" }, "image/svg+xml").then((r) => r.text()),
      ]);
      if (gen !== generation) return;
      answers[metric] = json;
      const name = `plazo-${metric}-${json.release.id}`;
      fillBody(body, metric, json, svg, boardTables(json), [
        { label: t("downloadCSV"), path: "/v1/dashboards/" + metric, params: { ...params, format: "csv" }, accept: "text/csv", filename: name + ".csv" },
        { label: t("downloadSVG"), path: "/v1/dashboards/" + metric, params: { ...params, format: "svg" }, accept: "image/svg+xml", filename: name + ".svg" },
      ]);
    } catch (e) {
      if (gen !== generation) return;
      answers[metric] = null;
      notice(body, [t("failed") + e.message]);
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  // ---- Trend --------------------------------------------------------------------------------

  function fillTrendControls() {
    const boardSelect = $("t-board");
    clear(boardSelect);
    for (const metric of BOARDS) {
      const info = boardInfo(metric);
      boardSelect.append(el("option", { value: metric, text: info ? info.title : metric, selected: metric === view.trendBoard }));
    }
  }

  /** The x values the trend can show, from the board's answer (first series first). */
  function fillTrendX() {
    const select = $("t-x");
    clear(select);
    const answer = answers[view.trendBoard];
    const seen = new Map();
    for (const s of answer?.series || []) {
      if (s.x_axis === "cohort") continue;
      for (const p of s.points) if (!seen.has(p.x)) seen.set(p.x, `${p.label} (${s.title})`);
    }
    if (!seen.size) {
      // A board whose x is the cohort: the trend follows each cohort.
      for (const s of answer?.series || []) for (const p of s.points) if (!seen.has(p.x)) seen.set(p.x, `${p.label} (${s.title})`);
    }
    if (!seen.has(view.trendX)) {
      const preferred = TREND_X[view.trendBoard];
      view.trendX = seen.has(preferred) ? preferred : seen.keys().next().value || "";
    }
    for (const [code, label] of seen) select.append(el("option", { value: code, text: label, selected: code === view.trendX }));
    select.disabled = seen.size === 0;
  }

  async function loadTrend(gen) {
    const body = document.querySelector("#trend .board-body");
    fillTrendX();
    const metric = view.trendBoard;
    if (!boardInfo(metric)?.releases.length) {
      notice(body, [t("noRelease")]);
      return;
    }
    if (!answerable(metric, true) || !view.trendX) {
      notice(body, [t("unanswerable"), t("available") + breakdownText(metric)]);
      return;
    }
    body.setAttribute("aria-busy", "true");
    const params = { ...filterParams(), x: view.trendX, lang: view.lang };
    try {
      const [json, svg] = await Promise.all([
        api(`/v1/dashboards/${metric}/trend`, params).then((r) => r.json()),
        api(`/v1/dashboards/${metric}/trend`, { ...params, format: "svg" }, "image/svg+xml").then((r) => r.text()),
      ]);
      if (gen !== generation) return;
      const name = `plazo-${metric}-trend`;
      fillBody(body, "trend", json, svg, trendTables(json), [
        { label: t("downloadCSV"), path: `/v1/dashboards/${metric}/trend`, params: { ...params, format: "csv" }, accept: "text/csv", filename: name + ".csv" },
        { label: t("downloadSVG"), path: `/v1/dashboards/${metric}/trend`, params: { ...params, format: "svg" }, accept: "image/svg+xml", filename: name + ".svg" },
      ]);
    } catch (e) {
      if (gen !== generation) return;
      notice(body, [t("failed") + e.message]);
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  // ---- Key figures --------------------------------------------------------------------------

  function keyFigures() {
    const list = $("key-list");
    clear(list);
    if (view.compare.length > 1) {
      list.append(el("p", { className: "hint", text: t("keyNone") }));
      return;
    }
    const pick = (metric, series, x) => {
      const s = answers[metric]?.series.find((s) => s.name === series && !s.group);
      const p = s?.points.find((p) => p.x === x);
      return p ? { p, s } : null;
    };
    const figures = [
      [t("keyCharged365"), pick("time-to-charge", "charge_incidence", "365"), "board-time-to-charge"],
      [t("keyConvicted"), pick("funnel", "funnel_share", "convicted"), "board-funnel"],
      [t("keyInformed90"), pick("victim-updates", "updated_by_curve", "90"), "board-victim-updates"],
    ];
    for (const [label, hit, anchor] of figures) {
      const card = el("div", { className: "key" });
      card.append(el("p", { className: "key-label" }, el("a", { href: "#" + anchor, text: label })));
      if (!hit || hit.p.value === null) {
        card.append(el("p", { className: "key-value none", text: hit?.p.status_text || t("keyUnavailable") }));
      } else {
        if (!hit.p.reliable) card.classList.add("unreliable");
        card.append(
          el("p", { className: "key-value", text: fmtValue(hit.p.value, hit.s.unit) }),
          el("p", { className: "key-interval", text: t("colInterval")(hit.p.interval.level) + ": " + fmtInterval(hit.p.interval, hit.s.unit) }),
          el("p", { className: "key-cases", text: t("colCases") + ": " + fmtDenominator(hit.p.denominator) }));
        if (!hit.p.reliable) card.append(el("p", { className: "key-note", text: t("unreliable") }));
      }
      list.append(card);
    }
  }

  // ---- Filters ------------------------------------------------------------------------------

  function option(value, text, selected) {
    return el("option", { value, text, selected: selected ? true : null });
  }

  function fillFilters() {
    const releaseSelect = $("f-release");
    clear(releaseSelect);
    releaseSelect.append(option("", t("releaseDefault"), !view.release));
    const publicIDs = new Set();
    for (const b of view.index.dashboards) for (const r of b.releases) if (r.public) publicIDs.add(String(r.id));
    for (const v of filterOf("release")?.values || []) {
      const label = `${v.code} · ${v.label}` + (publicIDs.has(v.code) ? "" : ` (${t("nonPublic")})`);
      releaseSelect.append(option(v.code, label, v.code === view.release));
    }
    $("f-release-hint").textContent = view.index.default_release ? t("releaseHint") + view.index.default_release : "";

    const cohortSelect = $("f-cohort");
    clear(cohortSelect);
    cohortSelect.append(option("", t("cohortAll"), !view.cohort));
    for (const v of filterOf("cohort")?.values || []) cohortSelect.append(option(v.code, v.label, v.code === view.cohort));

    const stateSelect = $("f-state");
    clear(stateSelect);
    stateSelect.append(option("", t("stateAll"), !view.state));
    for (const v of filterOf("state")?.values || []) stateSelect.append(option(v.code, `${v.label} (${v.code})`, v.code === view.state));

    const offenceSelect = $("f-offence");
    clear(offenceSelect);
    offenceSelect.append(option("", t("offenceAll"), !view.offence));
    for (const v of filterOf("offence")?.values || []) offenceSelect.append(option(v.code, v.label, v.code === view.offence));

    const compareList = $("compare-list");
    clear(compareList);
    for (const v of filterOf("state")?.values || []) {
      const id = "cmp-" + v.code;
      const box = el("input", { type: "checkbox", id, value: v.code, checked: view.compare.includes(v.code) ? true : null });
      box.addEventListener("change", () => {
        if (box.checked) {
          if (!view.compare.includes(v.code)) view.compare.push(v.code);
        } else {
          view.compare = view.compare.filter((c) => c !== v.code);
        }
        syncCompare();
        refresh();
      });
      compareList.append(el("div", { className: "check" }, box, el("label", { for: id, text: `${v.label} (${v.code})` })));
    }
    if (view.compare.length) $("compare").open = true;
    syncCompare();
  }

  function syncCompare() {
    const comparing = view.compare.length > 1;
    const stateSelect = $("f-state");
    stateSelect.disabled = comparing;
    $("f-state-hint").textContent = comparing ? t("stateComparing") : view.compare.length === 1 ? t("compareOne") : "";
  }

  function summary() {
    const parts = [];
    const label = (name, code) => (filterOf(name)?.values || []).find((v) => v.code === code)?.label || code;
    if (view.compare.length > 1) parts.push(t("summaryComparing") + view.compare.map((c) => label("state", c)).join(", "));
    else parts.push(view.state ? label("state", view.state) : t("summaryNational"));
    if (view.offence) parts.push(label("offence", view.offence));
    parts.push(view.cohort || t("summaryAllCohorts"));
    if (view.release) parts.push(t("releaseLabel") + " " + view.release);
    $("filter-summary").textContent = t("summaryPrefix") + parts.join(" · ");
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  // ---- Language -----------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = view.lang;
    document.title = t("pageTitle");
    for (const node of document.querySelectorAll("[data-i18n]")) {
      const value = t(node.getAttribute("data-i18n"));
      if (typeof value === "string") node.textContent = value;
    }
    const sw = $("lang-switch");
    sw.textContent = t("switchTo");
    sw.setAttribute("lang", t("switchLang"));
    document.querySelector("nav.toc").setAttribute("aria-label", t("navLabel"));
  }

  // ---- Loading ------------------------------------------------------------------------------

  async function loadIndex() {
    const response = await api("/v1/dashboards", { lang: view.lang });
    view.index = await response.json();
    $("interval-note").textContent = view.index.interval_note || "";
    // A release no longer readable (a token forgotten) is dropped from the filters.
    if (view.release && !(filterOf("release")?.values || []).some((v) => v.code === view.release)) view.release = "";
  }

  /** Redraws everything for the current filters, after a short pause for quick successive changes. */
  function refresh() {
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = null;
      redraw();
    }, 120);
  }

  async function redraw() {
    const gen = ++generation;
    writeAddress();
    summary();
    setStatus(t("loading"));
    await Promise.all(BOARDS.map((m) => loadBoard(m, gen)));
    if (gen !== generation) return;
    keyFigures();
    await loadTrend(gen);
    if (gen !== generation) return;
    setStatus(t("loaded"));
    document.body.setAttribute("data-ready", String(gen));
  }

  async function reload() {
    document.body.removeAttribute("data-ready");
    try {
      await loadIndex();
    } catch (e) {
      setStatus(t("failed") + e.message);
      throw e;
    }
    buildSections();
    fillFilters();
    fillTrendControls();
    await redraw();
  }

  // ---- Wiring -------------------------------------------------------------------------------

  function wire() {
    $("lang-switch").addEventListener("click", async () => {
      view.lang = view.lang === "es" ? "en" : "es";
      applyLanguage();
      await reload().catch(() => {});
    });
    $("filters").addEventListener("submit", (e) => e.preventDefault());
    $("f-release").addEventListener("change", (e) => { view.release = e.target.value; refresh(); });
    $("f-cohort").addEventListener("change", (e) => { view.cohort = e.target.value; refresh(); });
    $("f-state").addEventListener("change", (e) => { view.state = e.target.value; refresh(); });
    $("f-offence").addEventListener("change", (e) => { view.offence = e.target.value; refresh(); });
    $("compare-clear").addEventListener("click", () => {
      view.compare = [];
      for (const box of document.querySelectorAll("#compare-list input")) box.checked = false;
      syncCompare();
      refresh();
    });
    $("reset").addEventListener("click", () => {
      Object.assign(view, { release: "", cohort: "", state: "", offence: "", compare: [] });
      fillFilters();
      refresh();
    });
    $("t-board").addEventListener("change", async (e) => {
      view.trendBoard = e.target.value;
      view.trendX = "";
      writeAddress();
      await loadTrend(generation);
    });
    $("t-x").addEventListener("change", async (e) => {
      view.trendX = e.target.value;
      writeAddress();
      await loadTrend(generation);
    });
    $("token-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = $("token-input");
      const value = input.value.trim();
      input.value = "";
      const status = $("token-status");
      if (!value) {
        status.textContent = t("tokenEmpty");
        return;
      }
      const previous = token;
      token = value;
      try {
        await reload();
        status.textContent = t("tokenSet");
        $("token-forget").disabled = false;
      } catch (err) {
        token = previous;
        status.textContent = t("tokenRejected") + err.message;
        await reload().catch(() => {});
      }
    });
    $("token-forget").addEventListener("click", async () => {
      token = null;
      $("token-forget").disabled = true;
      $("token-status").textContent = t("tokenCleared");
      await reload().catch(() => {});
    });
  }

  async function start() {
    const wanted = readAddress();
    if (wanted.lang) view.lang = wanted.lang;
    applyLanguage();
    wire();
    try {
      await loadIndex();
    } catch (e) {
      setStatus(t("failed") + e.message);
      return;
    }
    checkAgainstIndex(wanted);
    buildSections();
    fillFilters();
    fillTrendControls();
    await redraw();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
