// A layered layout for the service map: callers left, callees right, written for the 2 to 30
// services a map shows (no graph library: this is all it needs).
//
// 1. Cycles are broken: inside each cycle (a strongly connected component), the call back to the
//    service a breadth-first walk from the entry points reached first is reversed, so the rest
//    form a DAG; calls outside cycles keep their direction. A reversed call is still drawn from
//    its caller to its callee, looping back.
// 2. Layers by longest path: a service sits one layer right of its furthest caller, so a chain
//    a -> b -> c with a shortcut a -> c keeps c in layer 2.
// 3. Order within a layer: a few barycentre sweeps (each service moves to the mean position of
//    its neighbours in the layers already placed), ties broken by name, so the result depends
//    on the graph alone, never on the order nodes and edges were given in.
// 4. Coordinates: fixed-size boxes, layers as columns, each column centred vertically.

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 58;
export const LAYER_GAP = 110; // horizontal room between columns, for the edges and their labels
export const ROW_GAP = 34;
export const MARGIN = 24;
const SWEEPS = 4;

const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lay out `nodes` (ids) and `edges` ([{source, target}], ids; unknown ids are added as nodes).
 * Returns {nodes: [{id, layer, order, x, y}], edges: [{source, target, reversed}], width,
 * height}, nodes sorted by id and edges by source then target.
 */
export function layout(nodes, edges) {
  const ids = [...new Set([...nodes, ...edges.flatMap((e) => [e.source, e.target])])].sort(byName);
  const pairs = [...new Map(edges.map((e) => [`${e.source}\u0000${e.target}`, e])).values()]
    .map((e) => ({ source: e.source, target: e.target }))
    .sort((a, b) => byName(a.source, b.source) || byName(a.target, b.target));
  const out = new Map(ids.map((id) => [id, []]));
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const e of pairs) {
    if (e.source === e.target) continue;
    out.get(e.source).push(e.target);
    indegree.set(e.target, indegree.get(e.target) + 1);
  }

  // 1. Which calls to draw backwards. Only a call inside a cycle (both ends in one strongly
  // connected component) is ever reversed; inside one, services are ranked by when a
  // breadth-first walk from the services nobody calls reaches them (then from the rest, by
  // name), and a call to an earlier-ranked service is the one cut: the cycle's way back.
  const component = components(ids, out);
  const rank = new Map();
  const queue = [];
  const visit = (id) => {
    if (rank.has(id)) return;
    rank.set(id, rank.size);
    queue.push(id);
  };
  // Every entry point at once (distance from the nearest one counts), then what is left.
  for (const starts of [ids.filter((id) => indegree.get(id) === 0), ...ids.map((id) => [id])]) {
    starts.forEach(visit);
    while (queue.length) for (const next of out.get(queue.shift())) visit(next);
  }
  const reversed = new Set(
    pairs
      .filter((e) => e.source !== e.target && component.get(e.source) === component.get(e.target))
      .filter((e) => rank.get(e.target) < rank.get(e.source))
      .map((e) => `${e.source}\u0000${e.target}`),
  );
  const dag = pairs
    .filter((e) => e.source !== e.target)
    .map((e) => (reversed.has(`${e.source}\u0000${e.target}`) ? { source: e.target, target: e.source } : e));

  // 2. Longest path from the sources, in topological order (Kahn's, by name).
  const succ = new Map(ids.map((id) => [id, []]));
  const pred = new Map(ids.map((id) => [id, []]));
  const remaining = new Map(ids.map((id) => [id, 0]));
  for (const e of dag) {
    succ.get(e.source).push(e.target);
    pred.get(e.target).push(e.source);
    remaining.set(e.target, remaining.get(e.target) + 1);
  }
  const layer = new Map(ids.map((id) => [id, 0]));
  const ready = ids.filter((id) => remaining.get(id) === 0);
  while (ready.length) {
    const id = ready.shift();
    for (const next of succ.get(id)) {
      layer.set(next, Math.max(layer.get(next), layer.get(id) + 1));
      remaining.set(next, remaining.get(next) - 1);
      if (remaining.get(next) === 0) ready.push(next);
    }
  }

  // 3. Order within layers.
  const depth = Math.max(0, ...layer.values()) + 1;
  const layers = Array.from({ length: depth }, () => []);
  for (const id of ids) layers[layer.get(id)].push(id);
  const position = new Map();
  const place = () => {
    for (const column of layers) column.forEach((id, i) => position.set(id, i / Math.max(column.length - 1, 1)));
  };
  place();
  const neighbours = (id, side) => (side === 'left' ? pred : succ).get(id);
  for (let sweep = 0; sweep < SWEEPS; sweep += 1) {
    const down = sweep % 2 === 0;
    const order = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const column of order) {
      const key = new Map(
        column.map((id) => {
          const ns = neighbours(id, down ? 'left' : 'right');
          // A service with no neighbours on that side keeps its place.
          const mean = ns.length ? ns.reduce((s, n) => s + position.get(n), 0) / ns.length : position.get(id);
          return [id, mean];
        }),
      );
      column.sort((a, b) => key.get(a) - key.get(b) || byName(a, b));
      column.forEach((id, i) => position.set(id, i / Math.max(column.length - 1, 1)));
    }
  }

  // 4. Coordinates.
  const rows = Math.max(...layers.map((c) => c.length));
  const height = MARGIN * 2 + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP;
  const width = MARGIN * 2 + depth * NODE_WIDTH + (depth - 1) * LAYER_GAP;
  const placed = new Map();
  layers.forEach((column, l) => {
    const used = column.length * NODE_HEIGHT + (column.length - 1) * ROW_GAP;
    const top = (height - used) / 2;
    column.forEach((id, i) => {
      placed.set(id, {
        id,
        layer: l,
        order: i,
        x: MARGIN + l * (NODE_WIDTH + LAYER_GAP),
        y: top + i * (NODE_HEIGHT + ROW_GAP),
      });
    });
  });
  return {
    nodes: ids.map((id) => placed.get(id)),
    edges: pairs.map((e) => ({ ...e, reversed: reversed.has(`${e.source}\u0000${e.target}`) })),
    width,
    height,
  };
}

