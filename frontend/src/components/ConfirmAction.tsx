"use client";

import { useEffect, useId, useRef, type ReactNode, type RefObject } from "react";

import { buttonDanger, buttonPrimary, buttonSecondary, ButtonSpinner } from "./ui";

/**
 * The second step of an action that cannot be undone: what it will do (`children`), "yes" and
 * a way out (`dismissLabel`). Focus moves to the way out when it appears, so that a second
 * press of Enter does not confirm by accident; both buttons are described by the question, and
 * Escape dismisses. While `busy`, the buttons are disabled and "yes" spins. It renders its
 * parts side by side: the caller provides the row they sit in.
 */
export function ConfirmPrompt({
  confirmLabel,
  dismissLabel = "Cancel",
  tone = "primary",
  busy,
  onConfirm,
  onDismiss,
  children,
}: {
  confirmLabel: string;
  dismissLabel?: string;
  /** "danger" for an action that destroys something (red "yes"). */
  tone?: "primary" | "danger";
  busy: boolean;
  onConfirm: () => void;
  onDismiss: () => void;
  /** The question and options shown before the buttons. */
  children: ReactNode;
}) {
  const questionId = useId();
  const dismissRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    dismissRef.current?.focus();
  }, []);
  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === "Escape" && !busy) {
      event.preventDefault();
      onDismiss();
    }
  };
  return (
    <>
      <div id={questionId} className="min-w-0">
        {children}
      </div>
      <button
        type="button"
        className={tone === "danger" ? buttonDanger : buttonPrimary}
        disabled={busy}
        aria-describedby={questionId}
        onClick={onConfirm}
        onKeyDown={onKeyDown}
      >
        {busy && (
          <ButtonSpinner />
        )}
        {confirmLabel}
      </button>
      <button
        ref={dismissRef}
        type="button"
        className={buttonSecondary}
        disabled={busy}
        aria-describedby={questionId}
        onClick={onDismiss}
        onKeyDown={onKeyDown}
      >
        {dismissLabel}
      </button>
    </>
  );
}

/**
 * Puts focus back on `target` when `open` turns false and focus was lost with what closed (the
 * prompt's buttons), rather than leaving it on the page's body.
 */
export function useFocusOnClose(open: boolean, target: RefObject<HTMLElement | null>) {
  const wasOpen = useRef(open);
  useEffect(() => {
    const active = document.activeElement;
    if (wasOpen.current && !open && (active === null || active === document.body)) {
      target.current?.focus();
    }
    wasOpen.current = open;
  }, [open, target]);
}

/**
 * An action that cannot be undone, in two steps: its button, then what it will do (`question`,
 * any options) with "yes" and "Cancel" (see `ConfirmPrompt`). Focus comes back to the button
 * when the question is dismissed or the action fails.
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
  const open = confirming || busy;
  const triggerRef = useRef<HTMLButtonElement>(null);
  useFocusOnClose(open, triggerRef);
  return (
    <div className="mt-4 flex flex-wrap items-center gap-3">
      {!open ? (
        <button ref={triggerRef} type="button" className={buttonPrimary} onClick={onAsk}>
          {label}
        </button>
      ) : (
        <ConfirmPrompt
          confirmLabel={confirmLabel}
          busy={busy}
          onConfirm={onConfirm}
          onDismiss={onCancel}
        >
          {children}
        </ConfirmPrompt>
      )}
    </div>
  );
}
