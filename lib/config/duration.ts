/**
 * Durations as users write them: `30m`, `12h`, `3d`, `2w`, compounds like `2d3h`, or ISO 8601
 * (`P3D`, `PT12H`, `P1W`, `P1DT2H`). Bounded so a typo cannot overflow into "delete everything"
 * (acr purge #83, #560).
 */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** 100 years: longer than any registry has existed, short enough to stay an exact integer. */
export const MAX_DURATION_MS = 100 * 365 * UNIT_MS.d;

const SHORT = /^(?:\d+[smhdw])+$/;
const SHORT_PART = /(\d+)([smhdw])/g;
const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Milliseconds for a duration string, or an error message saying what is expected. */
export function parseDuration(text: string): { ok: true; ms: number } | { ok: false; error: string } {
  const trimmed = text.trim();
  let ms: number | null = null;
  if (SHORT.test(trimmed)) {
    ms = 0;
    for (const [, amount, unit] of trimmed.matchAll(SHORT_PART)) {
      ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
    }
  } else {
    const iso = ISO.exec(trimmed);
    if (iso && trimmed !== 'P' && !trimmed.endsWith('T')) {
      const [, w, d, h, m, s] = iso.map((part) => Number(part ?? 0));
      ms = w! * UNIT_MS.w + d! * UNIT_MS.d + h! * UNIT_MS.h + m! * UNIT_MS.m + s! * UNIT_MS.s;
    }
  }
  if (ms === null) {
    return { ok: false, error: `expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "${text}"` };
  }
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) {
    return { ok: false, error: `duration "${text}" is longer than 100 years; write a shorter one` };
  }
  return { ok: true, ms };
}
