"use client";

import type { ReactNode } from "react";

import { buttonPrimary, buttonSecondary } from "./ui";

/**
 * An action that cannot be undone, in two steps: its button, then what it will do (`question`,
 * any options) with "yes" and "Cancel". While `busy`, the buttons are disabled and "yes" spins.
 */
export function ConfirmAction({
  label,
  confirmLabel,
  confirming,
  busy,
  onAsk,
  onConfirm,
  onCancel,
  children,
}: {
  label: string;
  confirmLabel: string;
  confirming: boolean;
  busy: boolean;
  onAsk: () => void;
  onConfirm: () => void;
  onCancel: () => void;
  /** The question and options shown before the buttons once asked. */
  children: ReactNode;
}) {
  return (
    <div className="mt-4 flex flex-wrap items-center gap-3">
      {!confirming && !busy ? (
        <button type="button" className={buttonPrimary} onClick={onAsk}>
          {label}
        </button>
      ) : (
        <>
          {children}
          <button type="button" className={buttonPrimary} disabled={busy} onClick={onConfirm}>
            {busy && (
              <span
                aria-hidden="true"
                className="size-4 animate-spin rounded-full border-2 border-white/40 border-t-white"
              />
            )}
            {confirmLabel}
          </button>
          <button type="button" className={buttonSecondary} disabled={busy} onClick={onCancel}>
            Cancel
          </button>
        </>
      )}
    </div>
  );
}