/**
 * The SVG path of `edge` between the laid-out nodes `from` and `to`, and where its label goes:
 * {d, labelX, labelY}. Forward edges leave a box's right side for the next box's left side;
 * an edge back to an earlier (or the same) column loops under both boxes; a call to itself is
 * a small loop on the box's top.
 */
export function edgePath(from, to) {
  const r = (v) => Math.round(v * 10) / 10;
  if (from.id === to.id) {
    const x = from.x + NODE_WIDTH - 34;
    const y = from.y;
    return { d: `M${r(x)},${r(y)} C${r(x - 6)},${r(y - 30)} ${r(x + 30)},${r(y - 30)} ${r(x + 24)},${r(y)}`, labelX: r(x + 10), labelY: r(y - 26) };
  }
  if (to.layer > from.layer) {
    const x1 = from.x + NODE_WIDTH;
    const y1 = from.y + NODE_HEIGHT / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_HEIGHT / 2;
    const bend = Math.max((x2 - x1) / 2, 30);
    return {
      d: `M${r(x1)},${r(y1)} C${r(x1 + bend)},${r(y1)} ${r(x2 - bend)},${r(y2)} ${r(x2)},${r(y2)}`,
      labelX: r((x1 + x2) / 2),
      labelY: r((y1 + y2) / 2),
    };
  }
  // Backwards or within a column: out of the caller's bottom, round under, into the callee's
  // bottom, so it never runs through the boxes between.
  const x1 = from.x + NODE_WIDTH / 2 + 12;
  const y1 = from.y + NODE_HEIGHT;
  const x2 = to.x + NODE_WIDTH / 2 - 12;
  const y2 = to.y + NODE_HEIGHT;
  const low = Math.max(y1, y2) + ROW_GAP * 0.9;
  return {
    d: `M${r(x1)},${r(y1)} C${r(x1)},${r(low)} ${r(x2)},${r(low)} ${r(x2)},${r(y2)}`,
    labelX: r((x1 + x2) / 2),
    labelY: r(low - ROW_GAP * 0.15),
  };
}

/** Each id's strongly connected component (Tarjan's), as a number. */
function components(ids, out) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const component = new Map();
  const connect = (id) => {
    index.set(id, index.size);
    low.set(id, index.get(id));
    stack.push(id);
    onStack.add(id);
    for (const next of out.get(id)) {
      if (!index.has(next)) {
        connect(next);
        low.set(id, Math.min(low.get(id), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id), index.get(next)));
      }
    }
    if (low.get(id) === index.get(id)) {
      const n = component.size;
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.set(member, n);
      } while (member !== id);
    }
  };
  for (const id of ids) if (!index.has(id)) connect(id);
  return component;
}
