// The confirm step before a force-end: a modal dialog, focused on Cancel, so a
// stray click or Enter never ends somebody's session.

export class ConfirmDialog {
  private onConfirm: (() => void) | null = null;

  constructor(
    private readonly dialog: HTMLDialogElement,
    private readonly label: HTMLElement,
    confirm: HTMLButtonElement,
    private readonly cancel: HTMLButtonElement,
  ) {
    confirm.addEventListener("click", () => {
      const confirmed = this.onConfirm;
      this.dialog.close();
      confirmed?.();
    });
    cancel.addEventListener("click", () => this.dialog.close());
    // Escape closes the dialog too; whichever way it closes, nothing is pending.
    dialog.addEventListener("close", () => {
      this.onConfirm = null;
    });
  }

  ask(subject: string, onConfirm: () => void): void {
    if (this.dialog.open) return;
    this.label.textContent = subject;
    this.onConfirm = onConfirm;
    this.dialog.showModal();
    this.cancel.focus();
  }
}
