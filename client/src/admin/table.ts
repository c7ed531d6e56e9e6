// How the admin console's tables show times, durations and names.

const NONE = "—";

function twoDigits(value: number): string {
  return String(value).padStart(2, "0");
}

/** "0:07", "12:03", "1:02:03". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return NONE;
  const whole = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = twoDigits(whole % 60);
  return hours > 0 ? `${hours}:${twoDigits(minutes)}:${rest}` : `${minutes}:${rest}`;
}

/** An ISO 8601 moment in the browser's time zone: "2026-12-01 09:30:05". */
export function formatMoment(iso: string | null): string {
  if (iso === null) return NONE;
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  const date = `${moment.getFullYear()}-${twoDigits(moment.getMonth() + 1)}-${twoDigits(moment.getDate())}`;
  const time = `${twoDigits(moment.getHours())}:${twoDigits(moment.getMinutes())}:${twoDigits(moment.getSeconds())}`;
  return `${date} ${time}`;
}

export function orNone(value: string | null): string {
  return value ?? NONE;
}

/** A table cell with plain text (never markup: names come from users and sites). */
export function textCell(text: string, className?: string): HTMLTableCellElement {
  const cell = document.createElement("td");
  cell.textContent = text;
  if (className) cell.className = className;
  return cell;
}
