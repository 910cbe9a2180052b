/**
 * Number, money and text formatting shared by the Markdown and HTML renderers. Bytes are
 * formatted by `formatBytes` in lib/report/units.ts, the one byte format of every output.
 */

/** `$12.34`, `12.34 EUR`; amounts under a cent keep two significant digits so they do not read as zero. */
export function formatMoney(amount: number | null | undefined, currency: string | null): string {
  if (amount === null || amount === undefined) return '–';
  const magnitude = Math.abs(amount);
  const text = magnitude > 0 && magnitude < 0.01 ? String(Number(magnitude.toPrecision(2))) : magnitude.toFixed(2);
  const signed = `${amount < 0 ? '-' : ''}${currency === 'USD' ? '$' : ''}${text}`;
  return currency === 'USD' || currency === null ? signed : `${signed} ${currency}`;
}

/** A price per unit with enough digits (`$0.003`). */
export function formatPrice(amount: number, currency: string): string {
  const cents = amount * 100;
  const text = Math.abs(cents - Math.round(cents)) < 1e-9 ? amount.toFixed(2) : String(Number(amount.toPrecision(4)));
  return currency === 'USD' ? `$${text}` : `${text} ${currency}`;
}

/** `2026-11-23 10:15 UTC`, or `unknown`. */
export function formatTime(iso: string | null): string {
  if (iso === null) return 'unknown';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return 'unknown';
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `sha256:0123456789ab` (the first 12 hex digits, like `docker images`). */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return hex === undefined ? digest.slice(0, 19) : `${algorithm}:${hex.slice(0, 12)}`;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Escapes text for a Markdown table cell: pipes split cells, backticks and asterisks format,
 * angle brackets become HTML on GitHub, and a newline ends the row.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/[|`*_[\]#]/g, (char) => `\\${char}`)
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, ' ');
}

/**
 * Escapes prose (a note, a list item) but keeps its `code spans`: the notes we write quote commands
 * in backticks, and escaping those would print the backslashes. Unpaired backticks are escaped.
 */
export function escapeMarkdownProse(text: string): string {
  const parts = text.split(/(`[^`\n]+`)/);
  return parts.map((part, index) => (index % 2 === 1 ? part : escapeMarkdown(part))).join('');
}

/** `+12%`, `-3%`, or `–` when there is no base. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '–';
  const percent = (part / whole) * 100;
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}
