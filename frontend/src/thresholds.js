// Grafana's thresholds and its named colours: the colour of a value, as stat, gauge and bar
// gauge panels use it and as time series draw their threshold lines.

/** Grafana's palette names (the "classic" theme's values). Unknown names pass through as CSS. */
export const NAMED_COLORS = {
  green: '#73BF69', 'dark-green': '#37872D', 'semi-dark-green': '#56A64B', 'light-green': '#96D98D', 'super-light-green': '#C8F2C2',
  red: '#F2495C', 'dark-red': '#C4162A', 'semi-dark-red': '#E02F44', 'light-red': '#FF7383', 'super-light-red': '#FFA6B0',
  yellow: '#FADE2A', 'dark-yellow': '#E0B400', 'semi-dark-yellow': '#F2CC0C', 'light-yellow': '#FFEE52', 'super-light-yellow': '#FFF899',
  orange: '#FF9830', 'dark-orange': '#FA6400', 'semi-dark-orange': '#FF780A', 'light-orange': '#FFB357', 'super-light-orange': '#FFCB7D',
  blue: '#5794F2', 'dark-blue': '#1F60C4', 'semi-dark-blue': '#3274D9', 'light-blue': '#8AB8FF', 'super-light-blue': '#C0D8FF',
  purple: '#B877D9', 'dark-purple': '#8F3BB8', 'semi-dark-purple': '#A352CC', 'light-purple': '#CA95E5', 'super-light-purple': '#DEB6F2',
  text: '#CCCCDC', transparent: 'transparent',
};

const CSS_COLOR = /^(#[0-9a-fA-F]{3,8}|rgba?\([\d\s.,%]+\)|hsla?\([\d\s.,%deg]+\)|[a-zA-Z]+)$/;

/** A CSS colour for a Grafana colour name or value; anything else is the text colour. */
export function cssColor(name) {
  if (typeof name !== 'string') return NAMED_COLORS.text;
  if (name in NAMED_COLORS) return NAMED_COLORS[name];
  return CSS_COLOR.test(name.trim()) ? name.trim() : NAMED_COLORS.text;
}

/** The steps of `thresholds` ({mode, steps:[{color, value}]}), base (-Infinity) first. */
export function steps(thresholds) {
  const list = Array.isArray(thresholds?.steps) ? thresholds.steps : [];
  return list
    .filter((s) => s && typeof s === 'object')
    .map((s) => ({ color: cssColor(s.color), value: typeof s.value === 'number' ? s.value : -Infinity }))
    .sort((a, b) => a.value - b.value);
}

/**
 * The colour of `value`: the last step at or below it. Percentage thresholds are percentages of
 * the [min, max] range.
 */
export function thresholdColor(value, thresholds, min = 0, max = 100, fallback = NAMED_COLORS.green) {
  const list = steps(thresholds);
  if (list.length === 0 || value === null || value === undefined || Number.isNaN(value)) return fallback;
  const pct = thresholds?.mode === 'percentage';
  const x = pct ? ((value - min) / (max - min || 1)) * 100 : value;
  let color = list[0].color;
  for (const s of list) if (x >= s.value) color = s.color;
  return color;
}

/** Absolute threshold values (percentages turned into values over [min, max]). */
export function thresholdValues(thresholds, min, max) {
  const pct = thresholds?.mode === 'percentage';
  return steps(thresholds)
    .filter((s) => Number.isFinite(s.value))
    .map((s) => ({ color: s.color, value: pct ? min + ((max - min) * s.value) / 100 : s.value }));
}
