"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";

import { api } from "@/lib/api/client";
import { unwrap } from "@/lib/api/errors";
import type { Campaign, RecipientRow } from "@/lib/api/types";
import {
  MAX_PREFILL_RECIPIENTS,
  RECIPIENT_PAGE,
  duplicateChoices,
  duplicateFailure,
  isEditable,
  recipientsText,
  type DuplicateWhich,
} from "@/lib/campaign-edit";
import { useMe } from "@/lib/queries";
import { browserTimeZone, instantToLocal } from "@/lib/schedule";
import { can } from "@/lib/scopes";

import { NewCampaignForm } from "./NewCampaignForm";
import type { EditStart } from "./new-campaign/use-edit-campaign";
import { TestSendPanel } from "./TestSendPanel";
import { buttonPrimary, buttonSecondary, ButtonSpinner, Card, Spinner } from "./ui";

/** Loads what the editor starts from: the body, and the recipients when there are not too many. */
async function loadStart(campaign: Campaign): Promise<EditStart> {
  const path = { id: campaign.id };
  const full = await unwrap(
    api().GET("/api/emails/{id}", { params: { path, query: { includeBody: true } } }),
  );
  const rows: RecipientRow[] = [];
  const prefilled = full.totalEmails <= MAX_PREFILL_RECIPIENTS;
  if (prefilled) {
    for (let page = 1; rows.length < full.totalEmails; page += 1) {
      const answer = await unwrap(
        api().GET("/api/emails/{id}/recipients", {
          params: { path, query: { page, perPage: RECIPIENT_PAGE } },
        }),
      );
      rows.push(...answer.items);
      if (answer.items.length === 0 || page >= answer.totalPages) break;
    }
  }
  const scheduledAt = full.scheduledAt ?? null;
  return {
    subject: full.subject,
    body: full.body ?? "",
    pasted: prefilled ? recipientsText(rows) : "",
    prefilled,
    scheduledAt,
    sendAt: scheduledAt ? instantToLocal(scheduledAt, browserTimeZone()) : "",
  };
}

type Open =
  | { kind: "none" }
  | { kind: "loading-edit" }
  | { kind: "edit"; start: EditStart }
  | { kind: "duplicate" }
  | { kind: "test" };

/**
 * The campaign's "Edit" (a draft or a scheduled campaign, for a key that may create campaigns,
 * and send them when it is scheduled) and "Duplicate" (any campaign, for a key that may create
 * campaigns). Edit opens the new-campaign form on the campaign's content and saves what changed;
 * Duplicate asks which recipients to take and opens the new draft. "Send test" (any campaign, for
 * a key that may send campaigns) sends its message to a few addresses now.
 */
