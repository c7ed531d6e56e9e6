// The admin console: live sessions (updated every second, force-end) and the history.

import { byId } from "../shared/dom";
import { ConfirmDialog } from "./confirm";
import { HistorySearch } from "./history";
import { LiveTable } from "./live";

function statusLine(element: HTMLElement): (text: string, important?: boolean) => void {
  return (text, important = false) => {
    element.textContent = text;
    element.classList.toggle("important", important);
  };
}

const confirmEnd = new ConfirmDialog(
  byId<HTMLDialogElement>("confirm-end"),
  byId("confirm-id"),
  byId<HTMLButtonElement>("confirm-yes"),
  byId<HTMLButtonElement>("confirm-cancel"),
);
new LiveTable(
  byId<HTMLTableElement>("live-table"),
  byId<HTMLTableSectionElement>("live-rows"),
  byId("live-empty"),
  byId("live-count"),
  confirmEnd,
  statusLine(byId("status")),
).start();
void new HistorySearch(
  byId<HTMLFormElement>("history-form"),
  byId<HTMLTableSectionElement>("history-rows"),
  statusLine(byId("history-status")),
).search();
