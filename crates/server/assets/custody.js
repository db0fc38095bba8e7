// custody's pages: draws each chart and the flow graph from the JSON in its
// data- attribute (the server renders the figures; this only draws them),
// and wires the print button. Pages work without it: every chart has its
// figures in a table beside it.
"use strict";

// Colours distinguishable in print and by most colour-blind readers (after
// Okabe–Ito, darkened where needed), each with 3:1 contrast or more against
// white, as WCAG 2.2 (1.4.11) asks of graphics.
const PALETTE = ["#0072B2", "#C25400", "#00795A", "#B0558A", "#8C6D00", "#1F6F9E", "#000000"];

function drawChart(canvas) {
  const spec = JSON.parse(canvas.dataset.chart);
  const datasets = spec.datasets.map((s, i) => ({
    label: s.label,
    data: s.data,
    backgroundColor: PALETTE[i % PALETTE.length],
    borderColor: PALETTE[i % PALETTE.length],
    fill: false,
    tension: 0,
    pointRadius: spec.type === "line" && s.data.length > 50 ? 0 : 3,
  }));
  const horizontal = spec.horizontal;
  new Chart(canvas, {
    type: spec.type,
    data: { labels: spec.labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      indexAxis: horizontal ? "y" : "x",
      plugins: { legend: { display: datasets.length > 1, labels: { color: "#1b1b1f" } } },
      scales: {
        x: { stacked: spec.stacked, ticks: { color: "#1b1b1f" }, beginAtZero: true },
        y: { stacked: spec.stacked, ticks: { color: "#1b1b1f" }, beginAtZero: true },
      },
    },
  });
}

function drawGraph(box) {
  const g = JSON.parse(box.dataset.graph);
  const elements = [
    ...g.nodes.map((n) => ({ data: { id: n.id, label: n.label } })),
    ...g.edges.map((e, i) => ({
      data: { id: "e" + i, source: e.from, target: e.to, label: e.label },
      classes: e.bad ? "bad" : "",
    })),
  ];
  const roots = g.edges.length ? g.nodes.filter((n) => !g.edges.some((e) => e.to === n.id)).map((n) => "#" + CSS.escape(n.id)) : undefined;
  cytoscape({
    container: box,
    elements,
    userZoomingEnabled: false,
    boxSelectionEnabled: false,
    autoungrabify: true,
    layout: { name: "breadthfirst", directed: true, roots: roots && roots.join(","), spacingFactor: 1.5, padding: 24 },
    style: [
      { selector: "node", style: {
          label: "data(label)", "text-wrap": "wrap", "text-max-width": 180, "font-size": 13, color: "#1b1b1f",
          "text-valign": "bottom", "text-margin-y": 6, "background-color": "#0072B2", width: 28, height: 28 } },
      { selector: "edge", style: {
          label: "data(label)", "font-size": 12, "text-wrap": "wrap", color: "#1b1b1f", "text-background-color": "#ffffff",
          "text-background-opacity": 1, "text-background-padding": 2, "curve-style": "bezier",
          "target-arrow-shape": "triangle", width: 3, "line-color": "#4a4a55", "target-arrow-color": "#4a4a55" } },
      { selector: "edge.bad", style: { "line-color": "#b3261e", "target-arrow-color": "#b3261e", width: 5 } },
    ],
  });
}

function openFigures() {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
}

document.addEventListener("DOMContentLoaded", () => {
  if (window.Chart) document.querySelectorAll("canvas[data-chart]").forEach(drawChart);
  if (window.cytoscape) document.querySelectorAll("[data-graph]").forEach(drawGraph);
  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => { openFigures(); window.print(); }));
  // A report is read on paper: its figures are shown, not folded.
  if (document.body.classList.contains("document")) openFigures();
  window.addEventListener("beforeprint", openFigures);
  document.body.dataset.drawn = "true";
});