export function CampaignActions({ campaign }: { campaign: Campaign }) {
  const me = useMe();
  const router = useRouter();
  const queryClient = useQueryClient();
  const canCreate = can(me, "campaigns:create");
  const canSend = can(me, "campaigns:send");
  const canEdit =
    canCreate &&
    isEditable(campaign.status) &&
    (campaign.status !== "SCHEDULED" || can(me, "campaigns:send"));
  const [open, setOpen] = useState<Open>({ kind: "none" });
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const editRef = useRef<HTMLButtonElement>(null);
  const duplicateRef = useRef<HTMLButtonElement>(null);
  const testRef = useRef<HTMLButtonElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  // The editor goes when the campaign can no longer be edited (it went out meanwhile).
  if ((open.kind === "edit" || open.kind === "loading-edit") && !canEdit) {
    setOpen({ kind: "none" });
  }

  /** Reads everything about this campaign again. */
  function refresh() {
    return queryClient.invalidateQueries({
      predicate: (query) => JSON.stringify(query.queryKey).includes(campaign.id),
    });
  }

  async function startEdit() {
    setError(null);
    setAnnouncement("");
    setOpen({ kind: "loading-edit" });
    try {
      const start = await loadStart(campaign);
      setOpen({ kind: "edit", start });
    } catch {
      setOpen({ kind: "none" });
      setError("The campaign could not be loaded for editing. Try again.");
      editRef.current?.focus();
    }
  }

  if (!canCreate && !canSend) return null;
  return (
    <div>
      <div className="flex flex-wrap items-center gap-2">
        {canEdit && (
          <button
            ref={editRef}
            type="button"
            className={buttonSecondary}
            aria-expanded={open.kind === "edit" || open.kind === "loading-edit"}
            disabled={open.kind === "loading-edit"}
            onClick={() => void startEdit()}
          >
            Edit
          </button>
        )}
        {canCreate && (
          <button
            ref={duplicateRef}
            type="button"
            className={buttonSecondary}
            aria-expanded={open.kind === "duplicate"}
            onClick={() => {
              setError(null);
              setOpen({ kind: "duplicate" });
            }}
          >
            Duplicate
          </button>
        )}
        {canSend && (
          <button
            ref={testRef}
            type="button"
            className={buttonSecondary}
            aria-expanded={open.kind === "test"}
            onClick={() => {
              setError(null);
              setOpen({ kind: "test" });
            }}
          >
            Send test
          </button>
        )}
      </div>
      <div>
        {error && (
          <p role="alert" className="mt-2 text-sm font-medium text-red-800">
            {error}
          </p>
        )}
        <p role="status" className="sr-only">
          {announcement}
        </p>
        {open.kind === "loading-edit" && (
          <div className="mt-3">
            <Spinner label="Loading the campaign for editing" />
          </div>
        )}
        {open.kind === "edit" && (
          <div className="mt-4">
            <Card title="Edit campaign" headingId="edit-heading" headingRef={headingRef}>
              <EditFocus headingRef={headingRef} />
              <NewCampaignForm
                edit={{
                  campaignId: campaign.id,
                  scheduled: campaign.status === "SCHEDULED",
                  totalEmails: campaign.totalEmails,
                  start: open.start,
                  onSaved: (saved) => {
                    setOpen({ kind: "none" });
                    setAnnouncement(saved ? "The changes are saved." : "Nothing had changed.");
                    if (saved) void refresh();
                    requestAnimationFrame(() => editRef.current?.focus());
                  },
                  onCancel: () => {
                    setOpen({ kind: "none" });
                    requestAnimationFrame(() => editRef.current?.focus());
                  },
                }}
              />
            </Card>
          </div>
        )}
        {open.kind === "duplicate" && (
          <DuplicatePanel
            campaign={campaign}
            onCancel={() => {
              setOpen({ kind: "none" });
              requestAnimationFrame(() => duplicateRef.current?.focus());
            }}
            onCreated={(id) => router.push(`/campaigns/${id}`)}
          />
        )}
        {open.kind === "test" && (
          <TestSendPanel
            campaign={campaign}
            onClose={() => {
              setOpen({ kind: "none" });
              requestAnimationFrame(() => testRef.current?.focus());
            }}
          />
        )}
      </div>
    </div>
  );
}

/** Moves focus to the editor's heading when it opens. */
function EditFocus({ headingRef }: { headingRef: React.RefObject<HTMLHeadingElement | null> }) {
  useEffect(() => {
    headingRef.current?.focus();
  }, [headingRef]);
  return null;
}

/** Which recipients the copy takes, then "Create the draft". */
function DuplicatePanel({
  campaign,
  onCancel,
  onCreated,
}: {
  campaign: Campaign;
  onCancel: () => void;
  onCreated: (id: string) => void;
}) {
  const choices = duplicateChoices(campaign);
  const [which, setWhich] = useState<DuplicateWhich>(choices[0]?.which ?? "all");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const firstRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    firstRef.current?.focus();
  }, []);

  async function duplicate() {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const created = await unwrap(
        api().POST("/api/emails/{id}/duplicate", {
          params: { path: { id: campaign.id } },
          body: { recipients: which },
        }),
      );
      onCreated(created.id);
    } catch (caught) {
      setError(duplicateFailure(which, caught));
      setBusy(false);
    }
  }

  return (
    <form
      aria-label="Duplicate"
      className="mt-4 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-xs sm:p-5"
      onSubmit={(event) => {
        event.preventDefault();
        void duplicate();
      }}
      onKeyDown={(event) => {
        if (event.key === "Escape" && !busy) {
          event.preventDefault();
          onCancel();
        }
      }}
    >
      <fieldset>
        <legend className="font-semibold text-slate-900">
          Duplicate as a new draft, with the same subject and message, for:
        </legend>
        <div className="mt-2 space-y-1.5">
          {choices.map((choice, index) => (
            <div key={choice.which} className="flex items-center gap-2">
              <input
                ref={index === 0 ? firstRef : undefined}
                type="radio"
                id={`${id}-${choice.which}`}
                name={`${id}-which`}
                value={choice.which}
                checked={which === choice.which}
                onChange={() => setWhich(choice.which)}
                className="size-4 accent-blue-700"
              />
              <label htmlFor={`${id}-${choice.which}`}>{choice.label}</label>
            </div>
          ))}
        </div>
      </fieldset>
      {error && (
        <p role="alert" className="mt-3 font-medium text-red-800">
          {error}
        </p>
      )}
      <div className="mt-4 flex flex-wrap items-center gap-3">
        <button type="submit" className={buttonPrimary} disabled={busy}>
          {busy && (
            <ButtonSpinner />
          )}
          Create the draft
        </button>
        <button type="button" className={buttonSecondary} disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
