// Grafana's value units (fieldConfig.defaults.unit): the common ids, formatted as Grafana shows
// them. An id not listed here formats as a plain number followed by nothing (as `none`), and a
// `suffix:<text>`/`prefix:<text>` custom unit adds its text.

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const SI_SMALL = ['', 'm', 'µ', 'n', 'p'];
const IEC = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

function fixed(value, decimals) {
  if (!Number.isFinite(value)) return String(value);
  if (decimals !== undefined && decimals !== null) return value.toFixed(Math.min(Math.max(decimals, 0), 20));
  const abs = Math.abs(value);
  // Grafana's automatic decimals: enough to show about three significant digits.
  if (abs === 0) return '0';
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : Math.min(Math.ceil(-Math.log10(abs)) + 2, 10);
  return String(Number(value.toFixed(digits)));
}

function scaled(value, base, prefixes, unit, decimals, spaced = true) {
  let v = value;
  let i = 0;
  while (Math.abs(v) >= base && i < prefixes.length - 1) {
    v /= base;
    i += 1;
  }
  const text = `${prefixes[i]}${unit}`;
  return `${fixed(v, decimals)}${text ? (spaced ? ' ' : '') + text : ''}`;
}

/** 1000-based with small prefixes too (m, µ, n) for values below 1, e.g. seconds as SI. */
function siBoth(value, unit, decimals) {
  if (value !== 0 && Math.abs(value) < 1) {
    let v = value;
    let i = 0;
    while (Math.abs(v) < 1 && i < SI_SMALL.length - 1) {
      v *= 1000;
      i += 1;
    }
    return `${fixed(v, decimals)} ${SI_SMALL[i]}${unit}`;
  }
  return scaled(value, 1000, SI, unit, decimals);
}

/** A duration from `value` in `unitSeconds`, in the largest unit that keeps it above 1. */
function duration(value, unitSeconds, decimals) {
  const s = value * unitSeconds;
  const abs = Math.abs(s);
  const steps = [
    [31536000, 'year'], [604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'min'],
    [1, 's'], [1e-3, 'ms'], [1e-6, 'µs'], [1e-9, 'ns'],
  ];
  if (abs === 0) return `0 ${unitSeconds === 1 ? 's' : unitSeconds === 1e-3 ? 'ms' : unitSeconds === 1e-6 ? 'µs' : 'ns'}`;
  for (const [size, name] of steps) {
    if (abs >= size || size === 1e-9) return `${fixed(s / size, decimals)} ${name}`;
  }
  return `${fixed(s, decimals)} s`;
}

const UNITS = {
  none: (v, d) => fixed(v, d),
  short: (v, d) => (Math.abs(v) < 1000 ? fixed(v, d) : scaled(v, 1000, ['', ' K', ' Mil', ' Bil', ' Tri'], '', d, false)),
  percent: (v, d) => `${fixed(v, d)}%`,
  percentunit: (v, d) => `${fixed(v * 100, d)}%`,
  humidity: (v, d) => `${fixed(v, d)}%H`,
  dB: (v, d) => `${fixed(v, d)} dB`,
  s: (v, d) => duration(v, 1, d),
  ms: (v, d) => duration(v, 1e-3, d),
  µs: (v, d) => duration(v, 1e-6, d),
  us: (v, d) => duration(v, 1e-6, d),
  ns: (v, d) => duration(v, 1e-9, d),
  m: (v, d) => duration(v, 60, d),
  h: (v, d) => duration(v, 3600, d),
  d: (v, d) => duration(v, 86400, d),
  bytes: (v, d) => scaled(v, 1024, IEC, 'B', d),
  decbytes: (v, d) => scaled(v, 1000, SI, 'B', d),
  bits: (v, d) => scaled(v, 1024, IEC, 'b', d),
  decbits: (v, d) => scaled(v, 1000, SI, 'b', d),
  kbytes: (v, d) => scaled(v * 1024, 1024, IEC, 'B', d),
  mbytes: (v, d) => scaled(v * 1024 * 1024, 1024, IEC, 'B', d),
  Bps: (v, d) => scaled(v, 1000, SI, 'B/s', d),
  binBps: (v, d) => scaled(v, 1024, IEC, 'B/s', d),
  bps: (v, d) => scaled(v, 1000, SI, 'b/s', d),
  binbps: (v, d) => scaled(v, 1024, IEC, 'b/s', d),
  reqps: (v, d) => `${fixed(v, d)} req/s`,
  rps: (v, d) => `${fixed(v, d)} req/s`,
  ops: (v, d) => `${fixed(v, d)} ops/s`,
  wps: (v, d) => `${fixed(v, d)} wps`,
  iops: (v, d) => `${fixed(v, d)} io/s`,
  opm: (v, d) => `${fixed(v, d)} ops/min`,
  reqpm: (v, d) => `${fixed(v, d)} req/min`,
  hertz: (v, d) => siBoth(v, 'Hz', d),
  celsius: (v, d) => `${fixed(v, d)}°C`,
  volt: (v, d) => siBoth(v, 'V', d),
  watt: (v, d) => siBoth(v, 'W', d),
  bool: (v) => (v ? 'True' : 'False'),
  bool_on_off: (v) => (v ? 'On' : 'Off'),
  currencyUSD: (v, d) => `$${fixed(v, d ?? 2)}`,
  currencyEUR: (v, d) => `€${fixed(v, d ?? 2)}`,
  dateTimeAsIso: (v) => new Date(v).toISOString(),
};

/** Whether Spyglass knows `unit` (else the value shows as a plain number). */
export function knownUnit(unit) {
  return !unit || unit in UNITS || /^(suffix|prefix):/.test(unit);
}

/** `value` as Grafana shows it in `unit` with `decimals` (undefined: automatic). */
export function formatUnit(value, unit, decimals) {
  if (value === null || value === undefined) return 'No data';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  const d = Number.isInteger(decimals) ? decimals : undefined;
  if (unit && unit.startsWith('suffix:')) return `${fixed(value, d)}${unit.slice(7)}`;
  if (unit && unit.startsWith('prefix:')) return `${unit.slice(7)}${fixed(value, d)}`;
  const f = UNITS[unit || 'none'] ?? UNITS.none;
  return f(value, d);
}
